#include "workload/ChampSimTraceWriter.h"

#include <cstring>
#include <stdexcept>

namespace tlmmu {

namespace {
constexpr std::size_t kFlushAt = 1 << 20;
} // namespace

ChampSimTraceWriter::ChampSimTraceWriter(const std::string& path, Compression compression)
    : sink_(path, compression) {
    buf_.reserve(kFlushAt + champfmt::kRecordBytes);
}

ChampSimTraceWriter::~ChampSimTraceWriter() {
    try {
        close();
    } catch (...) {
        // Destructors must not throw; callers that care call close() themselves.
    }
}

bool ChampSimTraceWriter::representable(const Instruction& insn) {
    for (unsigned i = 0; i < insn.num_refs; ++i)
        if (insn.refs[i].addr == 0) return false;
    return true;
}

void ChampSimTraceWriter::startRecord(Addr ip) {
    endRecord();
    std::memset(record_, 0, sizeof record_);
    champfmt::store64(record_, ip);
    ip_ = ip;
    loads_ = stores_ = 0;
    open_ = true;
    ++records_;
}

void ChampSimTraceWriter::endRecord() {
    if (!open_) return;
    buf_.insert(buf_.end(), record_, record_ + sizeof record_);
    open_ = false;
}

void ChampSimTraceWriter::write(const Instruction& insn) {
    if (!sink_.isOpen()) throw std::logic_error("ChampSimTraceWriter::write after close");
    if (insn.num_refs > Instruction::kMaxRefs || !representable(insn))
        throw std::invalid_argument("ChampSimTraceWriter: num_refs > kMaxRefs or address 0");
    // A continuation record before any instruction has no record to join: it gets its own.
    if (insn.size != 0 || !open_) startRecord(insn.pc);
    for (unsigned i = 0; i < insn.num_refs; ++i) {
        const DataRef& ref = insn.refs[i];
        const bool load = ref.kind != RefKind::Store, store = ref.kind != RefKind::Load;
        if ((load && loads_ == champfmt::kSources) || (store && stores_ == champfmt::kDestinations))
            startRecord(ip_);
        if (load) champfmt::store64(record_ + champfmt::kSourceMemory + 8 * loads_++, ref.addr);
        if (store)
            champfmt::store64(record_ + champfmt::kDestinationMemory + 8 * stores_++, ref.addr);
    }
    if (buf_.size() >= kFlushAt) {
        sink_.write(buf_.data(), buf_.size());
        buf_.clear();
    }
}

void ChampSimTraceWriter::close() {
    if (!sink_.isOpen()) return;
    endRecord();
    sink_.close(buf_.data(), buf_.size());
    buf_.clear();
}

} // namespace tlmmu
