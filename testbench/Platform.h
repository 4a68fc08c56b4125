// Builds the SoC from a SystemConfig: cores with their Mmus, the interconnect and the memory,
// the firmware; binds the sockets, runs, and collects statistics.
#pragma once

#include <memory>
#include <ostream>
#include <vector>

#include "MemoryManagerOs.h"
#include "Scenario.h"
#include "SystemConfig.h"
#include "cache/CacheSystem.h"
#include "checker/SafetyChecker.h"
#include "common/Stats.h"
#include "core/Core.h"
#include "interconnect/Interconnect.h"
#include "interconnect/InvalidationController.h"
#include "irq/IpiController.h"
#include "memory/Memory.h"
#include "mmu/Mmu.h"
#include "swap/SwapDevice.h"

namespace tlmmu {

class Platform {
  public:
    // Physical address map of the interconnect.
    static constexpr Addr kMemoryBase = 0;
    static constexpr Addr kSwapBase = Addr{0xF} << 44; // above any memory.size the map allows
    static constexpr Addr kInvalidationBase = kSwapBase + 0x10000;
    static constexpr Addr kIpiBase = kSwapBase + 0x20000;

    explicit Platform(const SystemConfig& config, const Mmu::TlbFactory& make_tlb = nullptr);
    ~Platform();
    void run(); // sc_start until every core has finished
    // The same, calling `progress` between slices of simulated time (the results are the same).
    void run(const std::function<void()>& progress);
    std::uint64_t instructions() const; // executed so far, all cores
    // Instructions the run will execute, when the workloads say (synthetic ones); 0 unknown.
    std::uint64_t expectedInstructions() const;
    Stats& stats() { return stats_; }
    const Stats& stats() const { return stats_; }
    // First error of any core (bad trace, firmware panic), empty if none.
    std::string error() const;
    void printSummary(std::ostream& out) const;
    // Records a timeline of the run (events in [from_ps, to_ps), to 0: to the end); before run().
    // windowed: the window was asked for, page walks are drawn inside it (Timeline::windowed).
    void enableTimeline(std::uint64_t from_ps, std::uint64_t to_ps, bool windowed = false);
    nlohmann::json timelineJson() const;

  private:
    // The constructor's steps, in the order they bind sockets and register statistics.
    void buildDevices();
    void buildOs();
    void buildSwap();
    void buildCaches();
    CoreConfig coreConfig(unsigned i) const;
    void buildCore(unsigned i, const Mmu::TlbFactory& make_tlb);
    void registerStats();
    Scenario implicitScenario() const;
    void registerProcessStats(std::size_t process);
    void printCoreSummary(std::ostream& out, const nlohmann::json& c, unsigned i) const;
    void printProcessSummary(std::ostream& out, const nlohmann::json& json) const;

    SystemConfig config_;
    PteFormat format_;
    Clock clock_;
    Stats stats_;
    std::unique_ptr<Memory> memory_;
    std::unique_ptr<Interconnect> interconnect_;
    std::unique_ptr<CacheSystem> caches_;      // some cache.<level>.size non-zero
    std::shared_ptr<const Scenario> scenario_; // the file's, or the implicit one without a file
    std::unique_ptr<MemoryManagerOs> os_;
    std::unique_ptr<SwapDevice> swap_;
    std::unique_ptr<InvalidationController> invalidation_;
    std::unique_ptr<IpiController> ipi_;
    std::unique_ptr<SafetyChecker> checker_; // checker.enabled
    std::unique_ptr<Timeline> timeline_;     // --timeline
    std::vector<std::unique_ptr<Mmu>> mmus_;
    std::vector<std::unique_ptr<Core>> cores_;
};

} // namespace tlmmu
