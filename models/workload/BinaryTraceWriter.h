// Writes tlmmu's binary trace format (described in BinaryTrace.h), optionally compressed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "workload/TraceFile.h"
#include "workload/TraceSink.h"
#include "workload/Workload.h"

namespace tlmmu {

// Errors are InputError: "FILE: cannot open for writing: <strerror>", "FILE: write failed".
class BinaryTraceWriter {
  public:
    explicit BinaryTraceWriter(const std::string& path,
                               Compression compression = Compression::None);
    // Closes if close() was not called; errors are swallowed there, so call close() to see them.
    ~BinaryTraceWriter();
    BinaryTraceWriter(const BinaryTraceWriter&) = delete;
    BinaryTraceWriter& operator=(const BinaryTraceWriter&) = delete;

    // Appends one record (an instruction or a continuation record). num_refs must be <=
    // kMaxRefs (std::invalid_argument otherwise: a programming error, not bad input).
    void write(const Instruction& insn);
    // Writes the trailer, finishes the compressed stream and closes the file.
    void close();

    std::uint64_t records() const { return records_; }

  private:
    void flush();

    TraceSink sink_;
    std::vector<std::uint8_t> buf_;
    std::uint64_t records_ = 0;
    Addr lastPc_ = 0;
    std::uint32_t lastSize_ = 0;
    Addr lastData_ = 0;
};

} // namespace tlmmu
