// Byte-level access to a trace file that may be plain, gzip- or xz-compressed. The compression
// is detected from the magic bytes, never from the file name, so renamed files still work.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace tlmmu {

// How much the trace readers read at a time. The fuzz build makes it small
// (TLMMU_TRACE_CHUNK_BYTES) so that records across chunk boundaries are exercised by small
// inputs, and each input costs no fresh MiB.
#ifndef TLMMU_TRACE_CHUNK_BYTES
#define TLMMU_TRACE_CHUNK_BYTES (1 << 20)
#endif
inline constexpr std::size_t kTraceChunkBytes = TLMMU_TRACE_CHUNK_BYTES;

enum class Compression : std::uint8_t { None, Gzip, Xz };

const char* toString(Compression compression); // "none", "gzip", "xz"
// Parses a command-line / configuration name: "none", "gz" (or "gzip"), "xz".
// Throws InputError "unknown compression 'NAME' (allowed: none, gz, xz)".
Compression parseCompression(const std::string& name);

// Streams the decompressed content in caller-sized chunks (read the whole file never, traces can
// be tens of GB). Every failure is an InputError naming the file:
//   "FILE: cannot open: <strerror>", "FILE: read error: <strerror>",
//   "FILE: truncated or corrupt gzip stream" (or "xz stream").
class TraceFile {
  public:
    explicit TraceFile(std::string path);
    ~TraceFile();
    TraceFile(const TraceFile&) = delete;
    TraceFile& operator=(const TraceFile&) = delete;

    // Reads up to n bytes; returns fewer only at the end of the content, 0 once at the end.
    std::size_t read(char* buffer, std::size_t n);
    // Starts again from the first byte (reopens the file: the file may have been replaced).
    void reopen();

    Compression compression() const { return compression_; }
    // "KIND trace PATH", with " (gzip)" or " (xz)" when compressed: the readers' describe().
    std::string describe(const std::string& kind) const;
    const std::string& path() const { return path_; }

  private:
    struct Impl;
    void open();
    [[noreturn]] void streamError() const;

    std::string path_;
    Compression compression_ = Compression::None;
    std::unique_ptr<Impl> impl_;
};

} // namespace tlmmu
