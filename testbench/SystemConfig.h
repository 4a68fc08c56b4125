// Every setting of a system, read and checked from a Config in one place (this is also the
// list `tlmmu --list-keys` prints).
#pragma once

#include <memory>

#include "Scenario.h"

#include <map>
#include <string>
#include <vector>

#include "Config.h"
#include "memory/Memory.h"
#include "mmu/Mmu.h"
#include "mmu/PteFormat.h"
#include "workload/SyntheticWorkload.h"

namespace tlmmu {

// True for the keys of a synthetic workload ("pattern", "footprint", ...), given without prefix.
bool isSyntheticKey(const std::string& leaf);

// Reads the synthetic-workload keys under `prefix` (e.g. "workload.synthetic.") and validates.
SyntheticParams readSyntheticParams(Config& config, const std::string& prefix, std::uint64_t seed);

struct SystemConfig {
    std::uint64_t seed = 1;
    unsigned cores = 1;
    double base_cpi = 1.0;
    double frequency_ghz = 2.0;
    unsigned data_latency_cycles = 0;
    std::uint64_t quantum_cycles = 10000;
    std::uint64_t max_instructions = 0;

    std::string format_name = "x86_64";
    unsigned generic_page_bits = 12, generic_pte_bytes = 8, generic_levels = 3;
    MmuConfig mmu;

    MemoryConfig memory;
    unsigned interconnect_latency_cycles = 0;

    std::string workload_format = "synthetic"; // lackey|binary|synthetic
    std::string trace;
    bool prefault = false;
    bool checked = false;        // verify every load against what was stored (Core's checked mode)
    std::uint64_t page_size = 0; // pages of the implicit region (0 in the file: the base page)
    SyntheticParams synthetic;

    std::string scenario; // a scenario file: processes, VMAs, events (see Scenario.h)
    std::shared_ptr<const Scenario> scenario_parsed; // read and checked with the configuration
    std::uint64_t irq_entry_cycles = 200, irq_exit_cycles = 100;
    std::uint64_t ipi_latency_cycles = 1000;
    double ipi_drop_probability = 0.0;
    bool checker = false, fail_on_violation = false;
    // firmware.shootdown.*
    std::string shootdown_mechanism = "ipi", inject = "none";
    std::uint64_t ack_timeout_cycles = 100000, relax_cycles = 20, flush_ceiling = 33;
    bool batch = true, concurrent_flush = false, early_ack = false, lazy_tlb = false;
    // invalidation.*: the invalidation controller's timing (directed and broadcast)
    std::uint64_t invalidation_base_cycles = 0, invalidation_hop_cycles = 0;
    std::uint64_t time_slice_cycles = 1000000;
    std::uint64_t swap_slots = 65536, swap_latency_cycles = 20000;
    std::uint64_t memory_limit_frames = 0, switch_cycles = 0, fork_cycles = 0;
    std::uint64_t syscall_entry_cycles = 0, syscall_exit_cycles = 0; // around scenario events

    std::uint64_t fault_entry_cycles = 0, fault_exit_cycles = 0;
    std::uint64_t firmware_frames = 0; // 0 = all memory above the firmware's reserved first MiB

    nlohmann::json resolved;                         // every key with the value used
    std::map<std::string, Config::KeyInfo> key_info; // type, default, allowed values per key

    // Reads every key (so that all are validated whatever the workload), then rejects unknown
    // ones. Throws InputError naming the key.
    static SystemConfig fromConfig(Config& config);
    PteFormat format() const;

    // Why an explicitly given key has no effect in this system ("" when it has one). The one
    // rule both fromConfig (which refuses such keys) and toYaml (which leaves them out) use.
    // decider: set to the key whose value makes `key` ineffective.
    std::string inapplicable(const std::string& key, std::string* decider = nullptr) const;
    // firmware.shootdown.mechanism directed or broadcast: refuses the IPI options set true, the
    // injections that would leave nothing stale, and (broadcast) too few ASIDs for one per core
    // (InputError naming the key).
    void checkMechanism(const Config& config) const;
    // Keys of the file that --set made ineffective (printed as notes, not refused).
    std::vector<std::string> notes;
    // The resolved configuration (defaults included, keys without effect left out) as YAML that
    // --config reads back to the same system: `tlmmu --print-config`.
    std::string toYaml() const;
    // Every key with type, default, allowed values and meaning: `tlmmu --list-keys` (text) or
    // `--list-keys-json`.
    std::string describeKeys(bool as_json) const;
};

// The meaning of a key, for --list-keys ("" for an unknown key).
std::string keyMeaning(const std::string& key);

} // namespace tlmmu
