// CacheSystem (models/cache): the hierarchy's cycles on each target socket (data, fetch,
// walker; the i-th binding is core i), the bytes through debug transport, LLC misses and
// write-backs as timed transactions over the interconnect to Memory, the access kind from
// CacheAccessExtension, the statistics, and what passes through untouched (uncacheable
// addresses, DMI requests and their invalidations).
//
// Cycles: L1I 2, L1D 4, L2 12, LLC 40, transfer 30; a line from memory costs the interconnect's
// 10 plus the memory's 100 (64 bytes at 64 bytes per cycle add none): 110.
#include <gtest/gtest.h>
#include <systemc>
#include <tlm>

#include "cache/CacheSystem.h"
#include "interconnect/Interconnect.h"
#include "memory/Memory.h"
#include "systemc/ScTest.h"
#include "systemc/TlmTestUtil.h"

namespace tlmmu::test {
namespace {

using CacheSystemTest = ScTest;

constexpr Cycles kL1i = 2, kL1 = 4, kL2 = 12, kLlc = 40, kTransfer = 30, kLine = 10 + 100;

CacheConfig level(std::uint64_t size, unsigned ways, unsigned latency) {
    CacheConfig c;
    c.size = size;
    c.ways = ways;
    c.latency_cycles = latency;
    return c;
}

CacheHierarchyConfig twoCores() {
    CacheHierarchyConfig c;
    c.cores = 2;
    c.l1i = level(1024, 2, kL1i);
    c.l1d = level(1024, 2, kL1);
    c.l2 = level(4096, 4, kL2);
    c.llc = level(16384, 8, kLlc);
    c.transfer_cycles = kTransfer;
    return c;
}

// L1D of one 4-way set, no L2, LLC of one 2-way set: the third line evicts the first. (Two
// cores, as the bench binds two; core 1 stays idle.)
CacheHierarchyConfig smallLlc() {
    CacheHierarchyConfig c;
    c.cores = 2;
    c.l1d = level(256, 4, kL1);
    c.llc = level(128, 2, kLlc);
    return c;
}

// An initiator that asks for DMI and records the invalidations it is sent.
struct DmiInitiator : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<DmiInitiator> socket{"socket"};
    std::vector<std::pair<sc_dt::uint64, sc_dt::uint64>> invalidated;
    explicit DmiInitiator(sc_core::sc_module_name n) : sc_module(n) {
        socket.register_invalidate_direct_mem_ptr(this, &DmiInitiator::invalidate);
    }
    void invalidate(sc_dt::uint64 start, sc_dt::uint64 end) { invalidated.push_back({start, end}); }
};

// cpu0, cpu1 on the data socket (cores 0, 1), walker0 on the walker socket (core 0, entering
// at the L2), fetch0 and dmi1 on the fetch socket (cores 0, 1); caches -> ic -> 1 MiB of memory
// at 0
// (cacheable) and a 4 KiB device at 0x10'0000 (40 cycles, not cacheable).
struct Bench {
    static constexpr Addr kDevice = 0x10'0000;
    Clock clock{2.0};
    MemoryConfig mc{1 << 20, 100, 64};
    MemoryConfig dc{4096, 40, 8};
    Initiator cpu0{"cpu0"}, cpu1{"cpu1"}, walker0{"walker0"}, fetch0{"fetch0"};
    DmiInitiator dmi1{"dmi1"};
    CacheSystem caches;
    Interconnect ic{"ic", 10, clock};
    Memory mem{"mem", mc, clock};
    Memory device{"device", dc, clock};
    Stats stats;

    explicit Bench(const CacheHierarchyConfig& config)
        : caches("caches", config, CacheEntry::L2, clock) {
        cpu0.socket.bind(caches.data_socket);
        cpu1.socket.bind(caches.data_socket);
        walker0.socket.bind(caches.walker_socket);
        fetch0.socket.bind(caches.fetch_socket);
        dmi1.socket.bind(caches.fetch_socket);
        caches.memory_socket.bind(ic.target_socket);
        ic.initiator_socket.bind(mem.target_socket);
        ic.initiator_socket.bind(device.target_socket);
        ic.map(0, mc.size, 0, "memory");
        ic.map(kDevice, dc.size, 1, "device");
        caches.addCacheable(0, mc.size);
        caches.registerStats(stats);
        mem.registerStats(stats, "memory");
        ic.registerStats(stats, "ic");
    }
    std::uint64_t stat(const char* path) { return stats.toJson().at(Stats::pointer(path)); }
    Cycles cycles(const sc_core::sc_time& delay) const { return clock.toCycles(delay); }
};

// A timing-only access (TLM_IGNORE_COMMAND) of `kind`, or of the socket's own kind when absent.
tlm::tlm_response_status touch(Initiator& from, Addr addr, sc_core::sc_time& delay,
                               const CacheAccessKind* kind = nullptr) {
    std::uint64_t unused = 0;
    tlm::tlm_generic_payload t;
    Initiator::prepare(t, tlm::TLM_IGNORE_COMMAND, addr, &unused, 8);
    if (kind) t.set_extension(new CacheAccessExtension(*kind)); // the payload frees it
    from.socket->b_transport(t, delay);
    return t.get_response_status();
}

TEST_F(CacheSystemTest, DataAndWalkerAccessesAreTimedByTheHierarchyAndMoveTheBytes) {
    Bench b(twoCores());
    run([&] {
        sc_core::sc_time delay = b.clock.cycles(1); // added to, never replaced
        EXPECT_EQ(b.cpu0.write(0x1000, 0x1234, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(b.cycles(delay), 1 + kL1 + kL2 + kLlc + kLine);
        std::uint64_t stored = 0;
        b.mem.storage().read(0x1000, reinterpret_cast<std::uint8_t*>(&stored), 8);
        EXPECT_EQ(stored, 0x1234u);

        std::uint64_t v = 0;
        delay = sc_core::SC_ZERO_TIME;
        EXPECT_EQ(b.cpu0.read(0x1000, v, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(v, 0x1234u);
        EXPECT_EQ(b.cycles(delay), kL1);
        // Core 1 reads the line core 0 holds Modified: a cache-to-cache transfer.
        delay = sc_core::SC_ZERO_TIME;
        EXPECT_EQ(b.cpu1.read(0x1000, v, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(v, 0x1234u);
        EXPECT_EQ(b.cycles(delay), kL1 + kL2 + kLlc + kTransfer);
        // The walker enters at the L2.
        delay = sc_core::SC_ZERO_TIME;
        EXPECT_EQ(b.walker0.read(0x2000, v, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(b.cycles(delay), kL2 + kLlc + kLine);
        delay = sc_core::SC_ZERO_TIME;
        EXPECT_EQ(b.walker0.read(0x2000, v, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(b.cycles(delay), kL2);

        EXPECT_EQ(b.stat("cores[0].cache.l1d.accesses"), 2u);
        EXPECT_EQ(b.stat("cores[0].cache.l1d.hits"), 1u);
        EXPECT_EQ(b.stat("cores[0].cache.l2.accesses"), 3u);
        EXPECT_EQ(b.stat("cores[0].cache.l2.hits"), 1u);
        EXPECT_EQ(b.stat("cores[1].cache.l1d.misses"), 1u);
        EXPECT_EQ(b.stat("cores[1].cache.l1d.coherence_misses"), 0u);
        EXPECT_EQ(b.stat("cache.llc.accesses"), 3u);
        EXPECT_EQ(b.stat("cache.llc.misses"), 2u);
        EXPECT_EQ(b.stat("cache.coherence.transfers"), 1u);
        EXPECT_EQ(b.stat("cache.coherence.invalidations"), 0u);
        EXPECT_EQ(b.stat("memory.reads"), 2u) << "the two line fills; the bytes moved by debug";
        EXPECT_EQ(b.stat("ic.transactions"), 2u);
    });
}

TEST_F(CacheSystemTest, WriteBackIsATimedTransactionThatStoresNothing) {
    Bench b(smallLlc());
    run([&] {
        sc_core::sc_time delay;
        EXPECT_EQ(b.cpu0.write(0x0, 7, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(b.cycles(delay), kL1 + kLlc + kLine);
        std::uint64_t v = 0;
        delay = sc_core::SC_ZERO_TIME;
        b.cpu0.read(0x40, v, delay);
        delay = sc_core::SC_ZERO_TIME;
        b.cpu0.read(0x80, v, delay); // evicts line 0, dirty: its write-back is on the path
        EXPECT_EQ(b.cycles(delay), kL1 + kLlc + kLine + kLine);
        EXPECT_EQ(b.stat("cache.llc.writebacks"), 1u);
        EXPECT_EQ(b.stat("cache.coherence.back_invalidations"), 1u);
        EXPECT_EQ(b.stat("memory.writes"), 0u);
        EXPECT_EQ(b.stat("memory.reads"), 3u);
        EXPECT_EQ(b.stat("ic.transactions"), 4u);
        EXPECT_EQ(b.cpu0.read64(0x0), 7u) << "the write-back did not overwrite the data";
    });
}

TEST_F(CacheSystemTest, KindsFromTheSocketAndTheExtension) {
    Bench b(twoCores());
    run([&] {
        sc_core::sc_time delay;
        EXPECT_EQ(touch(b.fetch0, 0x3000, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(b.cycles(delay), kL1i + kL2 + kLlc + kLine);
        EXPECT_EQ(b.stat("cores[0].cache.l1i.accesses"), 1u);
        // An atomic at core 1 takes the line from core 0 (held Exclusive: no transfer).
        const CacheAccessKind atomic = CacheAccessKind::Atomic;
        delay = sc_core::SC_ZERO_TIME;
        EXPECT_EQ(touch(b.cpu1, 0x3000, delay, &atomic), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(b.cycles(delay), kL1 + kL2 + kLlc);
        EXPECT_EQ(b.stat("cache.coherence.invalidations"), 1u);
        EXPECT_EQ(b.caches.hierarchy().state(1, 0x3000), Mesi::Modified);
        // The fetch socket refetches it: a transfer, and a coherence miss in the L1I.
        delay = sc_core::SC_ZERO_TIME;
        touch(b.fetch0, 0x3000, delay);
        EXPECT_EQ(b.cycles(delay), kL1i + kL2 + kLlc + kTransfer);
        EXPECT_EQ(b.stat("cores[0].cache.l1i.coherence_misses"), 1u);
        EXPECT_EQ(b.stat("memory.reads"), 1u);
    });
}

// The walker's view: which level served each PTE read.
CacheAccessResult walkerRead(Bench& b, Addr addr) {
    std::uint64_t pte = 0;
    tlm::tlm_generic_payload t;
    Initiator::prepare(t, tlm::TLM_READ_COMMAND, addr, &pte, 8);
    auto* out = new CacheResultExtension; // the payload frees it
    t.set_extension(out);
    sc_core::sc_time delay;
    b.walker0.socket->b_transport(t, delay);
    EXPECT_EQ(b.cycles(delay), out->result.cycles);
    return out->result;
}

TEST_F(CacheSystemTest, ResultExtensionTellsWhereTheAccessWasServed) {
    Bench b(twoCores());
    run([&] {
        CacheAccessResult r = walkerRead(b, 0x4000);
        EXPECT_EQ(r.level, CacheLevel::Memory);
        EXPECT_EQ(r.cycles, kL2 + kLlc + kLine);
        r = walkerRead(b, 0x4008); // the neighbouring PTE, same line
        EXPECT_EQ(r.level, CacheLevel::L2);
        EXPECT_EQ(r.cycles, kL2);
        sc_core::sc_time delay;
        b.cpu1.write(0x4010, 1, delay); // core 1 takes the line Modified
        r = walkerRead(b, 0x4018);
        EXPECT_EQ(r.level, CacheLevel::Remote);
        EXPECT_TRUE(r.coherence_miss);
        EXPECT_EQ(r.cycles, kL2 + kLlc + kTransfer);
    });
}

TEST_F(CacheSystemTest, AccessOutsideTheCacheableRangesPassesThrough) {
    Bench b(twoCores());
    run([&] {
        std::uint64_t v = 0;
        sc_core::sc_time delay;
        EXPECT_EQ(b.cpu0.write(Bench::kDevice + 8, 0x55, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(b.cycles(delay), 10 + 40u) << "the interconnect and the device alone";
        delay = sc_core::SC_ZERO_TIME;
        EXPECT_EQ(b.cpu0.read(Bench::kDevice + 8, v, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(v, 0x55u);
        delay = sc_core::SC_ZERO_TIME;
        EXPECT_EQ(b.cpu0.read(0x20'0000, v, delay), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(b.cycles(delay), 10u);
        EXPECT_EQ(b.stat("cores[0].cache.l1d.accesses"), 0u);
        EXPECT_EQ(b.stat("ic.address_errors"), 1u);
    });
}

TEST_F(CacheSystemTest, DmiPassesThroughAndItsInvalidationReachesTheCores) {
    Bench b(twoCores());
    run([&] {
        tlm::tlm_generic_payload t;
        std::uint64_t unused = 0;
        Initiator::prepare(t, tlm::TLM_READ_COMMAND, 0x1000, &unused, 8);
        tlm::tlm_dmi dmi;
        ASSERT_TRUE(b.dmi1.socket->get_direct_mem_ptr(t, dmi));
        EXPECT_EQ(dmi.get_start_address(), 0x1000u);
        EXPECT_EQ(dmi.get_end_address(), 0x1fffu);
        EXPECT_EQ(b.cycles(dmi.get_read_latency()), 10 + 100u);
        b.mem.target_socket->invalidate_direct_mem_ptr(0, 0xfff); // as Memory would
        ASSERT_EQ(b.dmi1.invalidated.size(), 1u);
        EXPECT_EQ(b.dmi1.invalidated[0].first, 0u);
        EXPECT_EQ(b.dmi1.invalidated[0].second, 0xfffu);
    });
}

} // namespace
} // namespace tlmmu::test
