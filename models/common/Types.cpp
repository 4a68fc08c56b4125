#include "common/Types.h"

namespace tlmmu {

const char* toString(FaultKind kind) {
    switch (kind) {
    case FaultKind::None:
        return "none";
    case FaultKind::NotPresent:
        return "not_present";
    case FaultKind::Permission:
        return "permission";
    case FaultKind::ReservedBits:
        return "reserved_bits";
    case FaultKind::MisalignedSuperpage:
        return "misaligned_superpage";
    case FaultKind::BusError:
        return "bus_error";
    case FaultKind::NonCanonical:
        return "non_canonical";
    case FaultKind::TlbMiss:
        return "tlb_miss";
    }
    return "?";
}

const char* toString(AccessType access) {
    switch (access) {
    case AccessType::Read:
        return "read";
    case AccessType::Write:
        return "write";
    case AccessType::Execute:
        return "execute";
    }
    return "?";
}

} // namespace tlmmu
