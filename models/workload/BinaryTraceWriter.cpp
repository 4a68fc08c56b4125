#include "workload/BinaryTraceWriter.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <unistd.h>

#include <boost/iostreams/device/file_descriptor.hpp>
#include <boost/iostreams/filter/gzip.hpp>
#include <boost/iostreams/filter/lzma.hpp>
#include <boost/iostreams/filtering_streambuf.hpp>

#include "common/Types.h"
#include "workload/BinaryTrace.h"

namespace io = boost::iostreams;

namespace tlmmu {

namespace {
constexpr std::size_t kFlushAt = 1 << 20;
constexpr std::streamsize kChainBuffer = 256 * 1024;

inline void putVarint(std::vector<std::uint8_t>& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<std::uint8_t>(v | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<std::uint8_t>(v));
}
} // namespace

struct BinaryTraceWriter::Sink {
    io::filtering_ostreambuf chain;
};

BinaryTraceWriter::BinaryTraceWriter(const std::string& path, Compression compression)
    : path_(path), sink_(std::make_unique<Sink>()) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) throw InputError(path + ": cannot open for writing: " + std::strerror(errno));
    if (compression == Compression::Gzip)
        sink_->chain.push(io::gzip_compressor(), kChainBuffer);
    else if (compression == Compression::Xz)
        sink_->chain.push(io::lzma_compressor(), kChainBuffer);
    sink_->chain.push(io::file_descriptor_sink(fd, io::close_handle), kChainBuffer);
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
    if (!sink_) throw std::logic_error("BinaryTraceWriter::write after close");
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
    // Write errors surface from boost as std::ios_base::failure, or as a short count.
    try {
        const auto n = static_cast<std::streamsize>(buf_.size());
        if (sink_->chain.sputn(reinterpret_cast<const char*>(buf_.data()), n) != n)
            throw InputError(path_ + ": write failed");
    } catch (const std::ios_base::failure&) {
        throw InputError(path_ + ": write failed");
    }
    buf_.clear();
}

void BinaryTraceWriter::close() {
    if (!sink_) return;
    buf_.push_back(binfmt::kTrailer);
    putVarint(buf_, records_);
    try {
        flush();
        // reset() pops the chain: it finishes the compressed stream and closes the file.
        if (sink_->chain.pubsync() != 0) throw InputError(path_ + ": write failed");
        sink_->chain.reset();
    } catch (const std::ios_base::failure&) {
        sink_.reset();
        throw InputError(path_ + ": write failed");
    } catch (...) {
        sink_.reset(); // closes the file; the writer is unusable either way
        throw;
    }
    sink_.reset();
}

} // namespace tlmmu
