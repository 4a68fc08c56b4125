// Reader for ChampSim traces (the DPC-3 / CRC-2 sets): 64-byte input_instr records, plain, gzip
// or xz.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "workload/BufferedTrace.h"
#include "workload/Workload.h"

namespace tlmmu {

// The record, ChampSim's `struct input_instr` (inc/trace_instruction.h) as its tracer writes it:
// packed, little-endian, 64 bytes, no header and no trailer.
//   offset  0  uint64 ip
//           8  uint8  is_branch            0 or 1
//           9  uint8  branch_taken         0 or 1
//          10  uint8  destination_registers[2]
//          12  uint8  source_registers[4]
//          16  uint64 destination_memory[2] stores; 0 = slot unused
//          32  uint64 source_memory[4]      loads; 0 = slot unused
// (A ChampSim development version appends a load_type byte to the struct, which makes it larger
// and, as its own comment says, unable to read the existing traces: that is not this format.)
namespace champfmt {
inline constexpr std::size_t kRecordBytes = 64;
inline constexpr std::size_t kIsBranch = 8, kBranchTaken = 9;
inline constexpr std::size_t kDestinationMemory = 16, kSourceMemory = 32;
inline constexpr unsigned kDestinations = 2, kSources = 4;
// ChampSim records no sizes. Fetches are 4 bytes (the synthetic generator's instruction size: a
// fetch never straddles a page unless the ip does); data references 8 bytes, a 64-bit word.
inline constexpr std::uint32_t kFetchBytes = 4;
inline constexpr std::uint32_t kDataBytes = 8;

inline std::uint64_t load64(const unsigned char* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
        v = (v << 8) | p[i];
    return v;
}
inline void store64(unsigned char* p, std::uint64_t v) {
    for (int i = 0; i < 8; ++i, v >>= 8)
        p[i] = static_cast<unsigned char>(v);
}
} // namespace champfmt

// Each record is one Instruction: a fetch of kFetchBytes at ip, then one load of kDataBytes per
// nonzero source_memory slot, then one store per nonzero destination_memory slot, in slot
// order (at most 6 references, so never a continuation record). Registers and branch outcomes
// are not modelled and are ignored, but the branch flags must be 0 or 1: that is what tells a
// lackey or other file given as champsim from a real trace.
//
// Records are numbered from 0. Errors (InputError, one line):
//   "FILE: truncated champsim trace at record N (K of 64 bytes)": the content ends inside a
//     record (its length is not a multiple of 64);
//   "FILE: corrupt champsim trace at record N: is_branch 0xXX, branch_taken 0xXX (each 0 or 1)";
//   "FILE: is a tlmmu binary trace, not champsim (use format 'binary')";
//   "FILE: truncated or corrupt gzip stream at record N" (or xz; or "read error: ..."): TraceFile's
//     error, with N the first record that could not be read (the damage itself may lie a little
//     further: a decompressor reports it for a whole buffer).
class ChampSimTrace : public BufferedTrace {
  public:
    explicit ChampSimTrace(const std::string& path);

    bool next(Instruction& insn) override;

  private:
    void start() override;
    std::size_t ensureRecord();
    [[noreturn]] void corrupt(const unsigned char* record) const;
};

} // namespace tlmmu
