#include "SystemConfig.h"

namespace tlmmu {

namespace {
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
    s.page_size = c.getSize("workload.page_size", 4096);
    s.synthetic = readSyntheticParams(c, "workload.synthetic.", s.seed);

    s.scenario = c.getPath("workload.scenario", "");
    s.time_slice_cycles = c.getUint("sched.time_slice_cycles", 1000000);
    s.swap_slots = c.getUint("swap.slots", 65536, 0, std::uint64_t{1} << 32);
    // NVMe-class: ~10 us at the default 2 GHz.
    s.swap_latency_cycles = c.getUint("swap.latency_cycles", 20000, 0, std::uint64_t{1} << 40);
    s.memory_limit_frames = c.getUint("firmware.memory_limit_frames", 0, 0, (1ull << 30) - 1);
    s.switch_cycles = c.getUint("firmware.switch_cycles", 500, 0, 100000000);
    s.fork_cycles = c.getUint("firmware.fork_cycles", 5000, 0, 100000000);
    s.fault_entry_cycles = c.getUint("firmware.fault_entry_cycles", 200, 0, 100000000);
    s.fault_exit_cycles = c.getUint("firmware.fault_exit_cycles", 100, 0, 100000000);
    s.firmware_frames = c.getUint("firmware.frames", 0, 0, (1ull << 30) - 1);

    c.checkUnused();
    if (s.workload_format != "synthetic" && s.trace.empty())
        throw InputError("workload.trace: required when workload.format is " + s.workload_format);
    // Checks the format (and the generic parameters) now, with the key in the message.
    const PteFormat f = s.format();
    bool page_ok = false;
    for (unsigned l = 0; l < f.levels(); ++l)
        if (f.leafAllowed(l) && (std::uint64_t{1} << f.levelShift(l)) == s.page_size)
            page_ok = true;
    if (!page_ok)
        throw InputError("workload.page_size: " + std::to_string(s.page_size) +
                         " bytes is not a page size of format " + s.format_name);
    s.resolved = c.resolved();
    return s;
}

PteFormat SystemConfig::format() const {
    return PteFormat::fromName(format_name, "mmu.format", generic_page_bits, generic_pte_bytes,
                               generic_levels);
}

} // namespace tlmmu
