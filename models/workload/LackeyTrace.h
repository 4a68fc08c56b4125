// Reader for valgrind lackey traces (valgrind --tool=lackey --trace-mem=yes), plain, gzip or xz.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "workload/TraceFile.h"
#include "workload/Workload.h"

namespace tlmmu {

// Records, one per line:
//   "I  04011c70,3"     instruction fetch: hex address, decimal size (1..4096)
//   " L 1ffefffd78,8"   load; " S ..." store; " M ..." modify (read-modify-write); size 1..4096
// Lines that start with "==" (valgrind's "==PID== ..." messages) and empty lines are skipped.
// Data records belong to the preceding I record; those before the first I, and those beyond
// Instruction::kMaxRefs, become continuation records (see Workload.h), so nothing is dropped.
//
// The file is streamed in 1 MiB chunks and parsed in place (hand-rolled hex/decimal, no
// per-line allocation or istream), because trace parsing sits on the simulator's hot path.
// Errors (InputError, one line):
//   "FILE:LINE: malformed lackey record '<first 60 chars of the line>'" (non-printable bytes
//   shown as '?'), including a final line without newline that is incomplete, plus the
//   TraceFile errors (cannot open, truncated or corrupt gzip/xz stream).
class LackeyTrace : public Workload {
  public:
    explicit LackeyTrace(const std::string& path);

    bool next(Instruction& insn) override;
    void rewind() override;
    std::string describe() const override;
    std::string where() const override { return file_.path() + ":" + std::to_string(line_); }

    // Line number of the last line parsed (1-based; 0 before the first).
    std::uint64_t line() const { return line_; }

  private:
    enum class Start : std::uint8_t { None, Insn, Cont };

    bool fill();
    void reset();
    [[noreturn]] void malformed(const char* lineStart) const;

    TraceFile file_;
    std::vector<char> buf_;
    const char* cur_ = nullptr;  // next unparsed byte
    const char* lim_ = nullptr;  // one past the last '\n' in the buffer: [cur_, lim_) are lines
    const char* fill_ = nullptr; // one past the last valid byte (an incomplete line follows lim_)
    bool eof_ = false;
    bool checkMagic_ = true;
    std::uint64_t line_ = 0;

    // A record is known complete only when the next record starts, so the start of the next
    // one is parsed ahead and kept here: an I header, or a data reference that overflowed
    // kMaxRefs and opens a continuation record.
    Start start_ = Start::None;
    Addr nextPc_ = 0;
    std::uint32_t nextSize_ = 0;
    DataRef carry_;
};

} // namespace tlmmu
