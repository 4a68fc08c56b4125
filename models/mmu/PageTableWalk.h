// The page-table walk algorithm, plain C++ (no SystemC): the PageWalker module supplies the
// memory through PteMemory (timed TLM), tests supply a plain array.
#pragma once

#include <array>

#include "common/Types.h"
#include "mmu/PteFormat.h"
#include "mmu/TlbEntry.h"

namespace tlmmu {

// Memory as the walker sees it. Return false for a bus error.
class PteMemory {
  public:
    virtual ~PteMemory() = default;
    virtual bool readPte(Addr pa, unsigned bytes, std::uint64_t& value) = 0;
    virtual bool writePte(Addr pa, unsigned bytes, std::uint64_t value) = 0;
};

struct WalkRequest {
    Addr va = 0;
    Asid asid = 0;
    AccessType access = AccessType::Read;
    Privilege priv = Privilege::User;
    Addr root = 0; // physical address of the root table
    // Where to start (a page-walk-cache hit skips the levels above): the table at start_level
    // begins at start_table. Default: the root.
    int start_level = -1; // -1 = format.levels()-1 with start_table = root
    Addr start_table = 0;
    unsigned start_flags = 0xff; // x86: restrictions accumulated above start_level
    bool hardware_ad = true;     // set A/D by a write; false: fault when A (or D) is missing
};

struct WalkResult {
    FaultKind fault = FaultKind::None;
    int fault_level = -1;
    TlbEntry entry; // valid when fault == None; asid = request asid, flags effective
    unsigned reads = 0;
    unsigned writes = 0; // A/D updates
    // Non-leaf entries read on this walk (for PageWalkCache fill): for each level l that was
    // read as a table, table_at[l-1] is the base of the next level's table.
    std::uint32_t tables_read_mask = 0;   // bit l: a TABLE entry was read at level l
    std::array<Addr, 8> next_table{};     // indexed by the level the TABLE entry was at
    std::array<unsigned, 8> path_flags{}; // x86: restriction flags accumulated down to level
};

WalkResult walkPageTable(const PteFormat& format, const WalkRequest& request, PteMemory& memory);

} // namespace tlmmu
