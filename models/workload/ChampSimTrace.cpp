#include "workload/ChampSimTrace.h"

#include <cstdio>
#include <cstring>

#include "common/Types.h"
#include "workload/BinaryTrace.h"

namespace tlmmu {

static_assert(kTraceChunkBytes % champfmt::kRecordBytes == 0,
              "whole records per read: only the file's last can be split at a buffer's end");

ChampSimTrace::ChampSimTrace(const std::string& path) : BufferedTrace(path, "champsim") {
    start();
}

void ChampSimTrace::start() {
    BufferedTrace::start();
    ensureRecord();
    // A champsim trace has no magic of its own, but a binary trace given as one is told apart.
    if (len_ >= sizeof binfmt::kMagic &&
        std::memcmp(buf_.data(), binfmt::kMagic, sizeof binfmt::kMagic) == 0)
        throw InputError(file_.path() + ": is a tlmmu binary trace, not champsim (use format "
                                        "'binary')");
}

// The bytes available for the next record (fewer than a record only at the end).
std::size_t ChampSimTrace::ensureRecord() {
    try {
        return ensure(champfmt::kRecordBytes);
    } catch (const InputError& e) {
        // The decompressor's error says where in the file, not where in the trace.
        throw InputError(std::string(e.what()) + " at record " + std::to_string(index_));
    }
}

void ChampSimTrace::corrupt(const unsigned char* record) const {
    char what[80];
    std::snprintf(what, sizeof what, "is_branch 0x%02x, branch_taken 0x%02x (each 0 or 1)",
                  record[champfmt::kIsBranch], record[champfmt::kBranchTaken]);
    throw InputError(file_.path() + ": corrupt champsim trace at record " + std::to_string(index_) +
                     ": " + what);
}

bool ChampSimTrace::next(Instruction& insn) {
    if (len_ - pos_ < champfmt::kRecordBytes) {
        const std::size_t left = ensureRecord();
        if (left == 0) return false;
        if (left < champfmt::kRecordBytes)
            throw InputError(file_.path() + ": truncated champsim trace at record " +
                             std::to_string(index_) + " (" + std::to_string(left) + " of " +
                             std::to_string(champfmt::kRecordBytes) + " bytes)");
    }
    const unsigned char* r = buf_.data() + pos_;
    if ((r[champfmt::kIsBranch] | r[champfmt::kBranchTaken]) > 1) corrupt(r);
    insn.pc = champfmt::load64(r);
    insn.size = champfmt::kFetchBytes;
    unsigned n = 0;
    auto slots = [&](std::size_t offset, unsigned count, RefKind kind) {
        for (unsigned i = 0; i < count; ++i)
            if (const Addr addr = champfmt::load64(r + offset + 8 * i)) {
                insn.refs[n].addr = addr;
                insn.refs[n].size = champfmt::kDataBytes;
                insn.refs[n].kind = kind;
                ++n;
            }
    };
    slots(champfmt::kSourceMemory, champfmt::kSources, RefKind::Load);
    slots(champfmt::kDestinationMemory, champfmt::kDestinations, RefKind::Store);
    insn.num_refs = static_cast<std::uint8_t>(n);
    pos_ += champfmt::kRecordBytes;
    ++index_;
    return true;
}

} // namespace tlmmu
