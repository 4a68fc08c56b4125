// Hardware page walker with its page-walk cache: runs the walk algorithm (PageTableWalk) with
// every PTE read and A/D write as a timed TLM transaction on memory_socket.
#pragma once

#include <memory>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "cache/CacheSystem.h"
#include "common/Clock.h"
#include "common/Stats.h"
#include "mmu/PageTableWalk.h"
#include "mmu/PageWalkCache.h"

namespace tlmmu {

class PageWalker : public sc_core::sc_module {
  public:
    tlm_utils::simple_initiator_socket<PageWalker> memory_socket;

    PageWalker(sc_core::sc_module_name name, const PteFormat& format, const PwcConfig& pwc,
               const Clock& clock);
    ~PageWalker() override;
    // Walks for `request`; the walk's latency is added to `delay`.
    WalkResult walk(WalkRequest request, sc_core::sc_time& delay);
    void invalidate(FlushKind kind, Addr va, Asid asid) { pwc_.invalidate(kind, va, asid); }
    // The socket leads to a CacheSystem: count where each PTE read was served
    // (pte_reads_by_level). Call before registerStats.
    void countLevels();
    void registerStats(Stats& stats, const std::string& prefix,
                       const std::string& pwc_prefix) const;

  private:
    class TimedPteMemory;

    const PteFormat& format_;
    const Clock& clock_;
    PageWalkCache pwc_;
    std::unique_ptr<TimedPteMemory> memory_;

    std::uint64_t walks_ = 0, memory_reads_ = 0, memory_writes_ = 0, cycles_ = 0, faults_ = 0;
    std::uint64_t pwc_hits_ = 0, pwc_misses_ = 0;
    bool count_levels_ = false;
    // PTE reads by the cache level that served them (CacheLevel order: l1i unused).
    std::uint64_t reads_by_level_[6] = {};
    Histogram latency_;
};

} // namespace tlmmu
