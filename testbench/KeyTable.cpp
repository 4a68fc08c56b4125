#include "KeyTable.h"

#include <algorithm>
#include <limits>
#include <sstream>
#include <type_traits>

#include "Config.h"
#include "SystemConfig.h"
#include "common/Stats.h"

extern "C" {
#include "kernel/mm.h"
}

namespace tlmmu {

namespace {

using Op = Condition::Op;

Condition is(const std::string& key, std::vector<std::string> values) {
    return {key, Op::Is, std::move(values), 0};
}
Condition isNot(const std::string& key, std::vector<std::string> values) {
    return {key, Op::IsNot, std::move(values), 0};
}
Condition nonZero(const std::string& key) {
    return {key, Op::NonZero, {}, 0};
}
Condition atLeast(const std::string& key, std::uint64_t n) {
    return {key, Op::AtLeast, {}, n};
}
Condition empty(const std::string& key) {
    return {key, Op::Empty, {}, 0};
}
Condition notEmpty(const std::string& key) {
    return {key, Op::NotEmpty, {}, 0};
}

// The conditions most keys share.
const Condition kMulticore = atLeast("cores", 2);
const Condition kNoScenario = empty("workload.scenario");
const Condition kScenario = notEmpty("workload.scenario");
const Condition kIpi = is("firmware.shootdown.mechanism", {"ipi"});

// Writes a resolved value into a field, by the field's type (a Choice key gives its value).
template <class T> void assign(T& field, KeyType type, const nlohmann::json& v, std::int64_t c) {
    if constexpr (std::is_same_v<T, std::string>) {
        field = v.get<std::string>();
    } else if constexpr (std::is_enum_v<T>) {
        field = static_cast<T>(c);
    } else if constexpr (std::is_same_v<T, bool>) {
        field = type == KeyType::Choice ? c != 0 : v.get<bool>();
    } else if constexpr (std::is_floating_point_v<T>) {
        field = v.get<double>();
    } else {
        if (type == KeyType::Boolean)
            field = static_cast<T>(v.get<bool>());
        else if (type == KeyType::Choice)
            field = static_cast<T>(c);
        else
            field = static_cast<T>(v.get<std::uint64_t>());
    }
}

// A key under construction: key("seed").integer(1).meaning("...").to(AT(seed)).
class Key {
  public:
    explicit Key(std::string name) { k_.name = std::move(name); }
    Key& integer(std::uint64_t def, std::uint64_t min = 0, std::uint64_t max = UINT64_MAX) {
        k_.type = KeyType::Integer, k_.def = def, k_.min = min, k_.max = max;
        return *this;
    }
    Key& number(double def, double lo, double hi) {
        k_.type = KeyType::Number, k_.def = def, k_.lo = lo, k_.hi = hi;
        return *this;
    }
    Key& boolean(bool def) {
        k_.type = KeyType::Boolean, k_.def = def;
        return *this;
    }
    Key& size(std::uint64_t def, std::uint64_t min = 0, std::uint64_t max = UINT64_MAX) {
        k_.type = KeyType::Size, k_.def = def, k_.min = min, k_.max = max;
        return *this;
    }
    Key& path() {
        k_.type = KeyType::Path, k_.def = "";
        return *this;
    }
    // Values by name; each receives its index unless given (name, value) pairs.
    Key& choice(const std::string& def, const std::vector<std::string>& names) {
        std::vector<Choice> c;
        for (std::size_t i = 0; i < names.size(); ++i)
            c.push_back({names[i], static_cast<std::int64_t>(i)});
        return choice(def, c);
    }
    Key& choice(const std::string& def, std::vector<Choice> choices) {
        k_.type = KeyType::Choice, k_.def = def, k_.choices = std::move(choices);
        return *this;
    }
    Key& unit(std::string u) {
        k_.unit = std::move(u);
        return *this;
    }
    Key& meaning(std::string m) {
        k_.meaning = std::move(m);
        return *this;
    }
    Key& when(std::vector<Condition> c) {
        k_.when.insert(k_.when.end(), c.begin(), c.end());
        return *this;
    }
    KeyDef take() { return std::move(k_); }

  private:
    KeyDef k_;
};

std::vector<KeyDef> buildTable();

} // namespace

// Field accessors for the table (the key's type decides how the value converts).
#define AT(expr)                                                                                   \
    [](SystemConfig & s) -> auto& {                                                                \
        return s.expr;                                                                             \
    }
#define FW(field)                                                                                  \
#field, [](SystemConfig & s) -> auto& {                                                        \
        return s.firmware.field;                                                                   \
    }
#define WL(expr)                                                                                   \
    [](WorkloadSpec & w) -> auto& {                                                                \
        return w.expr;                                                                             \
    }

namespace {

class Table {
  public:
    // Adds the key; `to` fields convert by the key's declared type.
    template <class... Fields> void add(Key key, Fields... fields) {
        KeyDef k = key.take();
        (addStore(k, fields), ...);
        keys_.push_back(std::move(k));
    }
    template <class... Fields> void addFw(Key key, const char* name, Fields... fields) {
        KeyDef k = key.take();
        k.fw_field = name;
        (addStore(k, fields), ...);
        keys_.push_back(std::move(k));
    }
    template <class Field> void addWorkload(Key key, const char* leaf, Field field) {
        KeyDef k = key.take();
        const KeyType type = k.type;
        k.scenario_leaf = leaf;
        k.workload_store = [field, type](WorkloadSpec& w, const nlohmann::json& v, std::int64_t c) {
            assign(field(w), type, v, c);
        };
        k.store = [ws = k.workload_store](SystemConfig& s, const nlohmann::json& v,
                                          std::int64_t c) { ws(s.workload, v, c); };
        keys_.push_back(std::move(k));
    }
    std::vector<KeyDef> take() { return std::move(keys_); }

  private:
    template <class Field> void addStore(KeyDef& k, Field field) {
        const KeyType type = k.type;
        auto previous = k.store;
        k.store = [previous, field, type](SystemConfig& s, const nlohmann::json& v,
                                          std::int64_t c) {
            if (previous) previous(s, v, c);
            assign(field(s), type, v, c);
        };
    }
    std::vector<KeyDef> keys_;
};

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

void addWorkloadKeys(Table& t) {
    const SyntheticParams d; // the generator's own defaults
    const std::string s = "workload.synthetic.";
    const std::vector<Condition> synthetic = {kNoScenario, is("workload.format", {"synthetic"})};
    t.addWorkload(
        Key("workload.format")
            .choice("synthetic", std::vector<std::string>{"lackey", "binary", "synthetic"})
            .meaning("the workload's kind: a trace (lackey, binary) or generated")
            .when({kNoScenario}),
        "format", WL(format));
    t.addWorkload(Key("workload.trace")
                      .path()
                      .meaning("the trace file (lackey or binary; plain, .gz or .xz, detected by "
                               "content) of a trace format")
                      .when({kNoScenario, isNot("workload.format", {"synthetic"})}),
                  "trace", WL(trace));
    t.addWorkload(Key("workload.checked")
                      .boolean(false)
                      .meaning("stores write known values and every load is verified against "
                               "them (a failure of the model if not)")
                      .when({kNoScenario}),
                  "checked", WL(checked));
    t.addWorkload(Key(s + "pattern")
                      .choice(d.pattern, std::vector<std::string>{"stream", "strided", "random",
                                                                  "zipf", "gups"})
                      .meaning("synthetic address pattern (stream, strided by stride, uniform "
                               "random, zipf over pages, gups read-modify-writes)")
                      .when(synthetic),
                  "pattern", WL(synthetic.pattern));
    t.addWorkload(Key(s + "footprint")
                      .size(d.footprint)
                      .unit("bytes")
                      .meaning("bytes of data the pattern covers, from data_base")
                      .when(synthetic),
                  "footprint", WL(synthetic.footprint));
    t.addWorkload(Key(s + "instructions")
                      .integer(d.instructions)
                      .unit("instructions")
                      .meaning("instructions the generator emits")
                      .when(synthetic),
                  "instructions", WL(synthetic.instructions));
    t.addWorkload(Key(s + "refs_per_instruction")
                      .number(d.refs_per_instruction, 0, 16)
                      .unit("references/instruction")
                      .meaning("data references per instruction, spread evenly")
                      .when(synthetic),
                  "refs_per_instruction", WL(synthetic.refs_per_instruction));
    t.addWorkload(Key(s + "write_fraction")
                      .number(d.write_fraction, 0, 1)
                      .meaning("probability that a reference is a store (not gups)")
                      .when(synthetic)
                      .when({isNot(s + "pattern", {"gups"})}),
                  "write_fraction", WL(synthetic.write_fraction));
    t.addWorkload(Key(s + "stride")
                      .size(d.stride)
                      .unit("bytes")
                      .meaning("step of the strided pattern")
                      .when(synthetic)
                      .when({is(s + "pattern", {"strided"})}),
                  "stride", WL(synthetic.stride));
    t.addWorkload(Key(s + "zipf_theta")
                      .number(d.zipf_theta, 0, 100)
                      .meaning("skew of the zipf pattern (1: classic zipf)")
                      .when(synthetic)
                      .when({is(s + "pattern", {"zipf"})}),
                  "zipf_theta", WL(synthetic.zipf_theta));
    t.addWorkload(Key(s + "data_base")
                      .integer(d.data_base)
                      .unit("address")
                      .meaning("first data address")
                      .when(synthetic),
                  "data_base", WL(synthetic.data_base));
    t.addWorkload(Key(s + "code_base")
                      .integer(d.code_base)
                      .unit("address")
                      .meaning("first instruction address")
                      .when(synthetic),
                  "code_base", WL(synthetic.code_base));
    t.addWorkload(Key(s + "code_footprint")
                      .size(d.code_footprint)
                      .unit("bytes")
                      .meaning("bytes of code the pcs walk through, in 4-byte steps")
                      .when(synthetic),
                  "code_footprint", WL(synthetic.code_footprint));
    t.addWorkload(Key(s + "ref_size")
                      .integer(d.ref_size, 1, 4096)
                      .unit("bytes")
                      .meaning("bytes per data reference (a power of two; gups: always 8)")
                      .when(synthetic)
                      .when({isNot(s + "pattern", {"gups"})}),
                  "ref_size", WL(synthetic.ref_size));
}

std::vector<Choice> mechanismChoices() {
    std::vector<Choice> c;
    for (unsigned m = 0; m < fw_shootdown_mechanism_count(); ++m)
        c.push_back({fw_shootdown_mechanism_name(m), static_cast<std::int64_t>(m)});
    return c;
}

std::vector<KeyDef> buildTable() {
    Table t;
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

    addCacheKeys(t);

    addWorkloadKeys(t);
    t.add(Key("workload.prefault")
              .boolean(false)
              .meaning("map every page the workloads touch before the run, A and D set"),
          AT(prefault));
    t.add(Key("workload.page_size")
              .size(0)
              .unit("bytes")
              .meaning("pages of the implicit region of a run without a scenario (0: the "
                       "format's base page)")
              .when({kNoScenario}),
          AT(page_size));
    t.add(Key("workload.scenario")
              .path()
              .meaning("a scenario file: processes, threads, VMAs, events (docs/scenarios.md)"),
          AT(scenario));
    t.add(Key("sched.time_slice_cycles")
              .integer(1000000)
              .unit("cycles")
              .meaning("round-robin time slice of the tasks on a core")
              .when({kScenario}),
          AT(time_slice_cycles));

    t.addFw(
        Key("swap.slots")
            .integer(65536, 0, std::uint64_t{1} << 32)
            .unit("pages")
            .meaning("swap device size (0 = no swap device)"),
        "swap_slots", [](SystemConfig & s) -> auto& { return s.firmware.swap_slots; });
    t.add(Key("swap.latency_cycles")
              .integer(20000, 0, std::uint64_t{1} << 40)
              .unit("cycles")
              .meaning("swap device access time (NVMe-class: about 10 us at 2 GHz)")
              .when({nonZero("swap.slots")}),
          AT(swap_latency_cycles));
    t.addFw(Key("firmware.memory_limit_frames")
                .integer(0, 0, (1ull << 30) - 1)
                .unit("frames")
                .meaning("data frames in use never exceed this; beyond it pages are swapped "
                         "out (0 = no limit)"),
            FW(memory_limit_frames));
    t.addFw(Key("firmware.switch_cycles")
                .integer(500, 0, 100000000)
                .unit("cycles")
                .meaning("bookkeeping cost of a context switch"),
            FW(switch_cycles));
    t.addFw(Key("firmware.fork_cycles")
                .integer(5000, 0, 100000000)
                .unit("cycles")
                .meaning("bookkeeping cost of a fork (plus its page-table work)")
                .when({kScenario}),
            FW(fork_cycles));
    t.addFw(Key("firmware.syscall_entry_cycles")
                .integer(0, 0, 100000000)
                .unit("cycles")
                .meaning("system call entry (fork, map, unmap, protect, discard, exit)")
                .when({kScenario}),
            FW(syscall_entry_cycles));
    t.addFw(Key("firmware.syscall_exit_cycles")
                .integer(0, 0, 100000000)
                .unit("cycles")
                .meaning("system call exit")
                .when({kScenario}),
            FW(syscall_exit_cycles));
    t.addFw(Key("firmware.fault_entry_cycles")
                .integer(200, 0, 100000000)
                .unit("cycles")
                .meaning("trap entry and handler prologue, once per fault"),
            FW(fault_entry_cycles));
    t.addFw(Key("firmware.fault_exit_cycles")
                .integer(100, 0, 100000000)
                .unit("cycles")
                .meaning("handler epilogue and trap return, once per fault"),
            FW(fault_exit_cycles));
    t.add(Key("firmware.frames")
              .integer(0, 0, (1ull << 30) - 1)
              .unit("frames")
              .meaning("frames the firmware may allocate (0 = all memory above the first MiB)"),
          AT(firmware_frames));
    t.addFw(Key("firmware.irq_entry_cycles")
                .integer(200, 0, 100000000)
                .unit("cycles")
                .meaning("interrupt entry (a core taking an IPI)")
                .when({kMulticore}),
            FW(irq_entry_cycles));
    t.addFw(Key("firmware.irq_exit_cycles")
                .integer(100, 0, 100000000)
                .unit("cycles")
                .meaning("interrupt exit")
                .when({kMulticore}),
            FW(irq_exit_cycles));
    t.add(Key("ipi.latency_cycles")
              .integer(1000, 0, 100000000)
              .unit("cycles")
              .meaning("IPI delivery, from the sender's write to the target's interrupt input")
              .when({kMulticore}),
          AT(ipi_latency_cycles));
    t.add(Key("ipi.drop_probability")
              .number(0.0, 0.0, 1.0)
              .meaning("fault injection: the chance that an IPI delivery is lost (the "
                       "firmware's acknowledgement timeout recovers it)")
              .when({kMulticore}),
          AT(ipi_drop_probability));
    t.addFw(Key("firmware.shootdown.mechanism")
                .choice("ipi", mechanismChoices())
                .meaning("how a change reaches the other cores' TLBs: ipi (IPIs; the targets' "
                         "firmware flushes and acknowledges), directed (the invalidation "
                         "controller, one operation per target core, no target firmware) or "
                         "broadcast (one operation reaches every core, then a sync; global "
                         "ASIDs; no IPI, no target firmware)")
                .when({kMulticore}),
            FW(shootdown));
    const Condition controller = isNot("firmware.shootdown.mechanism", {"ipi"});
    t.add(Key("invalidation.base_cycles")
              .integer(0, 0, 100000000)
              .unit("cycles")
              .meaning("invalidation controller: fixed cost of an operation (directed: added to "
                       "the command; broadcast: to its completion, which the sync waits for)")
              .when({kMulticore, controller}),
          AT(invalidation_base_cycles));
    t.add(Key("invalidation.hop_cycles")
              .integer(0, 0, 100000000)
              .unit("cycles")
              .meaning("invalidation controller: per Mmu an operation reaches (a broadcast "
                       "reaches the k-th core after base + k hops)")
              .when({kMulticore, controller}),
          AT(invalidation_hop_cycles));
    t.addFw(Key("firmware.shootdown.ack_timeout_cycles")
                .integer(100000, 1, 1000000000)
                .unit("cycles")
                .meaning("an initiator resends its IPI to a target silent this long")
                .when({kMulticore, kIpi}),
            FW(ack_timeout_cycles));
    t.addFw(Key("firmware.shootdown.relax_cycles")
                .integer(20, 1, 1000000)
                .unit("cycles")
                .meaning("one polling step of the initiator's wait for acknowledgements (lock "
                         "waiters sleep until woken instead)")
                .when({kMulticore, kIpi}),
            FW(relax_cycles));
    t.addFw(Key("firmware.shootdown.flush_ceiling")
                .integer(FW_FLUSH_CEILING_PAGES, 1, 1u << 30)
                .unit("pages")
                .meaning("a range flush of more pages flushes the whole ASID instead (Linux "
                         "x86: 33)"),
            FW(flush_ceiling_pages));
    t.addFw(Key("firmware.shootdown.batch")
                .boolean(true)
                .meaning("one shootdown per range (false: one per page)")
                .when({kMulticore}),
            FW(batch));
    t.addFw(Key("firmware.shootdown.concurrent_flush")
                .boolean(false)
                .meaning("the initiator flushes locally while its IPIs travel")
                .when({kMulticore}),
            FW(concurrent_flush));
    t.addFw(Key("firmware.shootdown.early_ack")
                .boolean(false)
                .meaning("targets acknowledge on arrival and flush before returning to user code")
                .when({kMulticore}),
            FW(early_ack));
    t.addFw(Key("firmware.shootdown.lazy_tlb")
                .boolean(false)
                .meaning("cores not running the address space are not interrupted; they flush "
                         "when they next switch to it")
                .when({kMulticore}),
            FW(lazy_tlb));
    t.addFw(
        Key("firmware.shootdown.inject")
            .choice("none", std::vector<Choice>{{"none", 0},
                                                {"skip_ack_wait", FW_INJECT_SKIP_ACK_WAIT},
                                                {"skip_remote_flush", FW_INJECT_SKIP_REMOTE_FLUSH},
                                                {"skip_local_flush", FW_INJECT_SKIP_LOCAL_FLUSH}})
            .meaning("fault injection that makes stale translations possible (the checker "
                     "must catch it)")
            .when({kMulticore}),
        FW(inject));
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
    return t.take();
}

std::string numberText(double v) {
    std::ostringstream o;
    o << v;
    return o.str();
}

std::string valueText(const nlohmann::json& v) {
    if (v.is_string()) return v.get<std::string>().empty() ? "\"\"" : v.get<std::string>();
    if (v.is_number_float()) return numberText(v.get<double>());
    return v.dump();
}

} // namespace

bool Condition::holds(const nlohmann::json& v) const {
    switch (op) {
    case Op::Is:
    case Op::IsNot: {
        const std::string s = v.is_string() ? v.get<std::string>() : v.dump();
        const bool in = std::find(values.begin(), values.end(), s) != values.end();
        return op == Op::Is ? in : !in;
    }
    case Op::NonZero:
        return v.is_number() ? v.get<double>() != 0 : !v.is_null();
    case Op::AtLeast:
        return v.is_number() && v.get<std::uint64_t>() >= bound;
    case Op::Empty:
        return v.is_string() && v.get<std::string>().empty();
    case Op::NotEmpty:
        return v.is_string() && !v.get<std::string>().empty();
    }
    return true;
}

std::string Condition::text() const {
    std::string list;
    for (const auto& v : values)
        list += (list.empty() ? "" : " or ") + v;
    switch (op) {
    case Op::Is:
        return key + " is " + list;
    case Op::IsNot:
        return key + " is not " + list;
    case Op::NonZero:
        return key + " is not 0";
    case Op::AtLeast:
        return key + " is at least " + std::to_string(bound);
    case Op::Empty:
        return key + " is not set";
    case Op::NotEmpty:
        return key + " is set";
    }
    return key;
}

std::string Condition::actual(const nlohmann::json& v) const {
    if (op == Op::Empty) return key + " is " + valueText(v);
    if (op == Op::NotEmpty) return key + " is not set";
    return key + " is " + valueText(v);
}

std::string KeyDef::typeName() const {
    switch (type) {
    case KeyType::Integer:
        return "integer";
    case KeyType::Number:
        return "number";
    case KeyType::Boolean:
        return "boolean";
    case KeyType::Choice:
        return "string";
    case KeyType::Size:
        return "size";
    case KeyType::Path:
        return "path";
    }
    return "";
}

std::string KeyDef::allowed() const {
    switch (type) {
    case KeyType::Integer:
        return "[" + std::to_string(min) + ", " + std::to_string(max) +
               "] (decimal, or hex with 0x)";
    case KeyType::Number:
        return "[" + numberText(lo) + ", " + numberText(hi) + "]";
    case KeyType::Boolean:
        return "true, false";
    case KeyType::Choice: {
        std::string list;
        for (const auto& c : choices)
            list += (list.empty() ? "" : ", ") + c.name;
        return list;
    }
    case KeyType::Size:
        return "bytes in [" + formatSize(min) + ", " +
               (max == UINT64_MAX ? std::string("2^64-1") : formatSize(max)) +
               "]: an integer or with K/M/G/T[i][B] (4096, 64KiB, 4GiB)";
    case KeyType::Path:
        return "a file (relative to the configuration file's folder); empty: none";
    }
    return "";
}

const Choice* KeyDef::choice(const std::string& n) const {
    for (const auto& c : choices)
        if (c.name == n) return &c;
    return nullptr;
}

std::string KeyDef::inapplicable(const nlohmann::json& resolved, std::string* decider) const {
    for (const Condition& c : when) {
        const auto ptr = Stats::pointer(c.key);
        const nlohmann::json v = resolved.contains(ptr) ? resolved[ptr] : nlohmann::json();
        if (c.holds(v)) continue;
        if (decider) *decider = c.key;
        return "it applies when " + c.text() + "; " + c.actual(v);
    }
    return "";
}

const std::vector<KeyDef>& keyTable() {
    static const std::vector<KeyDef> table = [] {
        std::vector<KeyDef> t = buildTable();
        for (KeyDef& k : t)
            k.workload = k.name.rfind("workload.", 0) == 0;
        return t;
    }();
    return table;
}

const KeyDef* findKey(const std::string& name) {
    for (const KeyDef& k : keyTable())
        if (k.name == name) return &k;
    return nullptr;
}

std::vector<const KeyDef*> workloadKeys() {
    std::vector<const KeyDef*> keys;
    for (const KeyDef& k : keyTable())
        if (k.workload_store) keys.push_back(&k);
    return keys;
}

namespace {
std::string defaultText(const KeyDef& k) {
    return valueText(k.def);
}
std::string whenText(const KeyDef& k) {
    std::string text;
    for (const Condition& c : k.when)
        text += (text.empty() ? "" : " and ") + c.text();
    return text;
}
} // namespace

std::string describeKeys(bool as_json) {
    nlohmann::json all = nlohmann::json::object();
    std::ostringstream text;
    for (const KeyDef& k : keyTable()) {
        nlohmann::json j = {{"type", k.typeName()},   {"default", k.def},
                            {"allowed", k.allowed()}, {"meaning", k.meaning},
                            {"unit", k.unit},         {"applies_when", whenText(k)}};
        if (k.type == KeyType::Integer || k.type == KeyType::Size)
            j["min"] = k.min, j["max"] = k.max;
        if (k.type == KeyType::Number) j["min"] = k.lo, j["max"] = k.hi;
        if (k.type == KeyType::Choice) {
            j["choices"] = nlohmann::json::array();
            for (const auto& c : k.choices)
                j["choices"].push_back(c.name);
        }
        all[k.name] = j;
        text << k.name << "  (" << k.typeName() << ", default " << k.def.dump()
             << (k.unit.empty() ? "" : " " + k.unit) << "; " << k.allowed() << ")\n    "
             << k.meaning;
        if (!k.when.empty()) text << "\n    applies when " << whenText(k);
        text << "\n";
    }
    return as_json ? all.dump(2) + "\n" : text.str();
}

std::string keysMarkdown() {
    std::ostringstream md;
    md << "# Configuration keys\n\n"
          "Generated from the key table (testbench/KeyTable.cpp) by `tlmmu --keys-markdown`; a "
          "test fails when this file is stale. Every key of a configuration file or a `--set`: "
          "its type, default, unit, allowed values, meaning, and when it can have an effect "
          "(a key set where it cannot is a warning, or an error with `--strict`; see the "
          "README). In a scenario, a thread's `workload:` takes the keys marked *scenario* "
          "under their short name.\n\n"
          "| key | type | default | unit | allowed | meaning | applies when |\n"
          "|---|---|---|---|---|---|---|\n";
    auto cell = [](std::string s) {
        std::string out;
        for (char c : s)
            out += c == '|' ? std::string("\\|") : std::string(1, c);
        return out;
    };
    for (const KeyDef& k : keyTable()) {
        std::string name = "`" + k.name + "`";
        if (!k.scenario_leaf.empty()) name += " (*scenario*: `" + k.scenario_leaf + "`)";
        md << "| " << name << " | " << k.typeName() << " | " << cell(defaultText(k)) << " | "
           << k.unit << " | " << cell(k.allowed()) << " | " << cell(k.meaning) << " | "
           << cell(whenText(k)) << " |\n";
    }
    return md.str();
}

} // namespace tlmmu
