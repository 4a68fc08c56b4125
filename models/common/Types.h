// Basic vocabulary shared by every layer of the model (plain C++, no SystemC).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace tlmmu {

using Addr = std::uint64_t;
using Cycles = std::uint64_t;
using Asid = std::uint16_t;

enum class AccessType : std::uint8_t { Read, Write, Execute };
enum class Privilege : std::uint8_t { User, Supervisor };

// Why a translation failed. The walker reports the first reason it meets, in walk order.
enum class FaultKind : std::uint8_t {
    None,
    NotPresent,          // invalid/non-present entry on the path
    Permission,          // R/W/X/U check failed at the leaf (or on the path, for x86)
    ReservedBits,        // reserved bits set, or a reserved encoding (e.g. RISC-V W without R)
    MisalignedSuperpage, // superpage whose low PPN bits are not zero
    BusError,            // a PTE read or A/D write got an error response
    NonCanonical,        // VA bits above the format's VA width are not a sign extension
    TlbMiss,             // software-managed TLB (mmu.tlb_refill: software): refill in firmware
};
// How many FaultKinds there are: arrays indexed by kind are this long.
constexpr std::size_t kFaultKinds = static_cast<std::size_t>(FaultKind::TlbMiss) + 1;

const char* toString(FaultKind kind);
const char* toString(AccessType access);

// Bad user input (configuration, trace, scenario). what() is one line naming file/line/key.
struct InputError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

} // namespace tlmmu
