// Byte-level output of a trace file, plain, gzip- or xz-compressed: what every trace writer
// (BinaryTraceWriter, ChampSimTraceWriter) writes through, the counterpart of TraceFile.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "workload/TraceFile.h"

namespace tlmmu {

// Errors are InputError naming the file: "FILE: cannot open for writing: <strerror>",
// "FILE: write failed".
class TraceSink {
  public:
    TraceSink(std::string path, Compression compression);
    // Closes if close() was not called; errors are swallowed there, so call close() to see them.
    ~TraceSink();
    TraceSink(const TraceSink&) = delete;
    TraceSink& operator=(const TraceSink&) = delete;

    void write(const void* data, std::size_t n);
    // Writes the last n bytes at `last`, finishes the compressed stream and closes the file;
    // the sink is closed even if it throws.
    void close(const void* last = nullptr, std::size_t n = 0);

    bool isOpen() const { return impl_ != nullptr; }
    const std::string& path() const { return path_; }

  private:
    struct Impl;
    std::string path_;
    std::unique_ptr<Impl> impl_;
};

} // namespace tlmmu
