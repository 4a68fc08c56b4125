#include "workload/BinaryTrace.h"

#include <algorithm>
#include <cstring>

#include "common/Types.h"

namespace tlmmu {

namespace {

static_assert(kTraceChunkBytes > binfmt::kMaxRecordBytes, "a chunk must hold the largest record");

// Decodes from [p, end); any read past `end` clears `ok` instead of reading, so one check
// after the whole record tells whether the record was complete.
struct Cursor {
    const std::uint8_t* p;
    const std::uint8_t* end;
    bool ok = true;
    bool overlong = false;

    std::uint8_t byte() {
        if (p == end) {
            ok = false;
            return 0;
        }
        return *p++;
    }
    std::uint64_t varint() {
        std::uint64_t v = 0;
        for (unsigned shift = 0; shift < 70; shift += 7) {
            if (p == end) {
                ok = false;
                return 0;
            }
            const std::uint8_t b = *p++;
            v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
            if (!(b & 0x80)) return v;
        }
        overlong = true;
        return 0;
    }
};

} // namespace

BinaryTrace::BinaryTrace(const std::string& path) : BufferedTrace(path, "binary") {
    start();
}

void BinaryTrace::start() {
    BufferedTrace::start();
    done_ = false;
    lastPc_ = lastData_ = 0;
    lastSize_ = 0;
    const std::size_t have = ensure(sizeof binfmt::kMagic);
    const std::size_t compared = std::min(have, sizeof binfmt::kMagic);
    if (std::memcmp(buf_.data(), binfmt::kMagic, compared) != 0)
        throw InputError(file_.path() + ": not a tlmmu binary trace (bad magic)");
    if (have < sizeof binfmt::kMagic) truncated(); // empty, or cut inside the magic
    pos_ = sizeof binfmt::kMagic;
}

void BinaryTrace::truncated() const {
    throw InputError(file_.path() + ": truncated binary trace at instruction " +
                     std::to_string(index_));
}

void BinaryTrace::corrupt(const std::string& what) const {
    throw InputError(file_.path() + ": corrupt binary trace at instruction " +
                     std::to_string(index_) + ": " + what);
}

bool BinaryTrace::next(Instruction& insn) {
    if (done_) return false;
    const std::size_t have = ensure(binfmt::kMaxRecordBytes + 1);
    if (have == 0) truncated(); // clean end of a record but no trailer
    Cursor c{buf_.data() + pos_, buf_.data() + len_};
    const std::uint8_t h = c.byte();

    if (h == binfmt::kTrailer) {
        const std::uint64_t count = c.varint();
        if (!c.ok) truncated();
        if (c.overlong) corrupt("bad trailer");
        if (count != index_)
            corrupt("trailer says " + std::to_string(count) + " records, found " +
                    std::to_string(index_));
        pos_ = static_cast<std::size_t>(c.p - buf_.data());
        if (ensure(1) != 0) corrupt("data after the trailer");
        done_ = true;
        return false;
    }
    if (h & binfmt::kReserved) corrupt("bad record header");
    const unsigned nrefs = h & binfmt::kRefCountMask;
    if (nrefs > Instruction::kMaxRefs) corrupt("more than 16 data references");

    const Addr pc = (h & binfmt::kSequentialPc)
                        ? lastPc_ + lastSize_
                        : lastPc_ + lastSize_ + binfmt::unzigzag(c.varint());
    std::uint64_t size = (h & binfmt::kSameSize) ? lastSize_ : c.varint();
    Addr data = lastData_;
    for (unsigned i = 0; i < nrefs; ++i) {
        const std::uint8_t r = c.byte();
        const unsigned kind = r & 3;
        std::uint64_t refSize = r >> 2;
        if (refSize == 0) refSize = c.varint();
        data += binfmt::unzigzag(c.varint());
        if (!c.ok) break;
        if (kind == 3) corrupt("bad data reference kind");
        if (refSize == 0 || refSize > kMaxAccessBytes)
            corrupt("data reference size " + std::to_string(refSize) + " out of range (1.." +
                    std::to_string(kMaxAccessBytes) + ")");
        insn.refs[i].addr = data;
        insn.refs[i].size = static_cast<std::uint32_t>(refSize);
        insn.refs[i].kind = static_cast<RefKind>(kind);
    }
    if (!c.ok) truncated();
    if (c.overlong) corrupt("overlong varint");
    if (size > kMaxAccessBytes)
        corrupt("instruction size " + std::to_string(size) +
                " out of range (0 for a "
                "continuation record, else 1.." +
                std::to_string(kMaxAccessBytes) + ")");

    insn.pc = pc;
    insn.size = static_cast<std::uint32_t>(size);
    insn.num_refs = static_cast<std::uint8_t>(nrefs);
    lastPc_ = pc;
    lastSize_ = insn.size;
    lastData_ = data;
    pos_ = static_cast<std::size_t>(c.p - buf_.data());
    ++index_;
    return true;
}

} // namespace tlmmu
