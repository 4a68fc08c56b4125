#include "workload/TraceFile.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/iostreams/device/file_descriptor.hpp>
#include <boost/iostreams/filter/gzip.hpp>
#include <boost/iostreams/filter/lzma.hpp>
#include <boost/iostreams/filtering_streambuf.hpp>

#include "common/Types.h"

namespace io = boost::iostreams;

namespace tlmmu {

namespace {
// Buffers inside the boost chain; large so that the per-call overhead of the filter chain is
// amortised (the default 4 KiB makes decompression noticeably slower).
constexpr std::streamsize kChainBuffer = 256 * 1024;

const unsigned char kGzipMagic[] = {0x1f, 0x8b};
const unsigned char kXzMagic[] = {0xfd, '7', 'z', 'X', 'Z', 0x00};
} // namespace

const char* toString(Compression compression) {
    switch (compression) {
    case Compression::None:
        return "none";
    case Compression::Gzip:
        return "gzip";
    case Compression::Xz:
        return "xz";
    }
    return "?";
}

Compression parseCompression(const std::string& name) {
    if (name == "none") return Compression::None;
    if (name == "gz" || name == "gzip") return Compression::Gzip;
    if (name == "xz") return Compression::Xz;
    throw InputError("unknown compression '" + name + "' (allowed: none, gz, xz)");
}

struct TraceFile::Impl {
    int fd = -1; // plain files are read with read(2) directly: no copy through a filter chain
    io::filtering_istreambuf chain;

    ~Impl() {
        if (fd >= 0) ::close(fd);
    }
};

TraceFile::TraceFile(std::string path) : path_(std::move(path)) {
    open();
}

TraceFile::~TraceFile() = default;

void TraceFile::open() {
    impl_.reset();
    auto impl = std::make_unique<Impl>();
    int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw InputError(path_ + ": cannot open: " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        ::close(fd);
        throw InputError(path_ + ": cannot open: " + std::strerror(EISDIR));
    }
    unsigned char magic[sizeof kXzMagic] = {};
    ssize_t got = ::pread(fd, magic, sizeof magic, 0);
    if (got < 0) {
        const int err = errno;
        ::close(fd);
        throw InputError(path_ + ": cannot open: " + std::strerror(err));
    }
    compression_ = Compression::None;
    if (got >= 2 && std::memcmp(magic, kGzipMagic, sizeof kGzipMagic) == 0)
        compression_ = Compression::Gzip;
    else if (got >= 6 && std::memcmp(magic, kXzMagic, sizeof kXzMagic) == 0)
        compression_ = Compression::Xz;

    if (compression_ == Compression::None) {
        impl->fd = fd;
    } else {
        if (compression_ == Compression::Gzip)
            impl->chain.push(io::gzip_decompressor(), kChainBuffer);
        else
            impl->chain.push(io::lzma_decompressor(), kChainBuffer);
        impl->chain.push(io::file_descriptor_source(fd, io::close_handle), kChainBuffer);
    }
    impl_ = std::move(impl);
}

std::string TraceFile::describe(const std::string& kind) const {
    std::string d = kind + " trace " + path_;
    if (compression_ != Compression::None) d += std::string(" (") + toString(compression_) + ")";
    return d;
}

void TraceFile::reopen() {
    open();
}

void TraceFile::streamError() const {
    throw InputError(path_ + ": truncated or corrupt " + toString(compression_) + " stream");
}

std::size_t TraceFile::read(char* buffer, std::size_t n) {
    std::size_t total = 0;
    if (impl_->fd >= 0) {
        while (total < n) {
            const ssize_t got = ::read(impl_->fd, buffer + total, n - total);
            if (got < 0) {
                if (errno == EINTR) continue;
                throw InputError(path_ + ": read error: " + std::strerror(errno));
            }
            if (got == 0) break;
            total += static_cast<std::size_t>(got);
        }
        return total;
    }
    // The decompressors report a truncated or damaged stream by throwing gzip_error /
    // lzma_error (both std::ios_base::failure, as is a failing read(2) below them). None says
    // more than "iostream error", so all become one clear line.
    try {
        while (total < n) {
            const std::streamsize got =
                impl_->chain.sgetn(buffer + total, static_cast<std::streamsize>(n - total));
            if (got <= 0) break;
            total += static_cast<std::size_t>(got);
        }
    } catch (const std::ios_base::failure&) {
        streamError();
    }
    return total;
}

} // namespace tlmmu
