#include "workload/BufferedTrace.h"

#include <cstring>

namespace tlmmu {

BufferedTrace::BufferedTrace(const std::string& path, std::string kind)
    : file_(path), buf_(kTraceChunkBytes), kind_(std::move(kind)) {}

void BufferedTrace::rewind() {
    file_.reopen();
    start();
}

void BufferedTrace::start() {
    pos_ = len_ = 0;
    eof_ = false;
    index_ = 0;
}

std::size_t BufferedTrace::ensure(std::size_t n) {
    if (len_ - pos_ >= n || eof_) return len_ - pos_;
    std::memmove(buf_.data(), buf_.data() + pos_, len_ - pos_);
    len_ -= pos_;
    pos_ = 0;
    while (len_ < n && !eof_) {
        const std::size_t want = buf_.size() - len_;
        const std::size_t got = file_.read(reinterpret_cast<char*>(buf_.data()) + len_, want);
        if (got < want) eof_ = true; // TraceFile returns short reads only at the end
        len_ += got;
    }
    return len_;
}

} // namespace tlmmu
