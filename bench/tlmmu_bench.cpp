// Speed of the functional pieces (Google Benchmark). BM_BareLoop is the yardstick the
// simulator's throughput is compared with (scripts/bench): it only parses a lackey trace and looks
// up one TLB per reference. The trace is named by TLMMU_BENCH_TRACE.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <map>

#include "arch/pte_format.h"
#include "mmu/PageTableWalk.h"
#include "mmu/PteFormat.h"
#include "mmu/Tlb.h"
#include "workload/LackeyTrace.h"
#include "workload/OpenTrace.h"
#include "workload/SyntheticWorkload.h"

namespace tlmmu {
namespace {

const char* tracePath() {
    return std::getenv("TLMMU_BENCH_TRACE");
}

TlbConfig l1Config() {
    TlbConfig c;
    c.name = "l1d";
    c.entries = 64;
    c.ways = 4;
    c.geometry = PteFormat::fromName("x86_64").geometry();
    return c;
}

// Parses the trace, and for every reference (the fetch and each data access) looks up one TLB,
// filling it on a miss.
void BM_BareLoop(benchmark::State& state) {
    if (!tracePath()) return state.SkipWithError("set TLMMU_BENCH_TRACE to a lackey trace");
    std::uint64_t refs = 0, misses = 0;
    for (auto _ : state) {
        Tlb tlb(l1Config());
        auto w = openTrace(tracePath(), "lackey");
        Instruction insn;
        TlbEntry e;
        auto ref = [&](Addr va) {
            ++refs;
            if (!tlb.lookup(va, 1, e)) {
                ++misses;
                TlbEntry f;
                f.vpn = va >> 12;
                f.ppn = f.vpn;
                f.asid = 1;
                f.flags = PTE_F_V | PTE_F_R | PTE_F_W | PTE_F_X | PTE_F_U | PTE_F_A | PTE_F_D;
                tlb.fill(f);
            }
        };
        while (w->next(insn)) {
            if (insn.size) ref(insn.pc);
            for (unsigned i = 0; i < insn.num_refs; ++i)
                ref(insn.refs[i].addr);
        }
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(refs));
    state.counters["misses"] =
        static_cast<double>(misses) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_BareLoop)->Unit(benchmark::kMillisecond);

void BM_LackeyParse(benchmark::State& state) {
    if (!tracePath()) return state.SkipWithError("set TLMMU_BENCH_TRACE to a lackey trace");
    std::uint64_t refs = 0;
    for (auto _ : state) {
        auto w = openTrace(tracePath(), "lackey");
        Instruction insn;
        while (w->next(insn))
            refs += (insn.size ? 1 : 0) + insn.num_refs;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(refs));
}
BENCHMARK(BM_LackeyParse)->Unit(benchmark::kMillisecond);

// TLB lookups alone, on a zipf page stream, for the main geometries.
void BM_TlbLookup(benchmark::State& state) {
    TlbConfig c = l1Config();
    c.entries = static_cast<unsigned>(state.range(0));
    c.ways = static_cast<unsigned>(state.range(1));
    Tlb tlb(c);
    SyntheticParams p;
    p.pattern = "zipf";
    p.footprint = 64 << 20;
    p.refs_per_instruction = 1;
    p.instructions = 1 << 16;
    SyntheticWorkload w(p);
    std::vector<Addr> vas;
    Instruction insn;
    while (w.next(insn))
        for (unsigned i = 0; i < insn.num_refs; ++i)
            vas.push_back(insn.refs[i].addr);
    TlbEntry e;
    std::size_t i = 0;
    for (auto _ : state) {
        const Addr va = vas[i++ & (vas.size() - 1)];
        if (!tlb.lookup(va, 1, e)) {
            TlbEntry f;
            f.vpn = va >> 12;
            f.asid = 1;
            f.flags = PTE_F_V | PTE_F_R;
            tlb.fill(f);
        }
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TlbLookup)->Args({64, 4})->Args({64, 64})->Args({1024, 8});

// One full 4-level walk over an in-memory table.
void BM_Walk(benchmark::State& state) {
    const PteFormat f = PteFormat::fromName("x86_64");
    struct MapMemory : PteMemory {
        std::map<Addr, std::uint64_t> m;
        bool readPte(Addr pa, unsigned, std::uint64_t& v) override {
            auto it = m.find(pa);
            v = it == m.end() ? 0 : it->second;
            return true;
        }
        bool writePte(Addr pa, unsigned, std::uint64_t v) override {
            m[pa] = v;
            return true;
        }
    } mem;
    const Addr va = 0x7f12'3456'7000;
    Addr table = 0x1000;
    for (int l = 3; l > 0; --l) {
        mem.m[table + pte_index(&f.raw(), va, l) * 8] =
            pte_encode_table(&f.raw(), (table >> 12) + 1);
        table += 0x1000;
    }
    mem.m[table + pte_index(&f.raw(), va, 0) * 8] =
        pte_encode_leaf(&f.raw(), 0x1234, PTE_F_R | PTE_F_W | PTE_F_U | PTE_F_A | PTE_F_D, 0);
    WalkRequest r;
    r.va = va;
    r.root = 0x1000;
    for (auto _ : state)
        benchmark::DoNotOptimize(walkPageTable(f, r, mem));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Walk);

} // namespace
} // namespace tlmmu

BENCHMARK_MAIN();
