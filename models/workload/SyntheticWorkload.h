// Generated workloads (no file): stream, strided, random, zipf and gups access patterns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "workload/Random.h"
#include "workload/Workload.h"

namespace tlmmu {

// Configuration keys are workload.synthetic.<field>. Plain struct: the platform's configuration
// loader fills it, then calls validate().
struct SyntheticParams {
    // stream:  sequential ref_size steps through the footprint, wrapping
    // strided: steps of `stride` bytes, wrapping modulo the footprint
    // random:  uniform, ref_size-aligned, within the footprint
    // zipf:    4 KiB page by zipf(zipf_theta) rank over the footprint's pages, rank -> page
    //          scattered by a fixed permutation drawn from the seed; offset uniform in the page
    //          (ref_size-aligned)
    // gups:    uniform 8-byte-aligned read-modify-writes (RefKind::Modify, size 8); ignores
    //          ref_size and write_fraction
    std::string pattern = "stream";
    std::uint64_t footprint = 1 << 20; // bytes; >= 4096, a multiple of ref_size (8 for gups)
    std::uint64_t instructions = 1000000;
    // Data references per instruction, in [0, 256]. Spread deterministically by an accumulator:
    // instruction i (from 0) gets floor((i+1)*a) - floor(i*a) references, so the first n
    // instructions have exactly floor(n*a) in total (the floor, not the round), evenly spread.
    // a is taken to 9 decimals (exact integer arithmetic on round(a * 1e9)), so 0.35 is exact.
    // Instructions with more than kMaxRefs are split into continuation records.
    double refs_per_instruction = 0.35;
    double write_fraction = 0.3; // [0, 1]: probability that a reference is a store
    std::uint64_t stride = 64;   // strided: > 0, a multiple of ref_size
    double zipf_theta = 0.99;    // zipf: > 0 (1 is classic zipf; larger is more skewed)
    std::uint64_t seed = 1;
    Addr data_base = 0x10000000;
    Addr code_base = 0x400000;
    std::uint64_t code_footprint = 4096; // pcs walk through it in 4-byte steps, wrapping
    std::uint32_t ref_size = 8;          // power of two, 1..4096

    // Throws InputError "workload.synthetic.<field>: <what is allowed>, got <value>".
    void validate() const;
};

class SyntheticWorkload : public Workload {
  public:
    explicit SyntheticWorkload(const SyntheticParams& params); // validates

    bool next(Instruction& insn) override;
    void rewind() override;
    std::string describe() const override;

    const SyntheticParams& params() const { return p_; }

  private:
    enum class Pattern : std::uint8_t { Stream, Strided, Random, Zipf, Gups };

    void fillRefs(Instruction& insn, unsigned count);
    DataRef makeRef();

    SyntheticParams p_;
    Pattern pattern_;
    std::uint64_t refsPerInsnNano_; // refs_per_instruction * 1e9, rounded
    Xoshiro256ss rng_;
    std::optional<ZipfSampler> zipf_;
    std::optional<IndexPermutation> pagePerm_;

    // Position in the stream; rewind() resets exactly these.
    std::uint64_t emitted_ = 0;     // instructions emitted (continuations not counted)
    std::uint64_t refAccum_ = 0;    // fractional references carried, in 1e-9 units
    std::uint64_t pendingRefs_ = 0; // references left for continuation records
    std::uint64_t codeOffset_ = 0;
    std::uint64_t dataOffset_ = 0; // stream / strided position
    Addr lastPc_ = 0;
};

} // namespace tlmmu
