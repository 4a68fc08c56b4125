// One cached translation, the unit the TLBs (C++ and RTL) and the walker exchange.
#pragma once

#include "arch/pte_format.h"
#include "common/Types.h"

namespace tlmmu {

struct TlbEntry {
    std::uint64_t vpn = 0; // VA >> page_shift (base pages), low level*k bits zero
    std::uint64_t ppn = 0; // PA >> page_shift (base pages), low level*k bits zero
    Asid asid = 0;
    std::uint8_t level = 0; // 0 = base page, >0 = superpage at that table level
    std::uint8_t flags = 0; // PTE_F_* of abi/arch/pte_format.h (effective permissions)

    bool global() const { return (flags & PTE_F_G) != 0; }
    bool operator==(const TlbEntry& o) const {
        return vpn == o.vpn && ppn == o.ppn && asid == o.asid && level == o.level &&
               flags == o.flags;
    }
};

// Shape of the address for a TLB: base page shift and index bits per level.
struct PageGeometry {
    unsigned page_shift = 12;
    unsigned index_bits = 9;
    unsigned levels = 4;
    std::uint32_t leaf_level_mask = 1; // levels at which leaves may exist
    unsigned levelShift(unsigned level) const { return page_shift + level * index_bits; }
    // Number of base-page VPN bits ignored by an entry at this level.
    unsigned levelVpnBits(unsigned level) const { return level * index_bits; }
};

// Checks an access against an entry's effective flags. Returns None or Permission.
// A write to an entry whose D bit is clear is allowed here: the caller re-walks to set D.
// Inline: it runs on every TLB hit.
inline FaultKind checkAccess(unsigned flags, AccessType access, Privilege priv) {
    if (!(flags & PTE_F_V)) return FaultKind::Permission;
    const bool user_page = (flags & PTE_F_U) != 0;
    if (priv == Privilege::User && !user_page) return FaultKind::Permission;
    // Supervisor may touch user data (as with RISC-V SUM=1 / x86 SMAP off) but never runs user
    // code (RISC-V always, x86 with SMEP): running user code with privilege is an exploit path.
    if (priv == Privilege::Supervisor && user_page && access == AccessType::Execute)
        return FaultKind::Permission;
    const unsigned needed = access == AccessType::Read    ? PTE_F_R
                            : access == AccessType::Write ? PTE_F_W
                                                          : PTE_F_X;
    return (flags & needed) ? FaultKind::None : FaultKind::Permission;
}

} // namespace tlmmu
