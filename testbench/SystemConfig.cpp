#include "SystemConfig.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "Scenario.h"
#include "common/Stats.h"

extern "C" {
#include "kernel/mm.h"
}

namespace tlmmu {

namespace {
const char* const kSyntheticKeys[] = {
    "pattern",    "footprint", "instructions", "refs_per_instruction", "write_fraction", "stride",
    "zipf_theta", "data_base", "code_base",    "code_footprint",       "ref_size"};

// The longest delay one conversion may give: simulated time is a 64-bit count of picoseconds
// (SystemC's resolution), 2^64 ps = 213 days; a single delay is held to a quarter of it so that
// local times and their sums (the quantum keeper adds delays to the current time) cannot wrap.
constexpr std::uint64_t kMaxDelayPs = std::uint64_t{1} << 62;

} // namespace

// What each key means (`tlmmu --list-keys`); the type, default and allowed values come from
// the reads themselves (Config::keyInfo).
std::string keyMeaning(const std::string& key) {
    static const std::map<std::string, std::string> meanings = {
        {"seed", "seeds everything random (synthetic workloads: core i uses seed+i; random "
                 "replacement)"},
        {"cores", "cores, each with its own Mmu"},
        {"core.base_cpi", "cycles per instruction before translation costs"},
        {"core.frequency_ghz", "core clock; the period is rounded to a whole ps"},
        {"core.data_latency_cycles", "cycles added per data access (0: data costs only base CPI)"},
        {"core.max_instructions", "stop after this many instructions (0 = whole workload)"},
        {"sim.quantum_cycles", "global quantum of temporal decoupling"},
        {"mmu.format", "page-table format"},
        {"mmu.generic.page_bits", "generic format: page bits p"},
        {"mmu.generic.pte_bytes", "generic format: PTE bytes s"},
        {"mmu.generic.levels", "generic format: levels L (k = p - log2 s index bits a level)"},
        {"mmu.asid_bits", "ASID tag width in the TLBs and PWC (0 = untagged)"},
        {"mmu.invalidate_page_cycles", "time an Mmu takes to apply an invalidation of one page "
                                       "(x86 INVLPG), local or remote"},
        {"mmu.invalidate_asid_cycles", "time an Mmu takes to apply an invalidation of a whole ASID "
                                       "or of everything"},
        {"mmu.tlb_refill", "hardware: the walker refills; software: a last-level TLB miss "
                           "traps to the firmware's refill handler"},
        {"walker.hardware_ad", "the walker sets A/D with a write; false: a missing A/D bit "
                               "faults"},
        {"walker.pwc.entries", "page-walk-cache entries per table level (0 = no PWC)"},
        {"walker.pwc.ways", "page-walk-cache ways (0 = fully associative)"},
        {"walker.pwc.replacement", "page-walk-cache replacement policy"},
        {"memory.size", "modelled DRAM size (sparse: host memory follows pages touched)"},
        {"memory.latency_cycles", "memory latency per transaction"},
        {"memory.bytes_per_cycle", "transfer rate beyond the first beat"},
        {"interconnect.latency_cycles", "added once per interconnect transaction"},
        {"workload.format", "workload kind without a scenario"},
        {"workload.trace", "the trace file (lackey or binary; plain, .gz or .xz) for a trace "
                           "format"},
        {"workload.prefault", "map every page of the workload before the run, A and D set"},
        {"workload.page_size",
         "size of the pages the firmware maps in the implicit region of a run "
         "without a scenario (0: the format's base page)"},
        {"workload.checked", "stores write known values, every load is verified (without a "
                             "scenario)"},
        {"workload.scenario", "a scenario file: processes, VMAs, events (see Scenario.h)"},
        {"workload.synthetic.pattern", "synthetic address pattern"},
        {"workload.synthetic.footprint", "synthetic data footprint"},
        {"workload.synthetic.instructions", "synthetic instruction count"},
        {"workload.synthetic.refs_per_instruction", "data references per instruction"},
        {"workload.synthetic.write_fraction", "probability that a reference is a store"},
        {"workload.synthetic.stride", "strided pattern: step in bytes"},
        {"workload.synthetic.zipf_theta", "zipf pattern: skew"},
        {"workload.synthetic.data_base", "first data address"},
        {"workload.synthetic.code_base", "first instruction address"},
        {"workload.synthetic.code_footprint", "bytes of code the pcs walk through"},
        {"workload.synthetic.ref_size", "bytes per data reference (power of two)"},
        {"sched.time_slice_cycles", "round-robin time slice of the processes on a core "
                                    "(scenarios)"},
        {"swap.slots", "swap device size in pages (0 = no swap device)"},
        {"swap.latency_cycles", "swap device access time"},
        {"firmware.memory_limit_frames", "data frames in use never exceed this; beyond it pages "
                                         "are swapped out (0 = no limit)"},
        {"firmware.switch_cycles", "bookkeeping cost of a context switch"},
        {"firmware.fork_cycles", "bookkeeping cost of a fork"},
        {"firmware.syscall_entry_cycles", "system call entry cost of a scenario event (fork, map, "
                                          "unmap, protect, discard, exit)"},
        {"firmware.syscall_exit_cycles", "system call exit cost of a scenario event"},
        {"firmware.fault_entry_cycles", "trap entry cost per fault"},
        {"firmware.fault_exit_cycles", "trap exit cost per fault"},
        {"firmware.frames", "frames the firmware may allocate (0 = all memory above the first "
                            "MiB)"},
        {"firmware.irq_entry_cycles", "interrupt entry cost (a core taking an IPI)"},
        {"firmware.irq_exit_cycles", "interrupt exit cost"},
        {"ipi.latency_cycles", "IPI delivery time, from the sender's write to the target's "
                               "interrupt input"},
        {"ipi.drop_probability", "fault injection: the chance that an IPI delivery is lost "
                                 "(the firmware's ack timeout recovers it)"},
        {"firmware.shootdown.mechanism", "how a change reaches the other cores' TLBs: ipi "
                                         "(IPIs, target firmware flushes and acknowledges), "
                                         "directed (the invalidation controller, one operation "
                                         "per target core, no target firmware) or broadcast "
                                         "(one operation reaches every core, then a sync; "
                                         "global ASIDs; no IPI, no target firmware)"},
        {"invalidation.base_cycles", "invalidation controller: fixed cost of an operation "
                                     "(directed: added to the command; broadcast: to its "
                                     "completion, which the sync waits for)"},
        {"invalidation.hop_cycles", "invalidation controller: per Mmu an operation reaches (a "
                                    "broadcast reaches the k-th core after base + k hops)"},
        {"firmware.shootdown.ack_timeout_cycles", "an initiator resends its IPI to a target "
                                                  "silent this long"},
        {"firmware.shootdown.relax_cycles", "one polling step of a wait (acks, the lock)"},
        {"firmware.shootdown.flush_ceiling", "pages above which a range flush flushes the whole "
                                             "ASID (Linux x86: 33)"},
        {"firmware.shootdown.batch", "one shootdown per range (false: one per page)"},
        {"firmware.shootdown.concurrent_flush", "the initiator flushes locally while its IPIs "
                                                "travel"},
        {"firmware.shootdown.early_ack", "targets acknowledge on arrival and flush before "
                                         "returning to user code"},
        {"firmware.shootdown.lazy_tlb", "cores not running the address space are not "
                                        "interrupted; they flush when they next switch to it"},
        {"firmware.shootdown.inject", "fault injection: none, skip_ack_wait, skip_remote_flush "
                                      "or skip_local_flush (the checker must catch it)"},
        {"checker.enabled", "the safety checker sees every access and reports any use of a "
                            "stale translation (checker.violations)"},
        {"checker.fail_on_violation", "a violation fails the run (exit 1)"},
    };
    if (const auto it = meanings.find(key); it != meanings.end()) return it->second;
    // tlb.<level>.<field>
    static const std::map<std::string, std::string> tlb = {
        {"entries", "entries (0 = level absent)"},
        {"ways", "ways; must divide entries, entries/ways a power of two"},
        {"replacement", "replacement policy"},
        {"latency_cycles", "added to every lookup of this level"},
        {"impl", "model (C++) or rtl (Verilated)"},
        {"waveform", "impl rtl only: VCD file of the RTL TLB"},
    };
    for (const char* level : {"l1i", "l1d", "l2"}) {
        const std::string prefix = std::string("tlb.") + level + ".";
        if (key.rfind(prefix, 0) == 0)
            if (const auto it = tlb.find(key.substr(prefix.size())); it != tlb.end())
                return std::string(level) + " TLB: " + it->second;
    }
    return "";
}

namespace {
std::string gigahertz(double f) {
    std::ostringstream o;
    o << f;
    return o.str();
}

TlbConfig readTlb(Config& c, const std::string& name, unsigned entries, unsigned ways,
                  unsigned latency) {
    const std::string k = "tlb." + name;
    TlbConfig t;
    t.name = name;
    t.entries = static_cast<unsigned>(c.getUint(k + ".entries", entries, 0, 1u << 20));
    t.ways = static_cast<unsigned>(c.getUint(k + ".ways", ways, 1, 1u << 20));
    t.replacement =
        parseReplacement(c.getString(k + ".replacement", "lru", {"lru", "plru", "fifo", "random"}),
                         k + ".replacement");
    t.latency_cycles = static_cast<unsigned>(c.getUint(k + ".latency_cycles", latency, 0, 1000000));
    t.impl = c.getString(k + ".impl", "model", {"model", "rtl"});
    t.waveform = c.getPath(k + ".waveform", "");
    if (t.entries) validateGeometry(t.entries, t.ways, t.replacement, k);
    return t;
}
} // namespace

bool isSyntheticKey(const std::string& leaf) {
    for (const char* k : kSyntheticKeys)
        if (leaf == k) return true;
    return false;
}

SyntheticParams readSyntheticParams(Config& c, const std::string& k, std::uint64_t seed) {
    SyntheticParams p;
    p.pattern =
        c.getString(k + "pattern", p.pattern, {"stream", "strided", "random", "zipf", "gups"});
    p.footprint = c.getSize(k + "footprint", p.footprint);
    p.instructions = c.getUint(k + "instructions", p.instructions);
    p.refs_per_instruction = c.getDouble(k + "refs_per_instruction", p.refs_per_instruction, 0, 16);
    p.write_fraction = c.getDouble(k + "write_fraction", p.write_fraction, 0, 1);
    p.stride = c.getSize(k + "stride", p.stride);
    p.zipf_theta = c.getDouble(k + "zipf_theta", p.zipf_theta, 0, 100);
    p.data_base = c.getUint(k + "data_base", p.data_base);
    p.code_base = c.getUint(k + "code_base", p.code_base);
    p.code_footprint = c.getSize(k + "code_footprint", p.code_footprint);
    p.ref_size = static_cast<std::uint32_t>(c.getUint(k + "ref_size", p.ref_size, 1, 4096));
    p.seed = seed;
    try {
        p.validate();
    } catch (const InputError& e) {
        // validate() names its keys workload.synthetic.*; say where they really are.
        std::string msg = e.what();
        const std::string std_prefix = "workload.synthetic.";
        if (msg.rfind(std_prefix, 0) == 0) msg = k + msg.substr(std_prefix.size());
        throw InputError(msg);
    }
    return p;
}

SystemConfig SystemConfig::fromConfig(Config& c) {
    SystemConfig s;
    s.seed = c.getUint("seed", 1);
    s.cores = static_cast<unsigned>(c.getUint("cores", 1, 1, 256));
    s.base_cpi = c.getDouble("core.base_cpi", 1.0, 0.001, 1000.0);
    s.frequency_ghz = c.getDouble("core.frequency_ghz", 2.0, 0.001, 1000.0);
    s.data_latency_cycles =
        static_cast<unsigned>(c.getUint("core.data_latency_cycles", 0, 0, 1000000));
    s.max_instructions = c.getUint("core.max_instructions", 0);
    s.quantum_cycles = c.getUint("sim.quantum_cycles", 10000, 1);

    s.format_name =
        c.getString("mmu.format", "x86_64",
                    {"sv39", "sv48", "sv57", "x86_64", "x86_64_5level", "x86_32", "generic"});
    s.generic_page_bits = static_cast<unsigned>(c.getUint("mmu.generic.page_bits", 12, 0, 64));
    s.generic_pte_bytes = static_cast<unsigned>(c.getUint("mmu.generic.pte_bytes", 8, 0, 64));
    s.generic_levels = static_cast<unsigned>(c.getUint("mmu.generic.levels", 3, 0, 64));
    s.mmu.asid_bits = static_cast<unsigned>(c.getUint("mmu.asid_bits", 16, 0, 16));
    s.mmu.hardware_ad = c.getBool("walker.hardware_ad", true);
    s.mmu.invalidate_page_cycles = c.getUint("mmu.invalidate_page_cycles", 0, 0, 1000000);
    s.mmu.invalidate_asid_cycles = c.getUint("mmu.invalidate_asid_cycles", 0, 0, 1000000);
    s.mmu.software_refill =
        c.getString("mmu.tlb_refill", "hardware", {"hardware", "software"}) == "software";
    s.mmu.l1i = readTlb(c, "l1i", 64, 4, 0);
    s.mmu.l1d = readTlb(c, "l1d", 64, 4, 0);
    s.mmu.l2 = readTlb(c, "l2", 1536, 12, 7);
    for (TlbConfig* t : {&s.mmu.l1i, &s.mmu.l1d, &s.mmu.l2})
        t->seed = s.seed;
    s.mmu.pwc.entries = static_cast<unsigned>(c.getUint("walker.pwc.entries", 32, 0, 1u << 16));
    s.mmu.pwc.ways = static_cast<unsigned>(c.getUint("walker.pwc.ways", 0, 0, 1u << 16));
    s.mmu.pwc.replacement = parseReplacement(
        c.getString("walker.pwc.replacement", "lru", {"lru", "plru", "fifo", "random"}),
        "walker.pwc.replacement");
    if (s.mmu.pwc.entries)
        validateGeometry(s.mmu.pwc.entries, s.mmu.pwc.ways ? s.mmu.pwc.ways : s.mmu.pwc.entries,
                         s.mmu.pwc.replacement, "walker.pwc");
    s.mmu.pwc.asid_bits = s.mmu.asid_bits;
    s.mmu.pwc.seed = s.seed;

    s.memory.size = c.getSize("memory.size", std::uint64_t{4} << 30);
    if (s.memory.size < (std::uint64_t{4} << 20))
        throw InputError(
            "memory.size: at least 4MiB is needed (the firmware reserves the first MiB)");
    s.memory.latency_cycles =
        static_cast<unsigned>(c.getUint("memory.latency_cycles", 100, 0, 1000000));
    s.memory.bytes_per_cycle =
        static_cast<unsigned>(c.getUint("memory.bytes_per_cycle", 64, 1, 1u << 20));
    s.interconnect_latency_cycles =
        static_cast<unsigned>(c.getUint("interconnect.latency_cycles", 0, 0, 1000000));

    s.workload_format =
        c.getString("workload.format", "synthetic", {"lackey", "binary", "synthetic"});
    s.trace = c.getPath("workload.trace", "");
    s.prefault = c.getBool("workload.prefault", false);
    s.checked = c.getBool("workload.checked", false);
    s.page_size = c.getSize("workload.page_size", 0);
    s.synthetic = readSyntheticParams(c, "workload.synthetic.", s.seed);

    s.scenario = c.getPath("workload.scenario", "");
    s.time_slice_cycles = c.getUint("sched.time_slice_cycles", 1000000);
    s.swap_slots = c.getUint("swap.slots", 65536, 0, std::uint64_t{1} << 32);
    // NVMe-class: ~10 us at the default 2 GHz.
    s.swap_latency_cycles = c.getUint("swap.latency_cycles", 20000, 0, std::uint64_t{1} << 40);
    s.memory_limit_frames = c.getUint("firmware.memory_limit_frames", 0, 0, (1ull << 30) - 1);
    s.switch_cycles = c.getUint("firmware.switch_cycles", 500, 0, 100000000);
    s.fork_cycles = c.getUint("firmware.fork_cycles", 5000, 0, 100000000);
    s.syscall_entry_cycles = c.getUint("firmware.syscall_entry_cycles", 0, 0, 100000000);
    s.syscall_exit_cycles = c.getUint("firmware.syscall_exit_cycles", 0, 0, 100000000);
    s.fault_entry_cycles = c.getUint("firmware.fault_entry_cycles", 200, 0, 100000000);
    s.fault_exit_cycles = c.getUint("firmware.fault_exit_cycles", 100, 0, 100000000);
    s.firmware_frames = c.getUint("firmware.frames", 0, 0, (1ull << 30) - 1);
    s.irq_entry_cycles = c.getUint("firmware.irq_entry_cycles", 200, 0, 100000000);
    s.irq_exit_cycles = c.getUint("firmware.irq_exit_cycles", 100, 0, 100000000);
    s.ipi_latency_cycles = c.getUint("ipi.latency_cycles", 1000, 0, 100000000);
    s.ipi_drop_probability = c.getDouble("ipi.drop_probability", 0.0, 0.0, 1.0);
    s.shootdown_mechanism =
        c.getString("firmware.shootdown.mechanism", "ipi", {"ipi", "directed", "broadcast"});
    s.invalidation_base_cycles = c.getUint("invalidation.base_cycles", 0, 0, 100000000);
    s.invalidation_hop_cycles = c.getUint("invalidation.hop_cycles", 0, 0, 100000000);
    s.ack_timeout_cycles =
        c.getUint("firmware.shootdown.ack_timeout_cycles", 100000, 1, 1000000000);
    s.relax_cycles = c.getUint("firmware.shootdown.relax_cycles", 20, 1, 1000000);
    s.flush_ceiling = c.getUint("firmware.shootdown.flush_ceiling", 33, 1, 1u << 30);
    s.batch = c.getBool("firmware.shootdown.batch", true);
    s.concurrent_flush = c.getBool("firmware.shootdown.concurrent_flush", false);
    s.early_ack = c.getBool("firmware.shootdown.early_ack", false);
    s.lazy_tlb = c.getBool("firmware.shootdown.lazy_tlb", false);
    s.inject = c.getString("firmware.shootdown.inject", "none",
                           {"none", "skip_ack_wait", "skip_remote_flush", "skip_local_flush"});
    s.checker = c.getBool("checker.enabled", false);
    s.fail_on_violation = c.getBool("checker.fail_on_violation", false);

    c.checkUnused([&s](const std::string& k) { return s.inapplicable(k).empty(); });
    // Keys that were given but have no effect in the system as configured.
    for (const auto& [key, info] : c.keyInfo()) {
        const std::string where = c.where(key);
        if (where.empty()) continue; // a default is not a choice
        const nlohmann::json value = c.resolved()[Stats::pointer(key)];
        if (value.is_string() && value.get<std::string>().empty()) continue; // "none" given
        std::string decider;
        const std::string why = s.inapplicable(key, &decider);
        if (why.empty()) continue;
        // A file describes a base system that --set may change: a key of the file that the
        // command line made ineffective is a note, not an error.
        const bool overridden =
            where.rfind("--set", 0) != 0 && c.where(decider).rfind("--set", 0) == 0;
        if (!overridden) throw InputError(where + ": " + key + ": has no effect here: " + why);
        s.notes.push_back(where + ": " + key + ": has no effect after " + c.where(decider) + ": " +
                          why);
    }
    if (s.shootdown_mechanism != "ipi") s.checkMechanism(c);
    if (s.workload_format != "synthetic" && s.trace.empty())
        throw InputError("workload.trace: required when workload.format is " + s.workload_format);
    // Checks the format (and the generic parameters) now, with the key in the message.
    const PteFormat f = s.format();
    if (s.page_size == 0) s.page_size = f.tableBytes();
    bool page_ok = false;
    for (unsigned l = 0; l < f.levels(); ++l)
        if (f.leafAllowed(l) && (std::uint64_t{1} << f.levelShift(l)) == s.page_size)
            page_ok = true;
    if (!page_ok)
        throw InputError("workload.page_size: " + std::to_string(s.page_size) +
                         " bytes is not a page size of format " + s.format_name);
    // Simulated time is 64-bit picoseconds: no configured delay may come near wrapping it.
    const double period_ps = std::max(1.0, std::round(1000.0 / s.frequency_ghz));
    for (const auto& [key, info] : c.keyInfo()) {
        if (key.size() < 7 || key.compare(key.size() - 7, 7, "_cycles") != 0) continue;
        (void)info;
        const nlohmann::json v = c.resolved()[Stats::pointer(key)];
        const double ps = static_cast<double>(v.get<std::uint64_t>()) * period_ps;
        if (ps > static_cast<double>(kMaxDelayPs)) {
            const std::string where = c.where(key);
            throw InputError((where.empty() ? "" : where + ": ") + key + ": " +
                             std::to_string(v.get<std::uint64_t>()) + " cycles at " +
                             gigahertz(s.frequency_ghz) + " GHz (" +
                             std::to_string(static_cast<std::uint64_t>(period_ps)) +
                             " ps a cycle) is beyond the 2^62 ps (53 days) one delay may span "
                             "in simulated time (64-bit picoseconds); lower it or raise "
                             "core.frequency_ghz");
        }
    }
    // Every run goes through the memory manager: its core limit holds for all.
    if (s.cores > FW_MAX_CORES)
        throw InputError((c.where("cores").empty() ? "" : c.where("cores") + ": ") +
                         "cores: " + std::to_string(s.cores) + "; the memory manager's limit is " +
                         std::to_string(FW_MAX_CORES) + " (FW_MAX_CORES)");
    if (!s.scenario.empty()) {
        // The whole scenario is checked now, against this system's format, before anything runs.
        s.scenario_parsed =
            std::make_shared<const Scenario>(Scenario::fromFile(s.scenario, s.cores, f, s.seed));
    }
    s.resolved = c.resolved();
    s.key_info = c.keyInfo();
    return s;
}

void SystemConfig::checkMechanism(const Config& c) const {
    const auto refuse = [&c](const std::string& key, const std::string& what) {
        const std::string where = c.where(key);
        throw InputError((where.empty() ? "" : where + ": ") + key + ": " + what);
    };
    // IPI options: directed and broadcast invalidations send no IPI, so they would have no
    // effect (lazy_tlb spares cores an interrupt; nothing interrupts them here).
    const std::pair<const char*, bool> ipi_options[] = {
        {"firmware.shootdown.early_ack", early_ack},
        {"firmware.shootdown.concurrent_flush", concurrent_flush},
        {"firmware.shootdown.lazy_tlb", lazy_tlb}};
    for (const auto& [key, on] : ipi_options)
        if (on)
            refuse(key, "true is refused with firmware.shootdown.mechanism " + shootdown_mechanism +
                            " (an IPI option; " + shootdown_mechanism + " sends no IPI)");
    if (inject == "skip_ack_wait")
        refuse("firmware.shootdown.inject",
               "skip_ack_wait is refused with firmware.shootdown.mechanism " + shootdown_mechanism +
                   " (there are no acknowledgements; skip_remote_flush is the injection that "
                   "applies)");
    if (shootdown_mechanism != "broadcast") return;
    if (inject == "skip_local_flush")
        refuse("firmware.shootdown.inject",
               inject + " is refused with firmware.shootdown.mechanism broadcast (it would leave "
                        "nothing stale; skip_remote_flush is the injection that applies)");
    const std::uint64_t asids = (std::uint64_t{1} << mmu.asid_bits) - 1;
    if (mmu.asid_bits != 0 && asids < cores)
        refuse("mmu.asid_bits", std::to_string(mmu.asid_bits) + " bits give " +
                                    std::to_string(asids) +
                                    " ASIDs; firmware.shootdown.mechanism broadcast (one global "
                                    "ASID per address space) needs at least one per core (" +
                                    std::to_string(cores) + " cores)");
}

std::string SystemConfig::inapplicable(const std::string& key, std::string* decider) const {
    std::string ignored;
    std::string& by = decider ? *decider : ignored;
    auto starts = [&](const char* prefix) { return key.rfind(prefix, 0) == 0; };
    const bool with_scenario = !scenario.empty();
    by = "workload.scenario";
    if (with_scenario) {
        if (key == "workload.trace" || key == "workload.format" || starts("workload.synthetic."))
            return "the scenario's processes have their own workloads (workload.scenario wins); "
                   "remove " +
                   key + " or run without a scenario";
        if (key == "workload.checked")
            return "with a scenario, put 'checked: true' in the scenario's workload of each "
                   "process";
        if (key == "workload.page_size") return "with a scenario, a VMA says its page_size";
    } else {
        by = "workload.format";
        if (key == "workload.trace" && workload_format == "synthetic")
            return "workload.format is synthetic; set workload.format to lackey or binary to run "
                   "the trace";
        if (starts("workload.synthetic.") && workload_format != "synthetic")
            return "workload.format is " + workload_format +
                   "; synthetic keys apply only to workload.format synthetic";
        by = "workload.scenario";
        if (key == "sched.time_slice_cycles")
            return "without a scenario each core runs one process, so there is nothing to "
                   "time-slice";
        if (starts("firmware.syscall_"))
            return "without a scenario there are no events, so no system calls";
    }
    by = "firmware.shootdown.mechanism";
    if (starts("invalidation.") && shootdown_mechanism == "ipi")
        return "firmware.shootdown.mechanism is ipi; the invalidation controller carries only "
               "directed and broadcast invalidations";
    by = "checker.enabled";
    if (key == "checker.fail_on_violation" && !checker)
        return "checker.enabled is false; enable the checker for it to find violations";
    by = "mmu.format";
    if (starts("mmu.generic.") && format_name != "generic")
        return "mmu.format is " + format_name +
               "; the generic parameters apply only to "
               "mmu.format generic";
    for (const TlbConfig* t : {&mmu.l1i, &mmu.l1d, &mmu.l2})
        if (key == "tlb." + t->name + ".waveform" && t->impl != "rtl") {
            by = "tlb." + t->name + ".impl";
            return "tlb." + t->name + ".impl is " + t->impl +
                   "; a waveform is dumped only by impl rtl";
        }
    by.clear();
    return "";
}

std::string SystemConfig::toYaml() const {
    YAML::Emitter out;
    // Nested mappings, as the configuration files are written; keys that have no effect are
    // left out (they would be refused), paths made absolute (the file may be read elsewhere).
    std::function<void(const nlohmann::json&, const std::string&)> emit =
        [&](const nlohmann::json& j, const std::string& prefix) {
            out << YAML::BeginMap;
            for (auto it = j.begin(); it != j.end(); ++it) {
                const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
                if (it->is_object()) {
                    bool any = false;
                    for (const auto& [k, _] : key_info)
                        any = any || (k.rfind(key + ".", 0) == 0 && inapplicable(k).empty());
                    if (!any) continue;
                    out << YAML::Key << it.key() << YAML::Value;
                    emit(*it, key);
                    continue;
                }
                if (!inapplicable(key).empty()) continue;
                out << YAML::Key << it.key() << YAML::Value;
                const auto info = key_info.find(key);
                const std::string type = info == key_info.end() ? "" : info->second.type;
                if (it->is_boolean()) {
                    out << (it->get<bool>() ? "true" : "false");
                } else if (it->is_number_unsigned() || it->is_number_integer()) {
                    out << std::to_string(it->get<std::uint64_t>());
                } else if (it->is_number_float()) {
                    char buf[40];
                    std::snprintf(buf, sizeof buf, "%.17g", it->get<double>());
                    out << std::string(buf);
                } else {
                    std::string v = it->get<std::string>();
                    if (type == "path" && !v.empty())
                        v = std::filesystem::absolute(v).lexically_normal().string();
                    out << YAML::DoubleQuoted << v;
                }
            }
            out << YAML::EndMap;
        };
    emit(resolved, "");
    return std::string(out.c_str()) + "\n";
}

std::string SystemConfig::describeKeys(bool as_json) const {
    nlohmann::json all = nlohmann::json::object();
    std::ostringstream text;
    for (const auto& [key, info] : key_info) {
        const std::string meaning = keyMeaning(key);
        all[key] = {{"type", info.type},
                    {"default", info.def},
                    {"allowed", info.allowed},
                    {"meaning", meaning}};
        text << key << "  (" << info.type << ", default " << info.def.dump() << "; " << info.allowed
             << ")\n    " << meaning << "\n";
    }
    return as_json ? all.dump(2) + "\n" : text.str();
}

PteFormat SystemConfig::format() const {
    return PteFormat::fromName(format_name, "mmu.format", generic_page_bits, generic_pte_bytes,
                               generic_levels);
}

} // namespace tlmmu
