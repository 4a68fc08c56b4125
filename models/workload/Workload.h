// A stream of instructions, each with its fetch and its data references (plain C++).
//
// Continuation records: an Instruction with size == 0 is not an instruction. It carries data
// references that belong to the previous instruction (or to no instruction, when they come
// before the first one, e.g. a lackey trace that starts with data records; then pc == 0). The
// core neither fetches nor counts it, it only performs its references. Producers use it so
// that nothing is ever dropped: an instruction with more than kMaxRefs data references is
// split into the instruction (first kMaxRefs references) and as many continuation records as
// needed (pc = the owning instruction's pc, for diagnostics).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/Types.h"

namespace tlmmu {

enum class RefKind : std::uint8_t { Load, Store, Modify }; // Modify = read-modify-write

// The largest instruction or data reference a trace may hold, in bytes (both readers refuse
// larger ones: lackey text and binary traces accept the same records).
inline constexpr std::uint32_t kMaxAccessBytes = 4096;

struct DataRef {
    Addr addr = 0;
    std::uint32_t size = 0;
    RefKind kind = RefKind::Load;
};

struct Instruction {
    static constexpr unsigned kMaxRefs = 16;
    Addr pc = 0;
    std::uint32_t size = 0; // 0 = continuation record (see above): no fetch, not counted
    std::uint8_t num_refs = 0;
    DataRef refs[kMaxRefs];
};

class Workload {
  public:
    virtual ~Workload() = default;
    // Fills `insn` with the next instruction; false at the end. Throws InputError
    // ("FILE:LINE: what is wrong") on malformed or truncated input.
    virtual bool next(Instruction& insn) = 0;
    // Restarts from the beginning (prefault makes a first pass over the workload).
    virtual void rewind() = 0;
    virtual std::string describe() const = 0;
    // Where the stream is now, for messages about the last instruction read ("FILE:LINE").
    virtual std::string where() const { return describe(); }
};

} // namespace tlmmu
