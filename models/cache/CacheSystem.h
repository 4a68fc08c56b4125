// The SystemC shell of CacheHierarchy: per core a data, a fetch and a walker target socket
// (multi_passthrough: the i-th binding of each socket is core i), and an initiator socket to
// the interconnect that carries LLC misses and write-backs to memory, so that
// memory.latency_cycles and the interconnect's latency are what a DRAM access costs.
//
// Everything a core sends can go through it: an address outside the cacheable ranges
// (addCacheable; none added = every address) passes on to the interconnect untouched (MMIO,
// timed there), DMI requests pass on too (the bytes move by DMI; caches model timing and
// state, never data), and DMI invalidations come back to every binding.
// A transaction on a target socket to a cacheable address is timed by the hierarchy (its
// cycles are added to the delay, never replacing it) and:
// - TLM_IGNORE_COMMAND: timing and cache state only (a core that moves the bytes by DMI);
// - read or write: timing, and the bytes move by the interconnect's debug transport (no time
//   of its own), so the walker reads real PTEs through its caches.
// The access kind is a CacheAccessExtension when the transaction carries one, else Load or
// Store by command (Fetch on the fetch socket); walker transactions enter at walker_entry.
//
// Towards memory: a fill is a read of one line (the bytes read are dropped), a write-back a
// TLM_IGNORE_COMMAND of one line: the data is already in memory (DMI and debug writes put it
// there), a write would overwrite it. Both are timed by the interconnect and the memory.
#pragma once

#include <memory>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/simple_initiator_socket.h>

#include "cache/CacheHierarchy.h"
#include "common/Clock.h"
#include "common/Stats.h"

namespace tlmmu {

// What a core's access is, when command alone does not say: Atomic (on the data socket) or
// Fetch (on any socket).
struct CacheAccessExtension : tlm::tlm_extension<CacheAccessExtension> {
    CacheAccessKind kind = CacheAccessKind::Load;
    explicit CacheAccessExtension(CacheAccessKind k = CacheAccessKind::Load) : kind(k) {}
    tlm::tlm_extension_base* clone() const override { return new CacheAccessExtension(kind); }
    void copy_from(const tlm::tlm_extension_base& other) override {
        kind = static_cast<const CacheAccessExtension&>(other).kind;
    }
};

// What the hierarchy did with an access, filled in when the transaction carries one (the
// walker's pte_reads_by_level, a core's CPI stack): where it was served, its cycles, and
// whether it was a coherence miss. Left unchanged on uncacheable addresses.
struct CacheResultExtension : tlm::tlm_extension<CacheResultExtension> {
    CacheAccessResult result;
    tlm::tlm_extension_base* clone() const override { return new CacheResultExtension(*this); }
    void copy_from(const tlm::tlm_extension_base& other) override {
        result = static_cast<const CacheResultExtension&>(other).result;
    }
};

class CacheSystem : public sc_core::sc_module, private MemoryPort {
  public:
    // Zero or more bindings: a core without a fetch path or without a walker binds none.
    template <class M>
    using TargetSocket =
        tlm_utils::multi_passthrough_target_socket<M, 32, tlm::tlm_base_protocol_types, 0,
                                                   sc_core::SC_ZERO_OR_MORE_BOUND>;
    TargetSocket<CacheSystem> data_socket;
    TargetSocket<CacheSystem> fetch_socket;
    TargetSocket<CacheSystem> walker_socket;
    tlm_utils::simple_initiator_socket<CacheSystem> memory_socket;

    CacheSystem(sc_core::sc_module_name name, const CacheHierarchyConfig& config,
                CacheEntry walker_entry, const Clock& clock);

    // cores[i].cache.<l1i|l1d|l2>.{accesses,hits,misses,coherence_misses,writebacks} for the
    // levels present, cache.llc.{accesses,hits,misses,writebacks},
    // cache.coherence.{transfers,invalidations,back_invalidations}.
    void registerStats(Stats& stats) const;
    // [base, base + size) is cached (memory); call once per range before the run.
    void addCacheable(Addr base, std::uint64_t size) { cacheable_.push_back({base, size}); }
    CacheHierarchy& hierarchy() { return hierarchy_; }

  private:
    enum class Port : std::uint8_t { Data, Fetch, Walker };

    void end_of_elaboration() override; // more bindings than cores is an error

    void data_b_transport(int core, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    void fetch_b_transport(int core, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    void walker_b_transport(int core, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    unsigned transport_dbg(int core, tlm::tlm_generic_payload& trans);
    bool get_direct_mem_ptr(int core, tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi);
    void invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end);
    bool cacheable(Addr addr) const;
    void access(Port port, int core, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    void moveBytes(tlm::tlm_generic_payload& trans);
    Cycles fill(Addr pa) override;
    Cycles writeback(Addr pa) override;
    Cycles lineTransaction(tlm::tlm_command command, Addr pa);

    const Clock& clock_;
    CacheEntry walker_entry_;
    CacheHierarchy hierarchy_;
    std::vector<unsigned char> line_buffer_; // where fills put the bytes nobody reads
    struct Range {
        Addr base;
        std::uint64_t size;
    };
    std::vector<Range> cacheable_;
};

} // namespace tlmmu
