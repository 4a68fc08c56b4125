#include "workload/TraceSink.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>

#include <boost/iostreams/device/file_descriptor.hpp>
#include <boost/iostreams/filter/gzip.hpp>
#include <boost/iostreams/filter/lzma.hpp>
#include <boost/iostreams/filtering_streambuf.hpp>

#include "common/Types.h"

namespace io = boost::iostreams;

namespace tlmmu {

namespace {
// As TraceFile's: large, so that the filter chain's per-call overhead is amortised.
constexpr std::streamsize kChainBuffer = 256 * 1024;
} // namespace

struct TraceSink::Impl {
    io::filtering_ostreambuf chain;
};

TraceSink::TraceSink(std::string path, Compression compression)
    : path_(std::move(path)), impl_(std::make_unique<Impl>()) {
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) throw InputError(path_ + ": cannot open for writing: " + std::strerror(errno));
    if (compression == Compression::Gzip)
        impl_->chain.push(io::gzip_compressor(), kChainBuffer);
    else if (compression == Compression::Xz)
        impl_->chain.push(io::lzma_compressor(), kChainBuffer);
    impl_->chain.push(io::file_descriptor_sink(fd, io::close_handle), kChainBuffer);
}

TraceSink::~TraceSink() {
    try {
        close();
    } catch (...) {
        // Destructors must not throw; callers that care call close() themselves.
    }
}

void TraceSink::write(const void* data, std::size_t n) {
    if (!impl_) throw std::logic_error("TraceSink::write after close");
    // Write errors surface from boost as std::ios_base::failure, or as a short count.
    try {
        const auto want = static_cast<std::streamsize>(n);
        if (impl_->chain.sputn(static_cast<const char*>(data), want) != want)
            throw InputError(path_ + ": write failed");
    } catch (const std::ios_base::failure&) {
        throw InputError(path_ + ": write failed");
    }
}

void TraceSink::close(const void* last, std::size_t n) {
    if (!impl_) return;
    if (n) {
        try {
            write(last, n);
        } catch (...) {
            impl_.reset(); // closes the file
            throw;
        }
    }
    // Released first: whatever happens below, the file is closed and the sink unusable.
    const std::unique_ptr<Impl> impl = std::move(impl_);
    try {
        // reset() pops the chain: it finishes the compressed stream and closes the file.
        if (impl->chain.pubsync() != 0) throw InputError(path_ + ": write failed");
        impl->chain.reset();
    } catch (const std::ios_base::failure&) {
        throw InputError(path_ + ": write failed");
    }
}

} // namespace tlmmu
