#include "workload/BinaryTraceWriter.h"

#include <stdexcept>

#include "workload/BinaryTrace.h"

namespace tlmmu {

namespace {
constexpr std::size_t kFlushAt = 1 << 20;

inline void putVarint(std::vector<std::uint8_t>& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<std::uint8_t>(v | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<std::uint8_t>(v));
}
} // namespace

BinaryTraceWriter::BinaryTraceWriter(const std::string& path, Compression compression)
    : sink_(path, compression) {
    buf_.reserve(kFlushAt + binfmt::kMaxRecordBytes + 16);
    buf_.insert(buf_.end(), std::begin(binfmt::kMagic), std::end(binfmt::kMagic));
}

BinaryTraceWriter::~BinaryTraceWriter() {
    try {
        close();
    } catch (...) {
        // Destructors must not throw; callers that care call close() themselves.
    }
}

void BinaryTraceWriter::write(const Instruction& insn) {
    if (!sink_.isOpen()) throw std::logic_error("BinaryTraceWriter::write after close");
    if (insn.num_refs > Instruction::kMaxRefs)
        throw std::invalid_argument("BinaryTraceWriter: num_refs > kMaxRefs");
    std::uint8_t h = insn.num_refs;
    const Addr expectedPc = lastPc_ + lastSize_;
    if (insn.pc == expectedPc) h |= binfmt::kSequentialPc;
    if (insn.size == lastSize_) h |= binfmt::kSameSize;
    buf_.push_back(h);
    if (!(h & binfmt::kSequentialPc)) putVarint(buf_, binfmt::zigzag(insn.pc - expectedPc));
    if (!(h & binfmt::kSameSize)) putVarint(buf_, insn.size);
    for (unsigned i = 0; i < insn.num_refs; ++i) {
        const DataRef& ref = insn.refs[i];
        const bool inlineSize = ref.size >= 1 && ref.size <= 63;
        buf_.push_back(static_cast<std::uint8_t>(static_cast<unsigned>(ref.kind) |
                                                 (inlineSize ? ref.size << 2 : 0)));
        if (!inlineSize) putVarint(buf_, ref.size);
        putVarint(buf_, binfmt::zigzag(ref.addr - lastData_));
        lastData_ = ref.addr;
    }
    lastPc_ = insn.pc;
    lastSize_ = insn.size;
    ++records_;
    if (buf_.size() >= kFlushAt) flush();
}

void BinaryTraceWriter::flush() {
    sink_.write(buf_.data(), buf_.size());
    buf_.clear();
}

void BinaryTraceWriter::close() {
    if (!sink_.isOpen()) return;
    buf_.push_back(binfmt::kTrailer);
    putVarint(buf_, records_);
    sink_.close(buf_.data(), buf_.size());
    buf_.clear();
}

} // namespace tlmmu
