// For the Mmu and InvalidationController tests: a port that drives an Mmu's translate_socket
// the way a Core does (TranslationExtension), and the timing constants of their benches.
#pragma once

#include <gtest/gtest.h>
#include <systemc>
#include <tlm>

#include "common/Clock.h"
#include "common/TranslationExtension.h"
#include "mmu/Tlb.h"
#include "support/TlbArrays.h"
#include "systemc/TlmTestUtil.h"

namespace tlmmu::test {

// One TLB level: LRU, `latency` cycles per lookup (geometry and ASID width set by the Mmu).
inline TlbConfig tlbLevel(const char* name, unsigned entries, unsigned ways, unsigned latency) {
    TlbConfig c;
    c.name = name;
    c.entries = entries;
    c.ways = ways;
    c.replacement = Replacement::Lru;
    c.latency_cycles = latency;
    return c;
}

// Drives one Mmu (bind socket to its translate_socket).
struct MmuPort : Initiator {
    using Initiator::Initiator;

    // Sends ext; the annotation it took is returned in cycles of `clock`.
    Cycles send(TranslationExtension& ext, const Clock& clock) {
        tlm::tlm_generic_payload t;
        t.set_command(tlm::TLM_IGNORE_COMMAND);
        t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
        t.set_extension(&ext);
        sc_core::sc_time delay;
        socket->b_transport(t, delay);
        t.clear_extension(&ext);
        EXPECT_EQ(t.get_response_status(), tlm::TLM_OK_RESPONSE);
        return clock.toCycles(delay);
    }
    // A translation; `cycles` receives its whole time (TLB lookups + walk).
    TranslationExtension translate(Addr va, const Clock& clock, Cycles* cycles = nullptr,
                                   AccessType access = AccessType::Read,
                                   Privilege priv = Privilege::User) {
        TranslationExtension ext;
        ext.op = TranslationExtension::Op::Translate;
        ext.va = va;
        ext.access = access;
        ext.priv = priv;
        const Cycles c = send(ext, clock);
        if (cycles) *cycles = c;
        EXPECT_EQ(c, ext.tlb_cycles + ext.walk_cycles); // the parts add up to the whole
        return ext;
    }
    void setRoot(Addr root, Asid asid, const Clock& clock) {
        TranslationExtension ext;
        ext.op = TranslationExtension::Op::SetRoot;
        ext.root = root;
        ext.asid = asid;
        EXPECT_EQ(send(ext, clock), 0u);
    }
    // Returns the time the Mmu took to apply it (mmu.invalidate_*_cycles).
    Cycles invalidate(FlushKind kind, Addr va, Asid asid, const Clock& clock) {
        TranslationExtension ext;
        ext.op = TranslationExtension::Op::Invalidate;
        ext.flush_kind = static_cast<std::uint8_t>(kind);
        ext.va = va;
        ext.asid = asid;
        return send(ext, clock);
    }
};

} // namespace tlmmu::test
