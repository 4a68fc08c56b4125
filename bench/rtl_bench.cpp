// Lookups per second of the Verilated RTL TLB (RtlTlb) against the C++ Tlb on the same reference
// stream: zipf-like page reuse over a 64 MiB footprint, a fill after every miss (as the Mmu does),
// x86_64 geometry, plru. items_per_second is lookups per second (fills are included in the time).
//   build/bench/rtl_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "arch/pte_format.h"
#include "mmu/RtlTlb.h"

namespace {

using namespace tlmmu;

struct Ref {
    Addr va;
    Asid asid;
};

// Skewed page reuse (hot pages near 0), 5% of references in 2 MiB pages, two ASIDs.
const std::vector<Ref>& stream() {
    static const std::vector<Ref> refs = [] {
        std::mt19937_64 rng(42);
        std::vector<Ref> r(1 << 16);
        for (Ref& ref : r) {
            const double u = std::uniform_real_distribution<double>(0, 1)(rng);
            const std::uint64_t page = static_cast<std::uint64_t>(16384 * std::pow(u, 8)); // 64 MiB
            ref.va = (page << 12) | (rng() & 0xfff);
            ref.asid = static_cast<Asid>(1 + (rng() & 1));
        }
        return r;
    }();
    return refs;
}

TlbConfig config(unsigned entries, unsigned ways) {
    TlbConfig c;
    c.name = "l1d";
    c.entries = entries;
    c.ways = ways;
    c.replacement = Replacement::Plru;
    c.geometry = PageGeometry{12, 9, 4, 0b111};
    return c;
}

// The walker's answer for a miss: a 2 MiB page above 32 MiB, else a 4 KiB page.
TlbEntry walk(Addr va, Asid asid) {
    TlbEntry e;
    const unsigned level = va >= (Addr{32} << 20) ? 1 : 0;
    e.level = static_cast<std::uint8_t>(level);
    e.vpn = (va >> 12) & ~((std::uint64_t{1} << (9 * level)) - 1);
    e.ppn = e.vpn + 0x100000;
    e.asid = asid;
    e.flags = PTE_F_V | PTE_F_R | PTE_F_W | PTE_F_U | PTE_F_A | PTE_F_D;
    return e;
}

template <class T> void lookups(benchmark::State& state) {
    auto tlb = std::make_unique<T>(
        config(static_cast<unsigned>(state.range(0)), static_cast<unsigned>(state.range(1))));
    const std::vector<Ref>& refs = stream();
    std::size_t i = 0;
    std::uint64_t hits = 0;
    TlbEntry out;
    for (auto _ : state) {
        const Ref& r = refs[i++ & (refs.size() - 1)];
        if (tlb->lookup(r.va, r.asid, out))
            ++hits;
        else
            tlb->fill(walk(r.va, r.asid));
        benchmark::DoNotOptimize(out);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.counters["hit_rate"] =
        benchmark::Counter(static_cast<double>(hits) / static_cast<double>(state.iterations()));
}

void Cpp(benchmark::State& state) {
    lookups<Tlb>(state);
}
void Rtl(benchmark::State& state) {
    lookups<RtlTlb>(state);
}

BENCHMARK(Cpp)->ArgNames({"entries", "ways"})->Args({64, 4})->Args({64, 64});
BENCHMARK(Rtl)->ArgNames({"entries", "ways"})->Args({64, 4})->Args({64, 64});

} // namespace

BENCHMARK_MAIN();
