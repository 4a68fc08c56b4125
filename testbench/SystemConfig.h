// Every setting of a system, read and checked from a Config in one place. The keys, their
// defaults, ranges and meanings are the key table's (KeyTable.h); this struct is where their
// values land.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "Config.h"
#include "KeyTable.h"
#include "Scenario.h"
#include "cache/CacheHierarchy.h"
#include "memory/Memory.h"
#include "mmu/Mmu.h"
#include "mmu/PteFormat.h"
#include "workload/SyntheticWorkload.h"

extern "C" {
#include "kernel/mm.h"
}

namespace tlmmu {

struct SystemConfig {
    std::uint64_t seed = 0;
    unsigned cores = 0;
    double base_cpi = 0, frequency_ghz = 0;
    unsigned data_latency_cycles = 0;
    std::uint64_t quantum_cycles = 0, max_instructions = 0;

    std::string format_name;
    unsigned generic_page_bits = 0, generic_pte_bytes = 0, generic_levels = 0;
    MmuConfig mmu;

    MemoryConfig memory;
    CacheHierarchyConfig caches; // no level present: no hierarchy
    CacheEntry walker_cache_level = CacheEntry::L1;
    bool cache_data = false;
    bool hasCaches() const {
        return caches.l1i.size || caches.l1d.size || caches.l2.size || caches.llc.size;
    }
    unsigned interconnect_latency_cycles = 0;

    WorkloadSpec workload; // of every core's process, without a scenario
    bool prefault = false;
    std::uint64_t page_size = 0; // pages of the implicit region (the format's base page if 0)
    std::string scenario;        // a scenario file (docs/scenarios.md)
    std::shared_ptr<const Scenario> scenario_parsed; // read and checked with the configuration

    std::uint64_t ipi_latency_cycles = 0;
    double ipi_drop_probability = 0;
    std::uint64_t invalidation_base_cycles = 0, invalidation_hop_cycles = 0;
    std::uint64_t time_slice_cycles = 0, swap_latency_cycles = 0;
    std::uint64_t firmware_frames = 0; // 0 = all memory above the firmware's reserved first MiB
    bool checker = false, fail_on_violation = false;
    // What the keys give the firmware; the platform fills in the rest (memory, devices).
    fw_kernel_config firmware{};

    nlohmann::json resolved; // every key with the value used
    // Keys set where they can have no effect, one line each (tlmmu prints them as one warning;
    // with strict, fromConfig refuses them instead).
    std::vector<std::string> ineffective;

    // Reads every key of the table (so that all are validated whatever the workload), rejects
    // unknown ones and contradictions. Throws InputError naming the key.
    static SystemConfig fromConfig(Config& config, bool strict = false);
    PteFormat format() const;
    // Why `key` has no effect in this system ("" when it has one).
    std::string inapplicable(const std::string& key, std::string* decider = nullptr) const;
    // The resolved configuration (defaults included, keys without effect left out) as YAML that
    // --config reads back to the same system: `tlmmu --print-config`.
    std::string toYaml() const;

  private:
    void check(const Config& c);
    void checkFirmware(const Config& c) const;
    void checkCaches(const Config& c) const;
    void collectIneffective(const Config& c, bool strict);
};

} // namespace tlmmu
