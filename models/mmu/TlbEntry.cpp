#include "mmu/TlbEntry.h"

#include "arch/pte_format.h"

namespace tlmmu {

bool TlbEntry::global() const {
    return (flags & PTE_F_G) != 0;
}

FaultKind checkAccess(unsigned flags, AccessType access, Privilege priv) {
    if (!(flags & PTE_F_V)) return FaultKind::Permission;
    const bool user_page = (flags & PTE_F_U) != 0;
    if (priv == Privilege::User && !user_page) return FaultKind::Permission;
    // Supervisor may touch user data (as with RISC-V SUM=1 / x86 SMAP off) but never runs user
    // code (RISC-V always, x86 with SMEP): running user code with privilege is an exploit path.
    if (priv == Privilege::Supervisor && user_page && access == AccessType::Execute)
        return FaultKind::Permission;
    unsigned needed = 0;
    switch (access) {
    case AccessType::Read:
        needed = PTE_F_R;
        break;
    case AccessType::Write:
        needed = PTE_F_W;
        break;
    case AccessType::Execute:
        needed = PTE_F_X;
        break;
    }
    return (flags & needed) ? FaultKind::None : FaultKind::Permission;
}

} // namespace tlmmu
