// The kernel's own work (fw_costs, issue 18): each cost is charged exactly where the firmware does
// its operation, as many times as the operation happens. Each test runs one operation twice from
// the same boot, once with every cost 0 and once with one cost (or all) set, and checks the
// difference of the cycles charged (FakeHal::cycles: hal_charge_cycles only, so that a wait's
// length does not blur it); the model is deterministic, the differences are exact.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "mm_fixture.h"

namespace fwtest {
namespace {

constexpr hal_paddr_t kIpi = 0xFFFE0000;
constexpr std::uint64_t kIrqEntry = 30, kIrqExit = 20, kRelax = 20;

// One cost of fw_costs, by name (for the test names) and field.
struct CostField {
    const char* name;
    std::uint64_t fw_costs::*field;
};
const CostField kCosts[] = {
    {"syscall_dispatch", &fw_costs::syscall_dispatch},
    {"vma_lookup", &fw_costs::vma_lookup},
    {"page_alloc", &fw_costs::page_alloc},
    {"page_free", &fw_costs::page_free},
    {"rmap_add", &fw_costs::rmap_add},
    {"rmap_remove", &fw_costs::rmap_remove},
    {"lru_add", &fw_costs::lru_add},
    {"zap_pte", &fw_costs::zap_pte},
    {"flush_setup", &fw_costs::flush_setup},
    {"ipi_request", &fw_costs::ipi_request},
    {"ipi_send", &fw_costs::ipi_send},
    {"irq_dispatch", &fw_costs::irq_dispatch},
};

// Distinct powers of two times 1000: a sum of single charges names the costs in it.
fw_costs everyCost() {
    fw_costs c{};
    std::uint64_t v = 1000;
    for (const CostField& f : kCosts) {
        c.*f.field = v;
        v *= 2;
    }
    return c;
}

// What one operation charges: cycles in all, on the initiating core 0, and in each target's
// interrupt handlers.
struct Charged {
    std::uint64_t total = 0, core0 = 0;
    std::map<unsigned, std::uint64_t> handler;
};

class CostTest : public testing::Test, public MmFixture {
  protected:
    CostTest() : MmFixture(PteFormat::fromName("sv39", "mmu.format", 0, 0, 0)) {}

    // `cores` cores on the IPI controller (SMP mode from 2), these costs, x2APIC cluster mode.
    void bootCosts(unsigned cores, const fw_costs& costs, bool cluster = false) {
        Boot base;
        base.cores = cores;
        base.frames = 1024;
        boot(base, [&](fw_kernel_config& c) {
            c.ipi_mmio = kIpi;
            // Targets answer within one relax step here: no resend, whatever they charge.
            c.ack_timeout_cycles = std::uint64_t{1} << 40;
            c.relax_cycles = kRelax;
            c.irq_entry_cycles = kIrqEntry;
            c.irq_exit_cycles = kIrqExit;
            c.batch = 1;
            c.cost = costs;
            c.ipi_cluster_mode = cluster;
            hal().ipi.mmio = kIpi;
            hal().ipi.cores = cores;
        });
        handler.clear();
        hal().on_interrupt = [this](unsigned core) {
            const std::uint64_t before = hal().cycles;
            EXPECT_GE(fw_interrupt(k, core), 0);
            handler[core] += hal().cycles - before;
        };
    }

    // Boots with `costs`, sets up `cores` threads, and returns what `op` (on core 0) charges.
    Charged charged(unsigned cores, const fw_costs& costs, const std::function<void(int)>& op,
                    bool cluster = false) {
        bootCosts(cores, costs, cluster);
        const int pid = threadsOnCores(cores);
        handler.clear();
        const std::uint64_t total = hal().cycles, core0 = hal().core_cycles[0];
        op(pid);
        Charged c;
        c.total = hal().cycles - total;
        c.core0 = hal().core_cycles[0] - core0;
        c.handler = handler;
        return c;
    }

    // What the costs add to `op`: the same operation with every cost 0 subtracted.
    Charged added(unsigned cores, const fw_costs& costs, const std::function<void(int)>& op,
                  bool cluster = false) {
        Charged free = charged(cores, fw_costs{}, op, cluster);
        Charged paid = charged(cores, costs, op, cluster);
        paid.total -= free.total;
        paid.core0 -= free.core0;
        for (auto& [core, cycles] : paid.handler)
            cycles -= free.handler[core];
        return paid;
    }

    int syscall(int pid, fw_syscall_nr nr, std::uint64_t start, std::uint64_t len,
                unsigned prot = 0) {
        fw_syscall_args a{};
        a.nr = nr;
        a.start = start;
        a.len = len;
        a.prot = prot;
        return fw_syscall(k, 0, tids[pid][0], &a);
    }

    std::map<unsigned, std::uint64_t> handler; // per core: cycles charged in fw_interrupt
};

// The operations, each on core 0 of a process with threads on the other cores.
void demandFault(CostTest& t, int pid) {
    EXPECT_EQ(t.write64(pid, kData + kPage, 7), FW_FAULT_CLASS_DEMAND_ZERO);
}

// ---- one cost at a time ---------------------------------------------------------------------

class OneCost : public CostTest, public testing::WithParamInterface<CostField> {};

// A demand-zero fault costs one VMA lookup, one page allocation, one new rmap, one LRU add.
TEST_P(OneCost, DemandFaultChargesItsCount) {
    const CostField f = GetParam();
    const std::map<std::string, std::uint64_t> times = {
        {"vma_lookup", 1}, {"page_alloc", 1}, {"rmap_add", 1}, {"lru_add", 1}};
    fw_costs c{};
    c.*f.field = 1000;
    const std::uint64_t n = times.count(f.name) ? times.at(f.name) : 0;
    const Charged a = added(4, c, [this](int pid) { demandFault(*this, pid); });
    EXPECT_EQ(a.total, n * 1000) << f.name;
    EXPECT_EQ(a.core0, n * 1000) << f.name;
}

// MADV_DONTNEED of one mapped page with three other threads: on core 0 the call's dispatch, one
// VMA lookup, one PTE zapped, its rmap removed, the page freed, one flush set up, a request and
// an ICR write per target; on each target one shootdown interrupt's dispatch.
TEST_P(OneCost, DiscardWithThreeThreadsChargesItsCount) {
    const CostField f = GetParam();
    const std::map<std::string, std::uint64_t> initiator = {
        {"syscall_dispatch", 1}, {"vma_lookup", 1},  {"zap_pte", 1},     {"rmap_remove", 1},
        {"page_free", 1},        {"flush_setup", 1}, {"ipi_request", 3}, {"ipi_send", 3}};
    const std::uint64_t per_target = std::string(f.name) == "irq_dispatch" ? 1000 : 0;
    fw_costs c{};
    c.*f.field = 1000;
    const std::uint64_t n = initiator.count(f.name) ? initiator.at(f.name) : 0;
    const Charged a = added(4, c, [this](int pid) {
        EXPECT_EQ(syscall(pid, FW_SYS_MADVISE_DONTNEED, kData, kPage), FW_OK);
    });
    EXPECT_EQ(a.core0, n * 1000) << f.name;
    EXPECT_EQ(a.total, n * 1000 + 3 * per_target) << f.name;
    ASSERT_EQ(a.handler.size(), 3u) << f.name;
    for (unsigned t = 1; t < 4; ++t)
        EXPECT_EQ(a.handler.at(t), per_target) << f.name << " target " << t;
}

INSTANTIATE_TEST_SUITE_P(EachCost, OneCost, testing::ValuesIn(kCosts),
                         [](const testing::TestParamInfo<CostField>& i) {
                             return std::string(i.param.name);
                         });

// ---- every cost at once ---------------------------------------------------------------------

TEST_F(CostTest, DemandFaultAddsLookupAllocRmapLru) {
    const fw_costs c = everyCost();
    const Charged a = added(4, c, [this](int pid) { demandFault(*this, pid); });
    EXPECT_EQ(a.total, c.vma_lookup + c.page_alloc + c.rmap_add + c.lru_add);
    EXPECT_EQ(a.core0, a.total);
    EXPECT_TRUE(a.handler.empty()); // no shootdown: nobody else is interrupted
}

TEST_F(CostTest, DiscardOfOnePageWithThreeThreads) {
    const fw_costs c = everyCost();
    const Charged a = added(4, c, [this](int pid) {
        EXPECT_EQ(syscall(pid, FW_SYS_MADVISE_DONTNEED, kData, kPage), FW_OK);
    });
    EXPECT_EQ(a.core0, c.syscall_dispatch + c.vma_lookup + c.zap_pte + c.rmap_remove + c.page_free +
                           c.flush_setup + 3 * c.ipi_request + 3 * c.ipi_send);
    for (unsigned t = 1; t < 4; ++t)
        EXPECT_EQ(a.handler.at(t), c.irq_dispatch) << "target " << t;
    EXPECT_EQ(a.total, a.core0 + 3 * c.irq_dispatch);
}

// The same discard's time by phase (fw_time_stats, per core): each cost in the phase that does its
// operation, the initiator's wait one relax step (the idle targets answer in it), each target's
// interrupt its entry, dispatch and exit; the initiator's phases sum to its cycles in the call.
TEST_F(CostTest, DiscardTimeByPhase) {
    const fw_costs c = everyCost();
    bootCosts(4, c);
    const int pid = threadsOnCores(4);
    const fw_time_stats before = fw_kernel_stats(k)->time_by_core[0];
    const std::uint64_t start = hal().core_cycles[0];
    ASSERT_EQ(syscall(pid, FW_SYS_MADVISE_DONTNEED, kData, kPage), FW_OK);
    const fw_time_stats& t = fw_kernel_stats(k)->time_by_core[0];
    EXPECT_EQ(t.syscall - before.syscall, c.syscall_dispatch);
    EXPECT_EQ(t.zap - before.zap, c.vma_lookup + c.zap_pte + c.rmap_remove + c.page_free);
    EXPECT_EQ(t.flush_setup - before.flush_setup, c.flush_setup);
    EXPECT_EQ(t.flush_local - before.flush_local, 0u); // the fake's invalidation is free
    EXPECT_EQ(t.ipi_request - before.ipi_request, 3 * c.ipi_request);
    EXPECT_EQ(t.ipi_send - before.ipi_send, 3 * c.ipi_send);
    EXPECT_EQ(t.ack_wait - before.ack_wait, kRelax);
    EXPECT_EQ(t.fault - before.fault, 0u);
    EXPECT_EQ(t.zero - before.zero, 0u);
    EXPECT_EQ(t.irq - before.irq, 0u);
    const std::uint64_t sum =
        (t.syscall - before.syscall) + (t.zap - before.zap) + (t.flush_setup - before.flush_setup) +
        (t.flush_local - before.flush_local) + (t.ipi_request - before.ipi_request) +
        (t.ipi_send - before.ipi_send) + (t.ack_wait - before.ack_wait);
    EXPECT_EQ(sum, hal().core_cycles[0] - start);
    for (unsigned core = 1; core < 4; ++core)
        EXPECT_EQ(fw_kernel_stats(k)->time_by_core[core].irq, kIrqEntry + c.irq_dispatch + kIrqExit)
            << "target " << core;
}

// mprotect and munmap look the range's first VMA up once, as the discard does; a write-protect
// of a mapped page flushes it (one flush set up, three targets), an unmap zaps and frees it.
TEST_F(CostTest, ProtectAndUnmapLookUpOnce) {
    const fw_costs c = everyCost();
    const std::uint64_t shootdown = c.flush_setup + 3 * c.ipi_request + 3 * c.ipi_send;
    const Charged p = added(4, c, [this](int pid) {
        EXPECT_EQ(syscall(pid, FW_SYS_MPROTECT, kData, 2 * kPage, FW_PROT_R), FW_OK);
    });
    EXPECT_EQ(p.core0, c.syscall_dispatch + c.vma_lookup + shootdown);
    const Charged u = added(
        4, c, [this](int pid) { EXPECT_EQ(syscall(pid, FW_SYS_MUNMAP, kData, 2 * kPage), FW_OK); });
    EXPECT_EQ(u.core0, c.syscall_dispatch + c.vma_lookup + c.zap_pte + c.rmap_remove + c.page_free +
                           shootdown);
    EXPECT_EQ(u.total, u.core0 + 3 * c.irq_dispatch);
}

// ---- x2APIC cluster mode ----------------------------------------------------------------------

// 21 cores, a discard by core 0 reaches the 20 others: one ICR write each in physical mode, one
// per cluster of 16 (cores 1-15 and 16-20: 2) in cluster mode. Requests stay one per target.
TEST_F(CostTest, ClusterModeWritesOncePerClusterOfSixteen) {
    fw_costs c{};
    c.ipi_send = 1000;
    c.ipi_request = 10;
    const auto discard = [this](int pid) {
        EXPECT_EQ(syscall(pid, FW_SYS_MADVISE_DONTNEED, kData, kPage), FW_OK);
    };
    const Charged physical = added(21, c, discard, false);
    EXPECT_EQ(physical.core0, 20 * 1000u + 20 * 10u);
    const Charged cluster = added(21, c, discard, true);
    EXPECT_EQ(cluster.core0, 2 * 1000u + 20 * 10u);
    EXPECT_EQ(cluster.handler.size(), 20u);
}

// Three targets all in cluster 0: one write.
TEST_F(CostTest, ClusterModeOneClusterIsOneWrite) {
    fw_costs c{};
    c.ipi_send = 1000;
    const Charged a = added(
        4, c,
        [this](int pid) { EXPECT_EQ(syscall(pid, FW_SYS_MADVISE_DONTNEED, kData, kPage), FW_OK); },
        true);
    EXPECT_EQ(a.core0, 1000u);
}

// Every cost 0 (the key table's default) charges nothing: the runs are the same cycle for cycle.
TEST_F(CostTest, ZeroCostsChargeNothing) {
    const auto discard = [this](int pid) {
        EXPECT_EQ(syscall(pid, FW_SYS_MADVISE_DONTNEED, kData, kPage), FW_OK);
    };
    const Charged a = charged(4, fw_costs{}, discard), b = charged(4, fw_costs{}, discard, true);
    EXPECT_EQ(a.total, b.total);
    EXPECT_EQ(a.core0, b.core0);
}

} // namespace
} // namespace fwtest
