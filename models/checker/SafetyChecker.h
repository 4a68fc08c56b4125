// Proves that no core ever uses a translation it should no longer have. It sees every access the
// cores make (core, address space, VA, PA, kind, time) and when each core obtained the
// translation it used (a walk, or a software refill), and it is told
//  - when a frame went back to the allocator (the firmware's trace port), and
//  - when a change that removes rights completed in an address space (unmap, discard, protect:
//    a range and what it keeps; fork: the right to write its private VMAs, now copy-on-write):
//    from then on no TLB may hold a translation obtained before the change began that grants a
//    removed right (the shootdown is done). Only what the change removed counts: a fork that
//    write-protected nothing need flush nothing, and its read-only translations stay good.
// An access through a translation obtained before its frame was freed (the frame may belong to
// another address space by now), or before a completed change removed the rights it uses, is a
// violation, reported with core, time, VA and PA.
//
// Order is host order, not simulated time: cores run ahead of each other by up to a quantum, but
// page tables, TLB fills and frees happen in the order the simulation performs them, and that
// order is what makes a translation stale. Plain C++.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/Types.h"

namespace tlmmu {

class SafetyChecker {
  public:
    // page_shift: the base page (frames and revocations are tracked per base page).
    explicit SafetyChecker(unsigned page_shift) : page_shift_(page_shift) {}

    // `core` obtained a translation for address space `space` covering va, a leaf whose page
    // size is 2^level_shift.
    void filled(unsigned core, int space, Addr va, unsigned level_shift);
    // `core` accessed va (translated to pa through that leaf) for `space` at time `now_ps`.
    void access(unsigned core, int space, Addr va, Addr pa, unsigned level_shift, AccessType kind,
                std::uint64_t now_ps);
    // The frame block at pa (2^order base frames) went back to the allocator at `now_ps` (the
    // freeing core's time). An access another core made at or after that time (it ran ahead)
    // through a translation to it is a violation too, found now.
    void frameFreed(Addr pa, unsigned order, std::uint64_t now_ps);
    // A change of `space` begins: the mark to pass to revoked() when it completes.
    std::uint64_t begin() { return ++seq_; }
    // The change begun at `since` completed: [start, end) of `space` keeps only `prot`
    // (FW_PROT_* bits; 0 = nothing).
    void revoked(int space, Addr start, Addr end, unsigned prot, std::uint64_t since);
    // The change begun at `since` completed: no translation of [start, end) of `space` obtained
    // before it may be used to write (fork: the private pages are copy-on-write now). Kept as a
    // range, however large the VMA (the run without a scenario has one of 2^47 bytes).
    void writesRevoked(int space, Addr start, Addr end, std::uint64_t since);

    std::uint64_t violations() const { return violations_; }
    const std::string& firstViolation() const { return first_; }

  private:
    struct Revocation {
        std::uint64_t since; // translations obtained before this are affected
        unsigned prot;       // what they may still do
    };
    void violation(unsigned core, int space, Addr va, Addr pa, AccessType kind,
                   std::uint64_t now_ps, const std::string& why);

    unsigned page_shift_;
    std::uint64_t seq_ = 0; // host order of fills, frees and changes
    // Per core: (space, level shift, VA >> shift) -> when the translation was obtained.
    std::unordered_map<unsigned, std::unordered_map<std::uint64_t, std::uint64_t>> fills_;
    std::unordered_map<std::uint64_t, std::uint64_t> freed_; // base frame -> last free
    std::unordered_map<std::uint64_t, Revocation> revoked_;  // (space, page) -> last change
    struct WriteRevocation {
        Addr start, end;
        std::uint64_t since;
    };
    // space -> ranges that lost the right to write (one entry per range: the last change).
    std::unordered_map<int, std::vector<WriteRevocation>> write_revoked_;
    struct LastAccess {
        std::uint64_t when_ps;
        Addr va;
        int space;
        AccessType kind;
    };
    // Base frame -> per core, its last access to it (for frees found after the access).
    std::unordered_map<std::uint64_t, std::unordered_map<unsigned, LastAccess>> last_;
    std::uint64_t violations_ = 0;
    std::string first_;
};

} // namespace tlmmu
