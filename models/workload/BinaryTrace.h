// tlmmu's own compact trace format, and its reader (the writer is BinaryTraceWriter.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "workload/BufferedTrace.h"
#include "workload/Workload.h"

namespace tlmmu {

// Format "TLMMUTR1" (all integers little-endian base-128 varints, LEB128; zigzag(d) maps a
// signed 64-bit delta d to unsigned as (d << 1) ^ (d >> 63), so small deltas of either sign are
// one byte). A lackey line of 14-19 bytes typically becomes 1-4 bytes.
//
//   magic    8 bytes "TLMMUTR1"
//   record*  one per Instruction, continuation records (size 0) included:
//     H      1 byte: bits 0-4 number of data references (0..16)
//                    bit 5 set: size omitted, equal to the previous record's size
//                    bit 6 set: pc omitted, equal to previous pc + previous size
//                    bit 7 clear (0xff is the trailer, other values with bit 7 are invalid)
//     [zigzag varint  pc - (previous pc + previous size)]   unless bit 6
//     [varint size]                                         unless bit 5
//     per data reference:
//       R    1 byte: bits 0-1 kind (0 load, 1 store, 2 modify), bits 2-7 size if 1..63,
//                    0 = the size follows as a varint
//       [varint size]
//       zigzag varint  address - previous data address (of any earlier record)
//   trailer  0xff, varint number of records; the file ends right after it.
// "previous" values start at 0. Deltas wrap modulo 2^64, so any address round-trips exactly.
//
// The trailer is what detects truncation: a file that ends inside a record, or after a record
// without trailer, is "FILE: truncated binary trace at instruction N", where N is the number of
// records read completely (the 0-based index of the record that is cut). Other damage is
// "FILE: corrupt binary trace at instruction N: <what>"; a wrong magic is
// "FILE: not a tlmmu binary trace (bad magic)". The file may be gzip- or xz-compressed.
namespace binfmt {
inline constexpr char kMagic[8] = {'T', 'L', 'M', 'M', 'U', 'T', 'R', '1'};
inline constexpr std::uint8_t kTrailer = 0xff;
inline constexpr std::uint8_t kRefCountMask = 0x1f;
inline constexpr std::uint8_t kSameSize = 0x20;
inline constexpr std::uint8_t kSequentialPc = 0x40;
inline constexpr std::uint8_t kReserved = 0x80;
// Largest encoded record: H, pc, size, kMaxRefs x (R, size, address).
inline constexpr std::size_t kMaxRecordBytes = 1 + 10 + 10 + Instruction::kMaxRefs * (1 + 10 + 10);

inline std::uint64_t zigzag(std::uint64_t delta) {
    return (delta << 1) ^ (0 - (delta >> 63)); // delta is the two's complement signed value
}
inline std::uint64_t unzigzag(std::uint64_t v) {
    return (v >> 1) ^ (0 - (v & 1));
}
} // namespace binfmt

// records() counts instructions and continuation records.
class BinaryTrace : public BufferedTrace {
  public:
    explicit BinaryTrace(const std::string& path);

    bool next(Instruction& insn) override;

  private:
    void start() override;
    [[noreturn]] void truncated() const;
    [[noreturn]] void corrupt(const std::string& what) const;

    bool done_ = false;
    Addr lastPc_ = 0;
    std::uint32_t lastSize_ = 0;
    Addr lastData_ = 0;
};

} // namespace tlmmu
