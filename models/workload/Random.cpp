#include "workload/Random.h"

#include <algorithm>
#include <cmath>

namespace tlmmu {

std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

namespace {
inline std::uint64_t rotl(std::uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}
} // namespace

void Xoshiro256ss::reseed(std::uint64_t seed) {
    // splitmix64 expansion never yields the all-zero state xoshiro must avoid.
    std::uint64_t sm = seed;
    for (auto& word : s_)
        word = splitmix64(sm);
}

std::uint64_t Xoshiro256ss::next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
}

std::uint64_t Xoshiro256ss::below(std::uint64_t n) {
    unsigned __int128 m = static_cast<unsigned __int128>(next()) * n;
    auto low = static_cast<std::uint64_t>(m);
    if (low < n) {
        const std::uint64_t threshold = (0 - n) % n; // 2^64 mod n
        while (low < threshold) {
            m = static_cast<unsigned __int128>(next()) * n;
            low = static_cast<std::uint64_t>(m);
        }
    }
    return static_cast<std::uint64_t>(m >> 64);
}

// --- ZipfSampler -------------------------------------------------------------------------------

namespace {
// log1p(x)/x, stable near 0.
double helper1(double x) {
    return std::fabs(x) > 1e-8 ? std::log1p(x) / x : 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
}
// expm1(x)/x, stable near 0.
double helper2(double x) {
    return std::fabs(x) > 1e-8 ? std::expm1(x) / x
                               : 1.0 + x * 0.5 * (1.0 + x * (1.0 / 3.0) * (1.0 + 0.25 * x));
}
} // namespace

ZipfSampler::ZipfSampler(std::uint64_t n, double theta) : n_(n), theta_(theta) {
    hIntegralX1_ = hIntegral(1.5) - 1.0;
    hIntegralN_ = hIntegral(static_cast<double>(n_) + 0.5);
    s_ = 2.0 - hIntegralInverse(hIntegral(2.5) - h(2.0));
}

double ZipfSampler::h(double x) const {
    return std::exp(-theta_ * std::log(x));
}

double ZipfSampler::hIntegral(double x) const {
    const double logX = std::log(x);
    return helper2((1.0 - theta_) * logX) * logX;
}

double ZipfSampler::hIntegralInverse(double x) const {
    double t = x * (1.0 - theta_);
    if (t < -1.0) t = -1.0; // numerical guard, only hit through rounding
    return std::exp(helper1(t) * x);
}

std::uint64_t ZipfSampler::sample(Xoshiro256ss& rng) const {
    for (;;) {
        const double u = hIntegralN_ + rng.nextDouble() * (hIntegralX1_ - hIntegralN_);
        const double x = hIntegralInverse(u);
        double kd = std::floor(x + 0.5);
        kd = std::clamp(kd, 1.0, static_cast<double>(n_));
        const auto k = static_cast<std::uint64_t>(kd);
        if (kd - x <= s_ || u >= hIntegral(kd + 0.5) - h(kd)) return k;
    }
}

// --- IndexPermutation --------------------------------------------------------------------------

IndexPermutation::IndexPermutation(std::uint64_t n, std::uint64_t seed) : n_(n) {
    unsigned bits = 1;
    while (bits < 64 && (std::uint64_t{1} << bits) < n_)
        ++bits;
    halfBits_ = (bits + 1) / 2;
    halfMask_ = (std::uint64_t{1} << halfBits_) - 1;
    std::uint64_t sm = seed ^ 0x5ca1ab1e0ddba11ULL; // decorrelate from the address stream
    for (auto& key : keys_)
        key = splitmix64(sm);
}

std::uint64_t IndexPermutation::encrypt(std::uint64_t x) const {
    std::uint64_t left = (x >> halfBits_) & halfMask_;
    std::uint64_t right = x & halfMask_;
    for (std::uint64_t key : keys_) {
        std::uint64_t state = right ^ key;
        const std::uint64_t f = splitmix64(state) & halfMask_;
        const std::uint64_t newRight = left ^ f;
        left = right;
        right = newRight;
    }
    return (left << halfBits_) | right;
}

std::uint64_t IndexPermutation::operator()(std::uint64_t index) const {
    if (n_ <= 1) return 0;
    // Cycle walking: the Feistel domain is < 4n, so this loops fewer than 4 times on average,
    // and it terminates because a permutation's cycle through `index` returns into [0, n).
    std::uint64_t x = encrypt(index);
    while (x >= n_)
        x = encrypt(x);
    return x;
}

} // namespace tlmmu
