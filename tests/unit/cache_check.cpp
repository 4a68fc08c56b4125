// Runs the data references of a valgrind lackey trace through a CacheHierarchy of one core with
// an L1D and an LLC only (no L2, LRU), for tests/cachegrind_check.py, which compares the
// misses with valgrind's cachegrind on the same program:
//   cache_check [--D1=SIZE,WAYS,LINE] [--LL=SIZE,WAYS,LINE] TRACE
// (defaults: cachegrind's --D1=32768,8,64 --LL=1048576,16,64). Prints JSON: refs, d1_misses,
// ll_misses (cachegrind's "D refs", "D1 misses", "LLd misses"), straddles, back_invalidations.
//
// Counted as cachegrind counts (cg_sim.c), not as the hierarchy's own counters do:
// - one reference is one access, a Modify (read-modify-write) included; a reference that
//   straddles lines accesses both lines but is one access and at most one miss per level;
// - a reference misses D1 when any of its lines was not served by the L1D, and misses the LL
//   when any of its lines came from memory.
// What is not matched, and why the misses still agree (on both of the test's programs: exactly,
// with 0 back-invalidations; 73 of gzip's 1.9 million references straddle lines, 12749 of
// ls -l's 1.6 million):
// - cachegrind's LL is not inclusive; this LLC is, and back-invalidates the L1D
//   (back_invalidations; rare with an LL 32 times the D1);
// - cachegrind's LL also holds the lines its I1 misses fetch (lackey's I records are ignored
//   here): a few hundred lines of a 16384-line LL;
// - on a straddling reference whose first line missed D1 and second hit, cachegrind also looks
//   the second line up in the LL (updating its LRU), the hierarchy does not.
#include <cstdio>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "cache/CacheHierarchy.h"
#include "workload/LackeyTrace.h"

using namespace tlmmu;

namespace {

// The check counts misses only: memory costs nothing.
struct UntimedMemory : MemoryPort {
    Cycles fill(Addr) override { return 0; }
    Cycles writeback(Addr) override { return 0; }
};

// "SIZE,WAYS,LINE" as cachegrind takes it.
bool parseGeometry(const std::string& text, CacheConfig& c) {
    unsigned long long size = 0;
    unsigned ways = 0, line = 0;
    if (std::sscanf(text.c_str(), "%llu,%u,%u", &size, &ways, &line) != 3) return false;
    c.size = size;
    c.ways = ways;
    c.line_bytes = line;
    c.replacement = Replacement::Lru;
    return true;
}

CacheAccessKind kindOf(RefKind kind) {
    return kind == RefKind::Load ? CacheAccessKind::Load : CacheAccessKind::Store;
}

bool straddles(const DataRef& ref, unsigned line_bytes) {
    return ref.addr / line_bytes != (ref.addr + ref.size - 1) / line_bytes;
}

} // namespace

int main(int argc, char** argv) {
    CacheHierarchyConfig config;
    parseGeometry("32768,8,64", config.l1d);
    parseGeometry("1048576,16,64", config.llc);
    std::string trace;
    bool usage = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg.rfind("--D1=", 0) == 0)
            usage |= !parseGeometry(arg.substr(5), config.l1d);
        else if (arg.rfind("--LL=", 0) == 0)
            usage |= !parseGeometry(arg.substr(5), config.llc);
        else if (arg.rfind("--", 0) == 0 || !trace.empty())
            usage = true;
        else
            trace = arg;
    }
    if (usage || trace.empty()) {
        std::cerr << "usage: cache_check [--D1=SIZE,WAYS,LINE] [--LL=SIZE,WAYS,LINE] TRACE\n";
        return 2;
    }
    try {
        UntimedMemory memory;
        CacheHierarchy caches(config, memory);
        LackeyTrace workload(trace);
        std::uint64_t refs = 0, d1_misses = 0, ll_misses = 0, straddling = 0;
        Instruction insn;
        while (workload.next(insn))
            for (unsigned r = 0; r < insn.num_refs; ++r) {
                const DataRef& ref = insn.refs[r];
                const CacheAccessResult result =
                    caches.access(0, kindOf(ref.kind), ref.addr, ref.size);
                ++refs;
                d1_misses += result.level != CacheLevel::L1d;
                ll_misses += result.level == CacheLevel::Memory;
                straddling += straddles(ref, caches.lineBytes());
            }
        const nlohmann::json out = {{"refs", refs},
                                    {"d1_misses", d1_misses},
                                    {"ll_misses", ll_misses},
                                    {"straddles", straddling},
                                    {"back_invalidations", caches.coherence.back_invalidations}};
        std::cout << out.dump() << "\n";
    } catch (const InputError& e) {
        std::cerr << "cache_check: " << e.what() << "\n";
        return 2;
    }
    return 0;
}
