// The one sideband extension of the core <-> Mmu socket: what to do (translate, invalidate, set
// the root/ASID register), the request's attributes, and the answer.
#pragma once

#include <tlm>

#include "common/Types.h"

namespace tlmmu {

// The DMI of translation: what an Mmu lets its core reuse without another call, for one L1 TLB
// hit (QEMU's softmmu fast path, gem5's atomic mode). Valid while *epoch equals `at` (the Mmu
// bumps it on every change of an L1 TLB, of its root or ASID); for the VAs with
// va & ~mask == va_tag and the access types in `allowed` (bit per AccessType). The core that
// reuses it counts the lookup (accesses, hits) and its latency itself: an L1 hit repeated on
// the entry it just used changes no replacement state, so nothing else differs.
struct TranslationGrant {
    const std::uint64_t* epoch = nullptr; // null: no grant
    std::uint64_t at = 0;
    Addr va_tag = 0, mask = 0, pa_tag = 0;
    std::uint8_t level = 0, allowed = 0;
    std::uint64_t *accesses = nullptr, *hits = nullptr;
    Cycles latency_cycles = 0;
    bool covers(Addr va, AccessType access) const {
        return epoch && *epoch == at && (va & ~mask) == va_tag &&
               (allowed >> static_cast<unsigned>(access) & 1u);
    }
};

struct TranslationExtension : tlm::tlm_extension<TranslationExtension> {
    enum class Op : std::uint8_t { Translate, Invalidate, SetRoot, TlbWrite };

    // request
    Op op = Op::Translate;
    unsigned core_id = 0;
    Addr va = 0;
    Asid asid = 0;
    AccessType access = AccessType::Read;
    Privilege priv = Privilege::User;
    std::uint8_t flush_kind = 0; // FlushKind, for Invalidate
    Addr root = 0;               // for SetRoot
    // for TlbWrite (software-managed TLB): the entry, vpn in `va`
    std::uint64_t ppn = 0;
    std::uint8_t level = 0, flags = 0;

    // response
    Addr pa = 0;
    FaultKind fault = FaultKind::None;
    Cycles tlb_cycles = 0;  // TLB lookup latency spent
    Cycles walk_cycles = 0; // page-walk latency spent
    bool walked = false;    // Translate: the translation came from a walk now (not a TLB hit)
    // The walk's PTE reads and A/D writes, and the level it ended at (the leaf's or the
    // fault's): it read the levels walk_level + walk_reads - 1 down to walk_level.
    std::uint8_t walk_reads = 0, walk_writes = 0, walk_level = 0;
    // (Translate responses also set `level`: the level of the leaf that translated.)
    // Translate: set when the Mmu grants reuse of this translation (an L1 hit), else cleared.
    TranslationGrant grant;

    tlm::tlm_extension_base* clone() const override { return new TranslationExtension(*this); }
    void copy_from(const tlm::tlm_extension_base& other) override {
        *this = static_cast<const TranslationExtension&>(other);
    }
};

} // namespace tlmmu
