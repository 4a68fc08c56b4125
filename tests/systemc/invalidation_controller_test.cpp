// InvalidationController (models/interconnect): the registers of abi/
// invalidation_controller.h, an invalidation directed at one core or at all of them reaching
// exactly the intended Mmus (their TLB contents observed through translations and statistics),
// the time of the COMMAND write (zero by default; base + hop cycles per Mmu reached when timed,
// each Mmu reached at its own time), and refused commands / bad accesses as counted TLM errors.
#include <gtest/gtest.h>
#include <systemc>
#include <tlm>

#include <memory>
#include <string>
#include <vector>

#include <tlm_utils/simple_target_socket.h>

#include "hal.h"
#include "interconnect/Interconnect.h"
#include "interconnect/InvalidationController.h"
#include "invalidation_controller.h"
#include "memory/Memory.h"
#include "mmu/Mmu.h"
#include "systemc/MmuTestUtil.h"
#include "systemc/ScTest.h"
#include "systemc/TlmTestUtil.h"

namespace tlmmu::test {
namespace {

using InvalidationControllerTest = ScTest;

constexpr unsigned kCores = 3, kIc = 5, kMem = 100, kAccess = kIc + kMem;
constexpr unsigned kRwxuAd = PTE_F_R | PTE_F_W | PTE_F_X | PTE_F_U | PTE_F_A | PTE_F_D;
constexpr Addr kInval = 0x1'0000'0000;
constexpr Addr kPageA = 0x1000'0000, kPageB = 0x1000'1000, kGlobal = 0x1000'2000;
constexpr Asid kAsid = 1;

// cpu -> ic -> {memory at 0, controller at kInval}; controller.mmu_socket -> core i's Mmu
// invalidate_socket; port[i] -> core i's translate_socket; walkers -> ic. One sv39 address space
// shared by every core (ASID 1): pages A and B, and a global page. The controller's timing is
// base + hop cycles per Mmu reached (0, 0: zero time, as the platform builds it today).
struct Bench {
    Clock clock{1.0};
    PteFormat format = PteFormat::fromName("sv39");
    MemoryConfig mc{std::uint64_t{1} << 30, kMem, 64};
    Initiator cpu{"cpu"};
    Interconnect ic{"ic", kIc, clock};
    Memory mem{"mem", mc, clock};
    InvalidationController controller;
    std::vector<std::unique_ptr<Mmu>> mmus;
    std::vector<std::unique_ptr<MmuPort>> ports;
    PageTables tables{format, mem.storage(), 0x10'0000};
    Stats stats;
    explicit Bench(Cycles base = 0, Cycles hop = 0) : controller("invalidation", clock, base, hop) {
        MmuConfig c;
        c.l1i = tlbLevel("l1i", 16, 4, 1);
        c.l1d = tlbLevel("l1d", 16, 4, 1);
        c.l2 = tlbLevel("l2", 64, 4, 4);
        cpu.socket.bind(ic.target_socket);
        ic.initiator_socket.bind(mem.target_socket);
        ic.initiator_socket.bind(controller.register_socket);
        ic.map(0, mc.size, 0, "memory");
        ic.map(kInval, INVAL_REG_BYTES, 1, "invalidation");
        for (unsigned i = 0; i < kCores; ++i) {
            const std::string n = "cores_" + std::to_string(i);
            mmus.push_back(std::make_unique<Mmu>((n + "_mmu").c_str(), c, format, clock));
            ports.push_back(std::make_unique<MmuPort>((n + "_port").c_str()));
            ports[i]->socket.bind(mmus[i]->translate_socket);
            controller.mmu_socket.bind(mmus[i]->invalidate_socket);
            mmus[i]->walker.memory_socket.bind(ic.target_socket);
            mmus[i]->registerStats(stats, "cores[" + std::to_string(i) + "]");
        }
        controller.registerStats(stats, "invalidation");
        tables.map(kPageA, 0x4000'0000, 0, kRwxuAd);
        tables.map(kPageB, 0x4000'1000, 0, kRwxuAd);
        tables.map(kGlobal, 0x4000'2000, 0, kRwxuAd | PTE_F_G);
    }
    nlohmann::json stat(const std::string& path) { return stats.toJson().at(Stats::pointer(path)); }
    // Every core runs the address space and caches A, B and the global page.
    void warm() {
        for (auto& p : ports) {
            p->setRoot(tables.root, kAsid, clock);
            for (Addr va : {kPageA, kPageB, kGlobal})
                EXPECT_EQ(p->translate(va, clock).walk_cycles, 3u * kAccess);
        }
    }
    // Whether core `core` still caches va (a translation that needs no walk).
    bool cached(unsigned core, Addr va) {
        const TranslationExtension e = ports[core]->translate(va, clock);
        EXPECT_EQ(e.fault, FaultKind::None);
        return e.walk_cycles == 0;
    }
    // Programs the registers and writes COMMAND; returns the cycles of the COMMAND write.
    Cycles invalidate(std::uint64_t kind, Addr va, std::uint64_t asid, std::uint64_t target,
                      tlm::tlm_response_status expect = tlm::TLM_OK_RESPONSE,
                      std::uint64_t command = INVAL_CMD_INVALIDATE) {
        sc_core::sc_time delay;
        EXPECT_EQ(cpu.write(kInval + INVAL_REG_VA, va, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(cpu.write(kInval + INVAL_REG_ASID, asid, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(cpu.write(kInval + INVAL_REG_KIND, kind, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(cpu.write(kInval + INVAL_REG_TARGET, target, delay), tlm::TLM_OK_RESPONSE);
        delay = sc_core::SC_ZERO_TIME;
        EXPECT_EQ(cpu.write(kInval + INVAL_REG_COMMAND, command, delay), expect);
        return clock.toCycles(delay);
    }
    // Writes ISSUER (core 0) and INVAL_CMD_SYNC; returns the cycles of both writes.
    Cycles sync() {
        sc_core::sc_time delay;
        EXPECT_EQ(cpu.write(kInval + INVAL_REG_ISSUER, 0, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(cpu.write(kInval + INVAL_REG_COMMAND, INVAL_CMD_SYNC, delay),
                  tlm::TLM_OK_RESPONSE);
        return clock.toCycles(delay);
    }
    std::vector<std::uint64_t> invalidations() {
        std::vector<std::uint64_t> v;
        for (unsigned i = 0; i < kCores; ++i)
            v.push_back(stat("cores[" + std::to_string(i) + "].mmu.invalidations"));
        return v;
    }
};

using Counts = std::vector<std::uint64_t>;

TEST_F(InvalidationControllerTest, EveryRegisterResetsAndReadsBack) {
    Bench b;
    run([&] {
        for (std::uint64_t reg :
             {INVAL_REG_VA, INVAL_REG_ASID, INVAL_REG_KIND, INVAL_REG_TARGET, INVAL_REG_COMMAND})
            EXPECT_EQ(b.cpu.read64(kInval + reg), 0u) << "register 0x" << std::hex << reg;
        sc_core::sc_time delay;
        EXPECT_EQ(b.cpu.write(kInval + INVAL_REG_VA, 0xdead'b000, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(b.cpu.write(kInval + INVAL_REG_ASID, 77, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(b.cpu.write(kInval + INVAL_REG_KIND, HAL_FLUSH_VA_ASID, delay),
                  tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(b.cpu.write(kInval + INVAL_REG_TARGET, INVAL_TARGET_ALL, delay),
                  tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(b.clock.toCycles(delay), 4u * kIc); // plain registers: the hop only
        EXPECT_EQ(b.cpu.read64(kInval + INVAL_REG_VA), 0xdead'b000u);
        EXPECT_EQ(b.cpu.read64(kInval + INVAL_REG_ASID), 77u);
        EXPECT_EQ(b.cpu.read64(kInval + INVAL_REG_KIND), std::uint64_t{HAL_FLUSH_VA_ASID});
        EXPECT_EQ(b.cpu.read64(kInval + INVAL_REG_TARGET), INVAL_TARGET_ALL);
        EXPECT_EQ(b.invalidations(), (Counts{0, 0, 0})); // writing the operands sends nothing
        EXPECT_EQ(b.stat("invalidation.operations"), 0u);
    });
}

TEST_F(InvalidationControllerTest, DirectedInvalidationReachesOnlyItsCore) {
    Bench b;
    run([&] {
        b.warm();
        // By VA on core 1: the Mmus take no time, the write costs the interconnect hop.
        EXPECT_EQ(b.invalidate(HAL_FLUSH_VA, kPageA, 0, 1), kIc);
        EXPECT_EQ(b.cpu.read64(kInval + INVAL_REG_COMMAND), 0u); // done: never busy
        EXPECT_EQ(b.invalidations(), (Counts{0, 1, 0}));
        EXPECT_EQ(b.stat("invalidation.operations"), 1u);
        EXPECT_FALSE(b.cached(1, kPageA));
        EXPECT_TRUE(b.cached(1, kPageB)); // only the page asked for
        EXPECT_TRUE(b.cached(0, kPageA));
        EXPECT_TRUE(b.cached(2, kPageA));
        // By ASID on core 2: its non-global entries go, the global page stays.
        EXPECT_EQ(b.invalidate(HAL_FLUSH_ASID, 0, kAsid, 2), kIc);
        EXPECT_EQ(b.invalidations(), (Counts{0, 1, 1}));
        EXPECT_FALSE(b.cached(2, kPageA));
        EXPECT_FALSE(b.cached(2, kPageB));
        EXPECT_TRUE(b.cached(2, kGlobal));
        EXPECT_TRUE(b.cached(0, kPageB));
        EXPECT_TRUE(b.cached(1, kPageB));
        // By VA and another ASID on core 0: nothing of ASID 1 matches.
        EXPECT_EQ(b.invalidate(HAL_FLUSH_VA_ASID, kPageB, kAsid + 1, 0), kIc);
        EXPECT_TRUE(b.cached(0, kPageB));
        EXPECT_EQ(b.invalidate(HAL_FLUSH_VA_ASID, kPageB, kAsid, 0), kIc);
        EXPECT_FALSE(b.cached(0, kPageB));
        EXPECT_TRUE(b.cached(0, kPageA));
        EXPECT_EQ(b.invalidations(), (Counts{2, 1, 1}));
        EXPECT_EQ(b.stat("invalidation.operations"), 4u);
    });
}

TEST_F(InvalidationControllerTest, BroadcastReachesEveryCore) {
    Bench b;
    run([&] {
        b.warm();
        EXPECT_EQ(b.invalidate(HAL_FLUSH_VA, kPageB, 0, INVAL_TARGET_ALL), kIc);
        EXPECT_EQ(b.invalidations(), (Counts{1, 1, 1}));
        EXPECT_EQ(b.stat("invalidation.operations"), kCores); // one per Mmu
        for (unsigned c = 0; c < kCores; ++c) {
            EXPECT_FALSE(b.cached(c, kPageB)) << "core " << c;
            EXPECT_TRUE(b.cached(c, kPageA)) << "core " << c;
        }
        EXPECT_EQ(b.invalidate(HAL_FLUSH_ALL, 0, 0, INVAL_TARGET_ALL), kIc);
        EXPECT_EQ(b.invalidations(), (Counts{2, 2, 2}));
        for (unsigned c = 0; c < kCores; ++c)
            for (Addr va : {kPageA, kGlobal})
                EXPECT_FALSE(b.cached(c, va)) << "core " << c;
    });
}

TEST_F(InvalidationControllerTest, RefusedCommandsSendNothingAndSayWhy) {
    Bench b;
    run([&] {
        b.warm();
        EXPECT_EQ(b.invalidate(4, 0, 0, 0, tlm::TLM_GENERIC_ERROR_RESPONSE), kIc);
        EXPECT_EQ(b.stat("invalidation.last_access_error"),
                  "invalidation: write of 8 bytes at offset 0x20: register COMMAND refused 0x1: "
                  "KIND 4 is no flush kind (0-3) (TLM_GENERIC_ERROR_RESPONSE)");
        b.invalidate(HAL_FLUSH_ALL, 0, 0, kCores, tlm::TLM_GENERIC_ERROR_RESPONSE);
        EXPECT_EQ(b.stat("invalidation.last_access_error"),
                  "invalidation: write of 8 bytes at offset 0x20: register COMMAND refused 0x1: "
                  "TARGET 3 is no core (3 cores) (TLM_GENERIC_ERROR_RESPONSE)");
        b.invalidate(HAL_FLUSH_ALL, 0, 0, 0, tlm::TLM_GENERIC_ERROR_RESPONSE, 2);
        EXPECT_EQ(b.stat("invalidation.last_access_error"),
                  "invalidation: write of 8 bytes at offset 0x20: register COMMAND refused 0x2: "
                  "unknown command (TLM_GENERIC_ERROR_RESPONSE)");
        EXPECT_EQ(b.stat("invalidation.access_errors"), 3u);
        EXPECT_EQ(b.stat("invalidation.operations"), 0u);
        EXPECT_EQ(b.invalidations(), (Counts{0, 0, 0}));
        for (unsigned c = 0; c < kCores; ++c)
            EXPECT_TRUE(b.cached(c, kPageA)) << "core " << c;
    });
}

TEST_F(InvalidationControllerTest, BadAccessesAreTlmErrorsCounted) {
    Bench b;
    run([&] {
        sc_core::sc_time delay;
        std::uint64_t v = 0;
        EXPECT_EQ(b.cpu.read(kInval + 0x28, v, delay), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(b.cpu.write(kInval + 0x38, 1, delay), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(b.cpu.write(kInval + INVAL_REG_VA + 4, 1, delay, 4),
                  tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(b.cpu.write(kInval + INVAL_REG_COMMAND, INVAL_CMD_INVALIDATE, delay, 4),
                  tlm::TLM_BURST_ERROR_RESPONSE);
        EXPECT_EQ(b.cpu.read(kInval + INVAL_REG_TARGET, v, delay, 2),
                  tlm::TLM_BURST_ERROR_RESPONSE);
        EXPECT_EQ(b.stat("invalidation.access_errors"), 5u);
        EXPECT_EQ(b.stat("invalidation.last_access_error"),
                  "invalidation: read of 2 bytes at offset 0x18: register TARGET is 8 bytes "
                  "(TLM_BURST_ERROR_RESPONSE)");
        EXPECT_EQ(b.stat("invalidation.operations"), 0u);
        // Past the window: the interconnect's error, not the controller's.
        EXPECT_EQ(b.cpu.read(kInval + INVAL_REG_BYTES, v, delay), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(b.stat("invalidation.access_errors"), 5u);
    });
}

TEST_F(InvalidationControllerTest, DebugWriteOfCommandSendsNothing) {
    Bench b;
    run([&] {
        b.warm();
        std::uint64_t v = HAL_FLUSH_ALL;
        EXPECT_EQ(b.cpu.debug(tlm::TLM_WRITE_COMMAND, kInval + INVAL_REG_KIND, v), 8u);
        v = INVAL_TARGET_ALL;
        EXPECT_EQ(b.cpu.debug(tlm::TLM_WRITE_COMMAND, kInval + INVAL_REG_TARGET, v), 8u);
        v = INVAL_CMD_INVALIDATE;
        EXPECT_EQ(b.cpu.debug(tlm::TLM_WRITE_COMMAND, kInval + INVAL_REG_COMMAND, v), 0u);
        EXPECT_EQ(b.invalidations(), (Counts{0, 0, 0}));
        std::uint64_t target = 0;
        EXPECT_EQ(b.cpu.debug(tlm::TLM_READ_COMMAND, kInval + INVAL_REG_TARGET, target), 8u);
        EXPECT_EQ(target, INVAL_TARGET_ALL);
        for (unsigned c = 0; c < kCores; ++c)
            EXPECT_TRUE(b.cached(c, kPageA));
    });
}

TEST_F(InvalidationControllerTest, TimedOperationsCostBasePlusOneHopPerMmu) {
    constexpr Cycles kBase = 20, kHop = 7;
    Bench b(kBase, kHop);
    run([&] {
        b.warm();
        // Broadcast: posted, the write costs the interconnect's hop only; the sync waits for
        // the base, then one hop per Mmu (3), on top of its two register writes' hops.
        EXPECT_EQ(b.invalidate(HAL_FLUSH_VA, kPageB, 0, INVAL_TARGET_ALL), kIc);
        EXPECT_EQ(b.sync(), kIc + kBase + 3 * kHop);
        EXPECT_EQ(b.invalidations(), (Counts{1, 1, 1}));
        for (unsigned c = 0; c < kCores; ++c) {
            EXPECT_FALSE(b.cached(c, kPageB)) << "core " << c;
            EXPECT_TRUE(b.cached(c, kPageA)) << "core " << c;
        }
        // Directed: one Mmu reached.
        EXPECT_EQ(b.invalidate(HAL_FLUSH_VA, kPageA, 0, 1), kIc + kBase + kHop);
        EXPECT_EQ(b.invalidations(), (Counts{1, 2, 1}));
        EXPECT_FALSE(b.cached(1, kPageA));
        EXPECT_TRUE(b.cached(0, kPageA));
        EXPECT_EQ(b.controller.operationTime(3), b.clock.cycles(kBase + 3 * kHop));
        // A refused command reaches nothing and costs nothing but the interconnect's hop.
        EXPECT_EQ(b.invalidate(4, 0, 0, INVAL_TARGET_ALL, tlm::TLM_GENERIC_ERROR_RESPONSE), kIc);
        EXPECT_EQ(b.invalidate(HAL_FLUSH_ALL, 0, 0, kCores, tlm::TLM_GENERIC_ERROR_RESPONSE), kIc);
        EXPECT_EQ(b.invalidations(), (Counts{1, 2, 1}));
        // The operand registers cost the hop only.
        sc_core::sc_time delay;
        EXPECT_EQ(b.cpu.write(kInval + INVAL_REG_VA, kPageA, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(b.clock.toCycles(delay), kIc);
    });
}

// Records when (initiator's local time: simulated time + delay, in ps) each invalidation
// arrives, and what it asks for; takes `apply` to apply it (added to the delay).
struct FakeMmu : sc_core::sc_module {
    tlm_utils::simple_target_socket<FakeMmu> socket{"socket"};
    std::vector<std::uint64_t> arrivals;
    std::vector<Addr> vas;
    sc_core::sc_time apply;
    explicit FakeMmu(sc_core::sc_module_name n) : sc_module(n) {
        socket.register_b_transport(this, &FakeMmu::b_transport);
    }
    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
        const auto* e = t.get_extension<TranslationExtension>();
        ASSERT_NE(e, nullptr);
        EXPECT_EQ(e->op, TranslationExtension::Op::Invalidate);
        arrivals.push_back((sc_core::sc_time_stamp() + delay).value());
        vas.push_back(e->va);
        delay += apply;
        t.set_response_status(tlm::TLM_OK_RESPONSE);
    }
};

// One controller (base, hop) driven directly by an initiator, with n fake Mmus.
struct Fabric {
    Initiator cpu;
    InvalidationController controller;
    std::vector<std::unique_ptr<FakeMmu>> mmus;
    Fabric(const std::string& name, unsigned n, const Clock& clock, Cycles base, Cycles hop)
        : cpu((name + "_cpu").c_str()), controller((name + "_inval").c_str(), clock, base, hop) {
        cpu.socket.bind(controller.register_socket);
        for (unsigned i = 0; i < n; ++i) {
            mmus.push_back(std::make_unique<FakeMmu>((name + "_mmu" + std::to_string(i)).c_str()));
            controller.mmu_socket.bind(mmus.back()->socket);
        }
    }
    // COMMAND for `target` at local offset `start` (the operands written first, at no cost);
    // returns the delay the COMMAND write added.
    sc_core::sc_time command(std::uint64_t target, Addr va, const sc_core::sc_time& start) {
        sc_core::sc_time delay;
        EXPECT_EQ(cpu.write(INVAL_REG_VA, va, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(cpu.write(INVAL_REG_KIND, HAL_FLUSH_VA, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(cpu.write(INVAL_REG_TARGET, target, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(delay, sc_core::SC_ZERO_TIME);
        delay = start;
        EXPECT_EQ(cpu.write(INVAL_REG_COMMAND, INVAL_CMD_INVALIDATE, delay), tlm::TLM_OK_RESPONSE);
        return delay - start;
    }
    // INVAL_CMD_SYNC of `issuer` at local offset `start`; returns the delay it added.
    sc_core::sc_time sync(const sc_core::sc_time& start, unsigned issuer = 0,
                          tlm::tlm_response_status expect = tlm::TLM_OK_RESPONSE) {
        sc_core::sc_time delay;
        EXPECT_EQ(cpu.write(INVAL_REG_ISSUER, issuer, delay), tlm::TLM_OK_RESPONSE);
        delay = start;
        EXPECT_EQ(cpu.write(INVAL_REG_COMMAND, INVAL_CMD_SYNC, delay), expect);
        return delay - start;
    }
};

TEST_F(InvalidationControllerTest, BroadcastLatencyGrowsWithTheMmusItMustReach) {
    constexpr Cycles kBase = 20, kHop = 7;
    Clock clock{2.0}; // 500 ps a cycle
    const std::uint64_t cycle = clock.period().value();
    std::vector<std::unique_ptr<Fabric>> fabrics;
    const std::vector<unsigned> sizes{1, 2, 4, 8, 63};
    for (unsigned n : sizes)
        fabrics.push_back(std::make_unique<Fabric>("f" + std::to_string(n), n, clock, kBase, kHop));
    Fabric untimed("untimed", 4, clock, 0, 0);
    // The platform's constructor today: no clock, zero time.
    Initiator legacy_cpu("legacy_cpu");
    InvalidationController legacy("legacy");
    std::vector<std::unique_ptr<FakeMmu>> legacy_mmus;
    legacy_cpu.socket.bind(legacy.register_socket);
    for (unsigned i = 0; i < 4; ++i) {
        legacy_mmus.push_back(
            std::make_unique<FakeMmu>(("legacy_mmu" + std::to_string(i)).c_str()));
        legacy.mmu_socket.bind(legacy_mmus.back()->socket);
    }
    run([&] {
        sc_core::wait(sc_core::sc_time(1, sc_core::SC_US)); // not at time 0
        const std::uint64_t now = sc_core::sc_time_stamp().value();
        const sc_core::sc_time start = sc_core::sc_time::from_value(1234); // local offset, ps
        std::uint64_t previous = 0;
        for (std::size_t f = 0; f < sizes.size(); ++f) {
            Fabric& fab = *fabrics[f];
            const unsigned n = sizes[f];
            // Broadcast: posted (the write adds nothing), complete after the base and n hops,
            // which the sync waits for; the k-th Mmu (k = 1..n) reached after the base and k
            // hops.
            EXPECT_EQ(fab.command(INVAL_TARGET_ALL, 0x5000, start), sc_core::SC_ZERO_TIME);
            const sc_core::sc_time took = fab.sync(start);
            EXPECT_EQ(took.value(), (kBase + n * kHop) * cycle) << n << " Mmus";
            EXPECT_EQ(took, fab.controller.operationTime(n));
            EXPECT_GT(took.value(), previous) << n << " Mmus"; // grows with the Mmus
            previous = took.value();
            for (unsigned k = 0; k < n; ++k)
                EXPECT_EQ(
                    fab.mmus[k]->arrivals,
                    (std::vector<std::uint64_t>{now + 1234 + (kBase + (k + 1) * kHop) * cycle}))
                    << n << " Mmus, Mmu " << k;
            // Directed at the last Mmu: the base and one hop, whatever the number of Mmus.
            const sc_core::sc_time one = fab.command(n - 1, 0x6000, start);
            EXPECT_EQ(one.value(), (kBase + kHop) * cycle) << n << " Mmus";
            EXPECT_EQ(fab.mmus[n - 1]->arrivals.size(), 2u);
            EXPECT_EQ(fab.mmus[n - 1]->arrivals.back(), now + 1234 + (kBase + kHop) * cycle);
            EXPECT_EQ(fab.mmus[n - 1]->vas.back(), 0x6000u);
            for (unsigned k = 0; k + 1 < n; ++k)
                EXPECT_EQ(fab.mmus[k]->arrivals.size(), 1u) << n << " Mmus, Mmu " << k;
        }
        // Zero timing (explicit 0, 0, or the clockless constructor): every Mmu at the write's
        // own time, the write adds nothing.
        EXPECT_EQ(untimed.command(INVAL_TARGET_ALL, 0x5000, start), sc_core::SC_ZERO_TIME);
        for (auto& m : untimed.mmus)
            EXPECT_EQ(m->arrivals, (std::vector<std::uint64_t>{now + 1234}));
        sc_core::sc_time delay = start;
        EXPECT_EQ(legacy_cpu.write(INVAL_REG_TARGET, INVAL_TARGET_ALL, delay),
                  tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(legacy_cpu.write(INVAL_REG_COMMAND, INVAL_CMD_INVALIDATE, delay),
                  tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(delay, start);
        for (auto& m : legacy_mmus)
            EXPECT_EQ(m->arrivals, (std::vector<std::uint64_t>{now + 1234}));
    });
}

TEST_F(InvalidationControllerTest, BroadcastsArePostedAndTheSyncWaitsForTheLastOne) {
    constexpr Cycles kBase = 20, kHop = 7;
    Clock clock{2.0}; // 500 ps a cycle
    const std::uint64_t cycle = clock.period().value();
    Fabric fab("posted", 4, clock, kBase, kHop);
    Fabric idle("idle", 2, clock, kBase, kHop);
    run([&] {
        sc_core::wait(sc_core::sc_time(1, sc_core::SC_US));
        const std::uint64_t now = sc_core::sc_time_stamp().value();
        const auto at = [](std::uint64_t ps) { return sc_core::sc_time::from_value(ps); };
        // Nothing outstanding: a sync costs nothing (any issuer).
        EXPECT_EQ(idle.sync(at(700)), sc_core::SC_ZERO_TIME);
        EXPECT_EQ(idle.sync(at(700), 1), sc_core::SC_ZERO_TIME);
        // Two broadcasts of issuer 0, at local offsets 1000 and 3000 ps: both posted.
        EXPECT_EQ(fab.command(INVAL_TARGET_ALL, 0xa000, at(1000)), sc_core::SC_ZERO_TIME);
        EXPECT_EQ(fab.command(INVAL_TARGET_ALL, 0xb000, at(3000)), sc_core::SC_ZERO_TIME);
        for (unsigned k = 0; k < 4; ++k) {
            const std::uint64_t hops = (kBase + (k + 1) * kHop) * cycle;
            EXPECT_EQ(fab.mmus[k]->arrivals,
                      (std::vector<std::uint64_t>{now + 1000 + hops, now + 3000 + hops}))
                << "Mmu " << k;
            EXPECT_EQ(fab.mmus[k]->vas, (std::vector<Addr>{0xa000, 0xb000})) << "Mmu " << k;
        }
        // A sync at 2000 ps waits for the last one: 3000 ps + base + 4 hops.
        const std::uint64_t last = 3000 + (kBase + 4 * kHop) * cycle;
        EXPECT_EQ(fab.sync(at(2000)).value(), last - 2000);
        // Another issuer has nothing outstanding; a sync at or after the completion waits not.
        EXPECT_EQ(fab.sync(at(2000), 3), sc_core::SC_ZERO_TIME);
        EXPECT_EQ(fab.sync(at(last)), sc_core::SC_ZERO_TIME);
        EXPECT_EQ(fab.sync(at(last + 1)), sc_core::SC_ZERO_TIME);
        // Completion times are absolute: once simulated time has passed them, nothing is left.
        EXPECT_EQ(fab.command(INVAL_TARGET_ALL, 0xc000, at(0)), sc_core::SC_ZERO_TIME);
        sc_core::wait(at(last));
        EXPECT_EQ(fab.sync(at(0)), sc_core::SC_ZERO_TIME);
    });
}

TEST_F(InvalidationControllerTest, MmusApplyABroadcastInParallel) {
    constexpr Cycles kBase = 20, kHop = 7;
    Clock clock{1.0};
    Fabric fab("parallel", 3, clock, kBase, kHop);
    const Cycles apply[] = {5, 30, 10}; // what each Mmu takes to apply an invalidation
    for (unsigned k = 0; k < 3; ++k)
        fab.mmus[k]->apply = clock.cycles(apply[k]);
    run([&] {
        EXPECT_EQ(fab.command(INVAL_TARGET_ALL, 0x5000, sc_core::SC_ZERO_TIME),
                  sc_core::SC_ZERO_TIME);
        // Each Mmu reached at base + k hops, whatever the others take.
        for (unsigned k = 0; k < 3; ++k)
            EXPECT_EQ(fab.mmus[k]->arrivals,
                      (std::vector<std::uint64_t>{clock.cycles(kBase + (k + 1) * kHop).value()}))
                << "Mmu " << k;
        // Complete after base + n hops + the slowest Mmu's time (not the sum of theirs).
        EXPECT_EQ(clock.toCycles(fab.sync(sc_core::SC_ZERO_TIME)), kBase + 3 * kHop + 30);
        // Directed: synchronous, the one Mmu's time added to the write.
        EXPECT_EQ(clock.toCycles(fab.command(1, 0x6000, sc_core::SC_ZERO_TIME)), kBase + kHop + 30);
    });
}

// Broadcasts posted back to back queue at each Mmu: the second starts there when the first is
// applied. Mmu 1 (30 cycles each) is the last done: reached at base + 2 hops, then 3 x 30, and
// its completion travels one more hop.
TEST_F(InvalidationControllerTest, AnMmuAppliesPostedBroadcastsOneAfterTheOther) {
    constexpr Cycles kBase = 20, kHop = 7;
    Clock clock{1.0};
    Fabric fab("queued", 3, clock, kBase, kHop);
    const Cycles apply[] = {5, 30, 10};
    for (unsigned k = 0; k < 3; ++k)
        fab.mmus[k]->apply = clock.cycles(apply[k]);
    run([&] {
        for (Addr va : {0x5000, 0x6000, 0x7000})
            EXPECT_EQ(fab.command(INVAL_TARGET_ALL, va, sc_core::SC_ZERO_TIME),
                      sc_core::SC_ZERO_TIME);
        EXPECT_EQ(clock.toCycles(fab.sync(sc_core::SC_ZERO_TIME)), kBase + 3 * kHop + 3 * 30);
    });
}

TEST_F(InvalidationControllerTest, BroadcastOrSyncOfAnIssuerThatIsNoCoreIsRefused) {
    Bench b;
    run([&] {
        b.warm();
        sc_core::sc_time delay;
        EXPECT_EQ(b.cpu.write(kInval + INVAL_REG_ISSUER, kCores, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(b.cpu.read64(kInval + INVAL_REG_ISSUER), kCores);
        b.invalidate(HAL_FLUSH_ALL, 0, 0, INVAL_TARGET_ALL, tlm::TLM_GENERIC_ERROR_RESPONSE);
        EXPECT_EQ(b.stat("invalidation.last_access_error"),
                  "invalidation: write of 8 bytes at offset 0x20: register COMMAND refused 0x1: "
                  "ISSUER 3 is no core (3 cores) (TLM_GENERIC_ERROR_RESPONSE)");
        EXPECT_EQ(b.cpu.write(kInval + INVAL_REG_COMMAND, INVAL_CMD_SYNC, delay),
                  tlm::TLM_GENERIC_ERROR_RESPONSE);
        EXPECT_EQ(b.stat("invalidation.last_access_error"),
                  "invalidation: write of 8 bytes at offset 0x20: register COMMAND refused 0x3: "
                  "ISSUER 3 is no core (3 cores) (TLM_GENERIC_ERROR_RESPONSE)");
        EXPECT_EQ(b.invalidations(), (Counts{0, 0, 0}));
        EXPECT_EQ(b.stat("invalidation.broadcasts"), 0u);
        EXPECT_EQ(b.stat("invalidation.syncs"), 0u);
        // A directed operation does not look at ISSUER.
        EXPECT_EQ(b.invalidate(HAL_FLUSH_VA, kPageA, 0, 2), kIc);
        EXPECT_EQ(b.invalidations(), (Counts{0, 0, 1}));
        // A valid issuer: one broadcast (one operation per Mmu), one sync.
        EXPECT_EQ(b.cpu.write(kInval + INVAL_REG_ISSUER, 0, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(b.invalidate(HAL_FLUSH_VA, kPageB, 0, INVAL_TARGET_ALL), kIc);
        EXPECT_EQ(b.sync(), 2u * kIc);
        EXPECT_EQ(b.invalidations(), (Counts{1, 1, 2}));
        EXPECT_EQ(b.stat("invalidation.operations"), 1u + kCores);
        EXPECT_EQ(b.stat("invalidation.broadcasts"), 1u);
        EXPECT_EQ(b.stat("invalidation.syncs"), 1u);
        EXPECT_EQ(b.stat("invalidation.access_errors"), 2u);
    });
}

} // namespace
} // namespace tlmmu::test
