// Portable random numbers for the synthetic workloads: the same seed gives the same stream on
// every platform and standard library. std::*_distribution is implementation-defined, so every
// mapping from bits to values is written here.
#pragma once

#include <cstdint>

namespace tlmmu {

// splitmix64 step: seeds xoshiro and serves as the keyed mixing function of IndexPermutation.
std::uint64_t splitmix64(std::uint64_t& state);

// xoshiro256** (Blackman & Vigna): fast, 256-bit state, good statistical quality.
class Xoshiro256ss {
  public:
    explicit Xoshiro256ss(std::uint64_t seed) { reseed(seed); }
    void reseed(std::uint64_t seed);
    std::uint64_t next();
    // Uniform in [0, 1) with 53 random bits (the top bits, which are the best ones).
    double nextDouble() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    // Uniform in [0, n), n > 0, unbiased (Lemire's multiply-and-reject).
    std::uint64_t below(std::uint64_t n);

  private:
    std::uint64_t s_[4];
};

// Zipf ranks in [1, n] with P(k) proportional to k^-theta, theta > 0, by rejection-inversion
// (Hoermann & Derflinger 1996, as in Apache Commons RNG): O(1) time and memory per sample, so a
// footprint of millions of pages costs no table. Uses log/exp from libm, whose results are
// correctly rounded in practice on the platforms we build for.
class ZipfSampler {
  public:
    ZipfSampler(std::uint64_t n, double theta);
    std::uint64_t sample(Xoshiro256ss& rng) const;

  private:
    double h(double x) const;
    double hIntegral(double x) const;
    double hIntegralInverse(double x) const;

    std::uint64_t n_;
    double theta_;
    double hIntegralX1_;
    double hIntegralN_;
    double s_;
};

// A keyed bijection of [0, n): a 4-round Feistel network over the smallest even number of bits
// that covers n, with cycle walking to stay inside the range. O(1) memory, unlike a stored
// shuffle, so it scales to any footprint; the zipf pattern uses it to scatter hot ranks.
class IndexPermutation {
  public:
    IndexPermutation(std::uint64_t n, std::uint64_t seed);
    std::uint64_t operator()(std::uint64_t index) const;

  private:
    std::uint64_t encrypt(std::uint64_t x) const;

    std::uint64_t n_;
    unsigned halfBits_ = 1;
    std::uint64_t halfMask_ = 1;
    std::uint64_t keys_[4];
};

} // namespace tlmmu
