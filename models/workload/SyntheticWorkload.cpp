#include "workload/SyntheticWorkload.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "common/Types.h"

namespace tlmmu {

namespace {

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kNano = 1000000000;
constexpr double kMaxRefsPerInstruction = 256;
constexpr std::uint32_t kGupsSize = 8;
constexpr std::uint32_t kInsnSize = 4;

[[noreturn]] void bad(const char* field, const std::string& allowed, const std::string& got) {
    throw InputError(std::string("workload.synthetic.") + field + ": " + allowed + ", got " + got);
}

std::string num(double v) {
    std::ostringstream os;
    os << v;
    return os.str();
}

bool isPowerOfTwo(std::uint64_t v) {
    return v != 0 && (v & (v - 1)) == 0;
}

} // namespace

void SyntheticParams::validate() const {
    static const char* const kPatterns[] = {"stream", "strided", "random", "zipf", "gups"};
    if (std::find(std::begin(kPatterns), std::end(kPatterns), pattern) == std::end(kPatterns))
        bad("pattern", "must be one of stream, strided, random, zipf, gups", "'" + pattern + "'");
    if (!isPowerOfTwo(ref_size) || ref_size > kPage)
        bad("ref_size", "must be a power of two from 1 to 4096", std::to_string(ref_size));
    if (footprint < kPage)
        bad("footprint", "must be at least 4096 (one 4 KiB page)", std::to_string(footprint));
    const std::uint64_t granule = pattern == "gups" ? kGupsSize : ref_size;
    if (footprint % granule != 0)
        bad("footprint",
            "must be a multiple of " + std::to_string(granule) + " (the reference size)",
            std::to_string(footprint));
    if (footprint - 1 > ~data_base)
        bad("footprint", "data_base + footprint must fit in 64 bits", std::to_string(footprint));
    if (!(refs_per_instruction >= 0 && refs_per_instruction <= kMaxRefsPerInstruction))
        bad("refs_per_instruction", "must be a number from 0 to 256", num(refs_per_instruction));
    if (!(write_fraction >= 0 && write_fraction <= 1))
        bad("write_fraction", "must be from 0 to 1", num(write_fraction));
    if (pattern == "strided" && (stride == 0 || stride % ref_size != 0))
        bad("stride", "must be a positive multiple of ref_size (" + std::to_string(ref_size) + ")",
            std::to_string(stride));
    if (pattern == "zipf" && !(zipf_theta > 0 && std::isfinite(zipf_theta)))
        bad("zipf_theta", "must be a number > 0", num(zipf_theta));
    if (code_footprint < kInsnSize || code_footprint % kInsnSize != 0)
        bad("code_footprint", "must be a positive multiple of 4 (the instruction size)",
            std::to_string(code_footprint));
    if (code_footprint - 1 > ~code_base)
        bad("code_footprint", "code_base + code_footprint must fit in 64 bits",
            std::to_string(code_footprint));
}

SyntheticWorkload::SyntheticWorkload(const SyntheticParams& params)
    : p_(params), rng_(params.seed) {
    p_.validate();
    if (p_.pattern == "stream")
        pattern_ = Pattern::Stream;
    else if (p_.pattern == "strided")
        pattern_ = Pattern::Strided;
    else if (p_.pattern == "random")
        pattern_ = Pattern::Random;
    else if (p_.pattern == "zipf")
        pattern_ = Pattern::Zipf;
    else
        pattern_ = Pattern::Gups;
    refsPerInsnNano_ = static_cast<std::uint64_t>(std::llround(p_.refs_per_instruction * kNano));
    if (pattern_ == Pattern::Zipf) {
        const std::uint64_t pages = p_.footprint / kPage;
        zipf_.emplace(pages, p_.zipf_theta);
        pagePerm_.emplace(pages, p_.seed);
    }
    rewind();
}

void SyntheticWorkload::rewind() {
    rng_.reseed(p_.seed);
    emitted_ = refAccum_ = pendingRefs_ = codeOffset_ = dataOffset_ = 0;
    lastPc_ = 0;
}

std::string SyntheticWorkload::describe() const {
    std::ostringstream os;
    os << "synthetic " << p_.pattern << " footprint=" << p_.footprint
       << " instructions=" << p_.instructions << " refs_per_instruction=" << p_.refs_per_instruction
       << " seed=" << p_.seed;
    return os.str();
}

DataRef SyntheticWorkload::makeRef() {
    DataRef ref;
    ref.size = p_.ref_size;
    std::uint64_t offset = 0;
    switch (pattern_) {
    case Pattern::Stream:
        offset = dataOffset_;
        dataOffset_ += p_.ref_size;
        if (dataOffset_ >= p_.footprint) dataOffset_ = 0;
        break;
    case Pattern::Strided:
        offset = dataOffset_;
        // Wraps modulo the footprint (not to 0), so a stride that does not divide it walks new
        // residues each lap, as a real strided loop over a circular buffer would.
        dataOffset_ = (dataOffset_ + p_.stride % p_.footprint) % p_.footprint;
        break;
    case Pattern::Random:
        offset = rng_.below(p_.footprint / p_.ref_size) * p_.ref_size;
        break;
    case Pattern::Zipf: {
        const std::uint64_t page = (*pagePerm_)(zipf_->sample(rng_) - 1);
        offset = page * kPage + rng_.below(kPage / p_.ref_size) * p_.ref_size;
        break;
    }
    case Pattern::Gups:
        ref.size = kGupsSize;
        ref.kind = RefKind::Modify;
        ref.addr = p_.data_base + rng_.below(p_.footprint / kGupsSize) * kGupsSize;
        return ref;
    }
    ref.addr = p_.data_base + offset;
    ref.kind = rng_.nextDouble() < p_.write_fraction ? RefKind::Store : RefKind::Load;
    return ref;
}

void SyntheticWorkload::fillRefs(Instruction& insn, unsigned count) {
    for (unsigned i = 0; i < count; ++i)
        insn.refs[i] = makeRef();
    insn.num_refs = static_cast<std::uint8_t>(count);
}

bool SyntheticWorkload::next(Instruction& insn) {
    if (pendingRefs_ > 0) { // continuation of the previous instruction
        const auto n =
            static_cast<unsigned>(std::min<std::uint64_t>(pendingRefs_, Instruction::kMaxRefs));
        pendingRefs_ -= n;
        insn.pc = lastPc_;
        insn.size = 0;
        fillRefs(insn, n);
        return true;
    }
    if (emitted_ == p_.instructions) return false;
    ++emitted_;
    insn.pc = lastPc_ = p_.code_base + codeOffset_;
    insn.size = kInsnSize;
    codeOffset_ += kInsnSize;
    if (codeOffset_ >= p_.code_footprint) codeOffset_ = 0;

    refAccum_ += refsPerInsnNano_;
    const std::uint64_t refs = refAccum_ / kNano;
    refAccum_ %= kNano;
    const auto n = static_cast<unsigned>(std::min<std::uint64_t>(refs, Instruction::kMaxRefs));
    pendingRefs_ = refs - n;
    fillRefs(insn, n);
    return true;
}

} // namespace tlmmu
