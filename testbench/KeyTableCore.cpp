// The key table's hardware groups: the system and its cores, the Mmu and its TLBs, the walker,
// memory and interconnect, the caches, the checker.
#include "KeyTableBuilder.h"

extern "C" {
#include "kernel/mm.h"
}

namespace tlmmu::keytable {

namespace {

std::vector<Choice> replacementChoices() {
    return {{"lru", static_cast<std::int64_t>(Replacement::Lru)},
            {"plru", static_cast<std::int64_t>(Replacement::Plru)},
            {"fifo", static_cast<std::int64_t>(Replacement::Fifo)},
            {"random", static_cast<std::int64_t>(Replacement::Random)}};
}

void addTlbLevel(Table& t, const char* level, TlbConfig MmuConfig::*member, unsigned entries,
                 unsigned ways, unsigned latency) {
    const std::string k = std::string("tlb.") + level;
    const std::string what = std::string(level) + " TLB: ";
    const Condition present = nonZero(k + ".entries");
    // Member pointers: one accessor per field of this level.
    auto tlb = [member](SystemConfig& s) -> TlbConfig& { return s.mmu.*member; };
    t.add(
        Key(k + ".entries")
            .integer(entries, 0, 1u << 20)
            .unit("entries")
            .meaning(what + "entries (0 = level absent)"),
        [tlb](SystemConfig & s) -> auto& { return tlb(s).entries; });
    t.add(
        Key(k + ".ways")
            .integer(ways, 1, 1u << 20)
            .unit("ways")
            .meaning(what + "ways; must divide entries, entries/ways a power of two")
            .when({present}),
        [tlb](SystemConfig & s) -> auto& { return tlb(s).ways; });
    t.add(
        Key(k + ".replacement")
            .choice("lru", replacementChoices())
            .meaning(what + "replacement policy")
            .when({present}),
        [tlb](SystemConfig & s) -> auto& { return tlb(s).replacement; });
    t.add(
        Key(k + ".latency_cycles")
            .integer(latency, 0, 1000000)
            .unit("cycles")
            .meaning(what + "added to every lookup of this level")
            .when({present}),
        [tlb](SystemConfig & s) -> auto& { return tlb(s).latency_cycles; });
    t.add(
        Key(k + ".impl")
            .choice("model", std::vector<std::string>{"model", "rtl"})
            .meaning(what + "model (C++) or rtl (Verilated, needs a build with Verilator)")
            .when({present}),
        [tlb](SystemConfig & s) -> auto& { return tlb(s).impl; });
    t.add(
        Key(k + ".waveform")
            .path()
            .meaning(what + "VCD file of the RTL TLB")
            .when({present, is(k + ".impl", {"rtl"})}),
        [tlb](SystemConfig & s) -> auto& { return tlb(s).waveform; });
}

// One cache level: cache.<level>.{size,ways,line_bytes,latency_cycles,replacement}.
void addCacheLevel(Table& t, const char* level, CacheConfig CacheHierarchyConfig::*member,
                   const char* what, std::uint64_t size, unsigned ways, unsigned latency) {
    const std::string k = std::string("cache.") + level;
    const std::string w = std::string(what) + ": ";
    const Condition present = nonZero(k + ".size");
    auto cache = [member](SystemConfig& s) -> CacheConfig& { return s.caches.*member; };
    t.add(
        Key(k + ".size")
            .size(size, 0, std::uint64_t{1} << 40)
            .unit("bytes")
            .meaning(w + "capacity (0 = level absent); size/(ways*line_bytes) a power of two"),
        [cache](SystemConfig & s) -> auto& { return cache(s).size; });
    t.add(
        Key(k + ".ways")
            .integer(ways, 1, 1024)
            .unit("ways")
            .meaning(w + "associativity")
            .when({present}),
        [cache](SystemConfig & s) -> auto& { return cache(s).ways; });
    t.add(
        Key(k + ".line_bytes")
            .integer(64, 4, 4096)
            .unit("bytes")
            .meaning(w + "line size, a power of two, the same at every present level")
            .when({present}),
        [cache](SystemConfig & s) -> auto& { return cache(s).line_bytes; });
    t.add(
        Key(k + ".latency_cycles")
            .integer(latency, 0, 1000000)
            .unit("cycles")
            .meaning(w + "added to every access that looks this level up, hit or miss")
            .when({present}),
        [cache](SystemConfig & s) -> auto& { return cache(s).latency_cycles; });
    t.add(
        Key(k + ".replacement")
            .choice("lru", replacementChoices())
            .meaning(w + "replacement policy")
            .when({present}),
        [cache](SystemConfig & s) -> auto& { return cache(s).replacement; });
}

} // namespace

void addSystemKeys(Table& t) {
    t.add(Key("seed").integer(1).meaning(
              "seeds everything random (synthetic workloads: core i uses seed+i; random "
              "replacement; IPI drops)"),
          AT(seed));
    t.addFw(
        Key("cores")
            .integer(1, 1, FW_MAX_CORES)
            .unit("cores")
            .meaning("cores, each with its own Mmu (without a scenario: its own process)"),
        "cores", AT(cores), [](SystemConfig & s) -> auto& { return s.firmware.cores; });
    t.add(Key("core.base_cpi")
              .number(1.0, 0.001, 1000.0)
              .unit("cycles/instruction")
              .meaning("cycles per instruction before translation costs (exact to 1e-6 cycle)"),
          AT(base_cpi));
    t.add(Key("core.frequency_ghz")
              .number(2.0, 0.001, 1000.0)
              .unit("GHz")
              .meaning("core clock; the period is rounded to a whole ps"),
          AT(frequency_ghz));
    t.add(Key("core.data_latency_cycles")
              .integer(0, 0, 1000000)
              .unit("cycles")
              .meaning("cycles added per data access (0: data costs only base CPI)"),
          AT(data_latency_cycles));
    t.add(Key("core.max_instructions")
              .integer(0)
              .unit("instructions")
              .meaning("stop each core after this many instructions (0 = whole workload)"),
          AT(max_instructions));
    t.add(Key("sim.quantum_cycles")
              .integer(10000, 1)
              .unit("cycles")
              .meaning("global quantum of temporal decoupling (what crosses cores synchronises "
                       "regardless)"),
          AT(quantum_cycles));
}

void addMmuKeys(Table& t) {
    t.add(Key("mmu.format")
              .choice("x86_64", std::vector<std::string>{"sv39", "sv48", "sv57", "x86_64",
                                                         "x86_64_5level", "x86_32", "generic"})
              .meaning("page-table format"),
          AT(format_name));
    const Condition generic = is("mmu.format", {"generic"});
    t.add(Key("mmu.generic.page_bits")
              .integer(12, 0, 64)
              .unit("bits")
              .meaning("generic format: page bits p")
              .when({generic}),
          AT(generic_page_bits));
    t.add(Key("mmu.generic.pte_bytes")
              .integer(8, 0, 64)
              .unit("bytes")
              .meaning("generic format: PTE bytes s")
              .when({generic}),
          AT(generic_pte_bytes));
    t.add(Key("mmu.generic.levels")
              .integer(3, 0, 64)
              .unit("levels")
              .meaning("generic format: levels L (k = p - log2 s index bits a level)")
              .when({generic}),
          AT(generic_levels));
    t.addFw(
        Key("mmu.asid_bits")
            .integer(16, 0, 16)
            .unit("bits")
            .meaning("ASID tag width in the TLBs and PWC (0 = untagged: every switch flushes)"),
        "asid_bits", AT(mmu.asid_bits),
        [](SystemConfig & s) -> auto& { return s.firmware.asid_bits; });
    t.add(Key("mmu.invalidate_page_cycles")
              .integer(0, 0, 1000000)
              .unit("cycles")
              .meaning("time an Mmu takes to apply an invalidation of one page (x86 INVLPG), "
                       "local or from another core"),
          AT(mmu.invalidate_page_cycles));
    t.add(Key("mmu.invalidate_asid_cycles")
              .integer(0, 0, 1000000)
              .unit("cycles")
              .meaning("time an Mmu takes to apply an invalidation of a whole ASID or of "
                       "everything"),
          AT(mmu.invalidate_asid_cycles));
    t.add(Key("mmu.tlb_refill")
              .choice("hardware", std::vector<std::string>{"hardware", "software"})
              .meaning("hardware: the walker refills; software: a last-level TLB miss traps to "
                       "the firmware's refill handler"),
          AT(mmu.software_refill));
    addTlbLevel(t, "l1i", &MmuConfig::l1i, 64, 4, 0);
    addTlbLevel(t, "l1d", &MmuConfig::l1d, 64, 4, 0);
    addTlbLevel(t, "l2", &MmuConfig::l2, 1536, 12, 7);
}

void addWalkerKeys(Table& t) {
    t.add(Key("walker.hardware_ad")
              .boolean(true)
              .meaning("the walker sets A/D with a write; false: a missing A/D bit faults")
              .when({is("mmu.tlb_refill", {"hardware"})}),
          AT(mmu.hardware_ad));
    const Condition pwc = nonZero("walker.pwc.entries");
    t.add(Key("walker.pwc.entries")
              .integer(32, 0, 1u << 16)
              .unit("entries")
              .meaning("page-walk-cache entries per table level (0 = no PWC)"),
          AT(mmu.pwc.entries));
    t.add(Key("walker.pwc.ways")
              .integer(0, 0, 1u << 16)
              .unit("ways")
              .meaning("page-walk-cache ways (0 = fully associative)")
              .when({pwc}),
          AT(mmu.pwc.ways));
    t.add(Key("walker.pwc.replacement")
              .choice("lru", replacementChoices())
              .meaning("page-walk-cache replacement policy")
              .when({pwc}),
          AT(mmu.pwc.replacement));
}

void addMemoryKeys(Table& t) {
    t.add(Key("memory.size")
              .size(std::uint64_t{4} << 30, std::uint64_t{4} << 20)
              .unit("bytes")
              .meaning("modelled DRAM (sparse: host memory follows the pages touched; the "
                       "firmware reserves the first MiB)"),
          AT(memory.size));
    t.add(Key("memory.latency_cycles")
              .integer(100, 0, 1000000)
              .unit("cycles")
              .meaning("memory latency per transaction"),
          AT(memory.latency_cycles));
    t.add(Key("memory.bytes_per_cycle")
              .integer(64, 1, 1u << 20)
              .unit("bytes/cycle")
              .meaning("transfer rate beyond the first beat: (len-1)/bytes_per_cycle cycles"),
          AT(memory.bytes_per_cycle));
    t.add(Key("interconnect.latency_cycles")
              .integer(0, 0, 1000000)
              .unit("cycles")
              .meaning("added once per interconnect transaction"),
          AT(interconnect_latency_cycles));
}

void addCacheKeys(Table& t) {
    // Absent by default: a system states its hierarchy (configs/default.yaml, haswell.yaml).
    addCacheLevel(t, "l1i", &CacheHierarchyConfig::l1i,
                  "per-core L1 instruction cache (fetches enter here)", 0, 8, 4);
    addCacheLevel(t, "l1d", &CacheHierarchyConfig::l1d,
                  "per-core L1 data cache (data, firmware and, at walker.cache_level l1d, the "
                  "walker enter here)",
                  0, 8, 4);
    addCacheLevel(t, "l2", &CacheHierarchyConfig::l2, "per-core unified L2", 0, 8, 12);
    addCacheLevel(t, "llc", &CacheHierarchyConfig::llc,
                  "shared last-level cache, inclusive, with the directory", 0, 16, 40);
    t.add(Key("cache.coherence.transfer_cycles")
              .integer(0, 0, 1000000)
              .unit("cycles")
              .meaning("added when a line moves from another core's private cache (it held it "
                       "Modified)")
              .when({kMulticore}),
          AT(caches.transfer_cycles));
    t.add(Key("cache.data")
              .boolean(false)
              .meaning("workload data references go through the caches (timing and state; the "
                       "bytes move by DMI); false: each costs core.data_latency_cycles"),
          AT(cache_data));
    t.add(
        Key("walker.cache_level")
            .choice("l1d",
                    std::vector<Choice>{{"l1d", static_cast<std::int64_t>(CacheEntry::L1)},
                                        {"l2", static_cast<std::int64_t>(CacheEntry::L2)},
                                        {"llc", static_cast<std::int64_t>(CacheEntry::Llc)},
                                        {"memory", static_cast<std::int64_t>(CacheEntry::Memory)}})
            .meaning("where the page walker's PTE reads and A/D writes enter the caches "
                     "(x86 walkers' loads are cached in L1D; memory bypasses them)"),
        AT(walker_cache_level));
}

void addCheckerKeys(Table& t) {
    t.add(Key("checker.enabled")
              .boolean(false)
              .meaning("the safety checker sees every access and reports any use of a stale "
                       "translation (checker.violations)"),
          AT(checker));
    t.add(Key("checker.fail_on_violation")
              .boolean(false)
              .meaning("a violation fails the run (exit 1)")
              .when({is("checker.enabled", {"true"})}),
          AT(fail_on_violation));
}

} // namespace tlmmu::keytable
