// Page-table isolation (fw_kernel_config.pti, issue 18) on the fake HAL: user code runs under the
// user ASID (the kernel one | the top ASID bit); a flush on the calling core (the initiator's, a
// target's in its interrupt handler) invalidates the kernel ASID at once and leaves the user
// ASID's entries until that core's fw_return_to_user flushes the user ASID whole, once however
// many pages were flushed (Linux's invalidate_user_asid and SWITCH_TO_USER_CR3); directed and
// broadcast flushes invalidate both ASIDs at once; cost.pti_cr3_switch is charged once per kernel
// entry from user space and once per return to it. The TLBs are a set of (page, ASID) entries per
// core that every invalidation the firmware makes is applied to.
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <utility>

#include "mm_fixture.h"

namespace fwtest {
namespace {

constexpr hal_paddr_t kIpi = 0xFFFE0000;
constexpr std::uint64_t kCr3 = 1000;

// Each core's TLB entries (page, ASID), as the invalidations the firmware issues leave them.
class Tlbs {
  public:
    void fill(unsigned core, std::uint64_t va, std::uint16_t asid) {
        entries_[core].insert({va / kPage, asid});
    }
    bool has(unsigned core, std::uint64_t va, std::uint16_t asid) const {
        return entries_[core].count({va / kPage, asid}) != 0;
    }
    void apply(const HalEvent& e) {
        if (e.kind == HalEvent::Invalidate) {
            apply(e.by, e);
        } else if (e.kind == HalEvent::InvalidateCore) {
            apply(e.core, e);
        } else if (e.kind == HalEvent::InvalidateBroadcast) {
            for (unsigned c = 0; c < kCores; ++c)
                apply(c, e);
        }
    }

  private:
    static constexpr unsigned kCores = 4;
    void apply(unsigned core, const HalEvent& e) {
        auto& set = entries_[core];
        for (auto it = set.begin(); it != set.end();) {
            const bool page = it->first == e.addr / kPage, asid = it->second == e.value;
            const bool hit = e.flush == HAL_FLUSH_ALL || (e.flush == HAL_FLUSH_ASID && asid) ||
                             (e.flush == HAL_FLUSH_VA && page) ||
                             (e.flush == HAL_FLUSH_VA_ASID && page && asid);
            it = hit ? set.erase(it) : std::next(it);
        }
    }
    std::set<std::pair<std::uint64_t, std::uint16_t>> entries_[kCores];
};

class PtiTest : public testing::Test, public MmFixture {
  protected:
    PtiTest() : MmFixture(PteFormat::fromName("sv39", "mmu.format", 0, 0, 0)) {}

    void bootPti(unsigned cores, bool pti = true, unsigned asid_bits = 8,
                 fw_shootdown_mechanism mechanism = FW_SHOOTDOWN_IPI, std::uint64_t cr3 = kCr3) {
        Boot base;
        base.cores = cores;
        base.asid_bits = asid_bits;
        boot(base, [&](fw_kernel_config& c) {
            c.pti = pti;
            c.cost.pti_cr3_switch = cr3;
            c.shootdown = mechanism;
            if (cores > 1) {
                c.ipi_mmio = kIpi;
                c.ack_timeout_cycles = std::uint64_t{1} << 40;
                c.relax_cycles = 20;
                hal().ipi.mmio = kIpi;
                hal().ipi.cores = cores;
            }
        });
        hal().record_events = true;
        hal().on_event = [this](const HalEvent& e) { tlbs.apply(e); };
        hal().on_interrupt = [this](unsigned core) { EXPECT_GE(fw_interrupt(k, core), 0); };
    }

    // Core c returns to user space (as its host does before user code runs).
    void toUser(unsigned c) {
        hal().current_core = c;
        EXPECT_EQ(fw_return_to_user(k, c), FW_OK);
        hal().current_core = 0;
    }
    // A user access by core 0's task that faults: the fault, then the return to user.
    void touch(int pid, std::uint64_t va) {
        EXPECT_EQ(write64(pid, va, 1), FW_FAULT_CLASS_DEMAND_ZERO);
        toUser(0);
    }
    int discard(int pid, std::uint64_t start, std::uint64_t len) {
        fw_syscall_args a{};
        a.nr = FW_SYS_MADVISE_DONTNEED;
        a.start = start;
        a.len = len;
        return fw_syscall(k, 0, tids[pid][0], &a);
    }
    std::uint16_t kernelAsid(int pid, unsigned core = 0) const {
        return fw_process_asid(k, pid, core);
    }
    std::uint16_t userAsid(int pid, unsigned core = 0) const {
        return fw_user_asid(k, fw_process_asid(k, pid, core));
    }
    std::uint64_t userFlushes() const { return fw_kernel_stats(k)->pti_user_flushes; }

    Tlbs tlbs;
};

TEST_F(PtiTest, UserAsidIsTheKernelOneWithTheTopBit) {
    bootPti(1, true, 8);
    const int pid = create();
    ASSERT_EQ(switchTo(pid), FW_OK);
    EXPECT_EQ(hal().root_asid, kernelAsid(pid)); // the switch runs in the kernel
    toUser(0);
    EXPECT_EQ(userAsid(pid), kernelAsid(pid) | 0x80u);
    EXPECT_EQ(hal().root_asid, userAsid(pid)); // user code runs under the user ASID
}

// The discard's by-address flush takes the kernel ASID's entry at once; the user ASID's stays
// until the return to user space flushes the whole user ASID, once.
TEST_F(PtiTest, LocalFlushOfTheUserAsidWaitsForTheReturnToUser) {
    bootPti(1);
    const int pid = create();
    ASSERT_EQ(switchTo(pid), FW_OK);
    toUser(0);
    ASSERT_EQ(map(pid, kData, 4 * kPage, kRW), FW_OK);
    for (unsigned i = 0; i < 3; ++i) {
        touch(pid, kData + i * kPage);
        tlbs.fill(0, kData + i * kPage, userAsid(pid));   // user code's entry
        tlbs.fill(0, kData + i * kPage, kernelAsid(pid)); // a kernel access's (copy_from_user)
    }
    const std::uint64_t pages = fw_kernel_stats(k)->flush_pages;
    ASSERT_EQ(discard(pid, kData, 3 * kPage), FW_OK);
    EXPECT_EQ(fw_kernel_stats(k)->flush_pages, pages + 3); // kernel ASID, page by page
    for (unsigned i = 0; i < 3; ++i) {
        EXPECT_FALSE(tlbs.has(0, kData + i * kPage, kernelAsid(pid))) << i;
        EXPECT_TRUE(tlbs.has(0, kData + i * kPage, userAsid(pid))) << i;
    }
    EXPECT_TRUE(fw_process_user_flush_pending(k, pid, 0));
    EXPECT_EQ(userFlushes(), 0u);
    toUser(0);
    for (unsigned i = 0; i < 3; ++i)
        EXPECT_FALSE(tlbs.has(0, kData + i * kPage, userAsid(pid))) << i;
    EXPECT_FALSE(fw_process_user_flush_pending(k, pid, 0));
    EXPECT_EQ(userFlushes(), 1u); // once for the three pages
    toUser(0);                    // nothing flushed since: no flush
    EXPECT_EQ(userFlushes(), 1u);
}

// A shootdown target flushes its kernel ASID in the handler (and acknowledges); its user ASID's
// entry stays until that core returns to user space, which no user instruction precedes.
TEST_F(PtiTest, TargetFlushesItsUserAsidAtItsReturnToUser) {
    bootPti(2);
    const int pid = threadsOnCores(2);
    toUser(0);
    toUser(1);
    tlbs.fill(1, kData, userAsid(pid, 1));
    tlbs.fill(1, kData, kernelAsid(pid, 1));
    ASSERT_EQ(discard(pid, kData, kPage), FW_OK); // returns after core 1's acknowledgement
    EXPECT_EQ(fw_kernel_stats(k)->shootdown.handled, 1u);
    EXPECT_FALSE(tlbs.has(1, kData, kernelAsid(pid, 1)));
    EXPECT_TRUE(tlbs.has(1, kData, userAsid(pid, 1)));
    EXPECT_TRUE(fw_process_user_flush_pending(k, pid, 1));
    toUser(1);
    EXPECT_FALSE(tlbs.has(1, kData, userAsid(pid, 1)));
    EXPECT_EQ(userFlushes(), 1u);
    toUser(0); // the initiator's own
    EXPECT_EQ(userFlushes(), 2u);
}

// Directed and broadcast flushes reach cores without their firmware: both ASIDs at once there
// (broadcast: on the initiator too, as Linux's INVLPGB path flushes the user PCID beside).
TEST_F(PtiTest, DirectedFlushInvalidatesBothAsidsOnTheTarget) {
    bootPti(2, true, 8, FW_SHOOTDOWN_DIRECTED);
    const int pid = threadsOnCores(2);
    toUser(0);
    toUser(1);
    tlbs.fill(1, kData, userAsid(pid, 1));
    ASSERT_EQ(discard(pid, kData, kPage), FW_OK);
    EXPECT_FALSE(tlbs.has(1, kData, userAsid(pid, 1)));
    EXPECT_FALSE(fw_process_user_flush_pending(k, pid, 1));
    EXPECT_TRUE(fw_process_user_flush_pending(k, pid, 0)); // the local one is deferred
}

TEST_F(PtiTest, BroadcastFlushInvalidatesBothAsidsEverywhere) {
    bootPti(2, true, 8, FW_SHOOTDOWN_BROADCAST);
    const int pid = threadsOnCores(2);
    toUser(0);
    toUser(1);
    for (unsigned c = 0; c < 2; ++c)
        tlbs.fill(c, kData, userAsid(pid, c));
    ASSERT_EQ(discard(pid, kData, kPage), FW_OK);
    for (unsigned c = 0; c < 2; ++c) {
        EXPECT_FALSE(tlbs.has(c, kData, userAsid(pid, c))) << c;
        EXPECT_FALSE(fw_process_user_flush_pending(k, pid, c)) << c;
    }
    toUser(0);
    EXPECT_EQ(userFlushes(), 0u);
}

// Without ASIDs a CR3 write flushes the TLB: every return to user space does.
TEST_F(PtiTest, WithoutAsidsEveryReturnToUserFlushesEverything) {
    bootPti(1, true, 0);
    const int pid = create();
    ASSERT_EQ(switchTo(pid), FW_OK);
    toUser(0);
    EXPECT_EQ(userFlushes(), 1u);
    ASSERT_EQ(map(pid, kData, 4 * kPage, kRW), FW_OK);
    touch(pid, kData);
    EXPECT_EQ(userFlushes(), 2u);
    tlbs.fill(0, kData + kPage, 0);
    EXPECT_EQ(write64(pid, kData + kPage, 1), FW_FAULT_CLASS_DEMAND_ZERO);
    EXPECT_TRUE(tlbs.has(0, kData + kPage, 0));
    toUser(0);
    EXPECT_FALSE(tlbs.has(0, kData + kPage, 0));
    EXPECT_EQ(userFlushes(), 3u);
}

// ---- the CR3 switch's cost: once per kernel entry from user space, once per return --------------

// Cycles charged by `op` (hal_charge_cycles on any core: a core's clock also moves when it takes
// an interrupt at another core's time), run as core `core`.
template <class Op> std::uint64_t charge(unsigned core, Op op) {
    hal().current_core = core;
    const std::uint64_t before = hal().cycles;
    op();
    hal().current_core = 0;
    return hal().cycles - before;
}

TEST_F(PtiTest, Cr3SwitchIsChargedOncePerEntryAndOncePerExit) {
    std::uint64_t cost[2][5] = {};
    for (int paid = 0; paid < 2; ++paid) {
        bootPti(2, true, 8, FW_SHOOTDOWN_IPI, paid ? kCr3 : 0);
        const int pid = threadsOnCores(2);
        toUser(0);
        toUser(1);
        std::uint64_t* c = cost[paid];
        // a system call (an entry), during which core 1 takes the shootdown's interrupt from
        // user code (an entry); core 0's return (an exit), a second one without an entry
        // (nothing); core 1's return (an exit)
        c[0] = charge(0, [&] { EXPECT_EQ(discard(pid, kData, kPage), FW_OK); });
        c[1] = charge(0, [&] { toUser(0); }) + charge(0, [&] { toUser(0); });
        c[2] = charge(1, [&] { toUser(1); });
        // a fault (entry) and its return
        c[3] = charge(0, [&] {
            EXPECT_EQ(write64(pid, kData + kPage, 1), FW_FAULT_CLASS_DEMAND_ZERO);
            toUser(0);
        });
        // an interrupt taken inside the kernel (no entry from user space) charges no switch
        hal().current_core = 1;
        ASSERT_EQ(fw_switch_to(k, 1, tids[pid][1]), FW_OK); // from user: an entry
        c[4] = charge(1, [&] { EXPECT_GE(fw_interrupt(k, 1), 0); });
    }
    EXPECT_EQ(cost[1][0] - cost[0][0], 2 * kCr3);
    EXPECT_EQ(cost[1][1] - cost[0][1], kCr3);
    EXPECT_EQ(cost[1][2] - cost[0][2], kCr3);
    EXPECT_EQ(cost[1][3] - cost[0][3], 2 * kCr3);
    EXPECT_EQ(cost[1][4] - cost[0][4], 0u);
}

// The target's handler, entered from user code, charges the entry.
TEST_F(PtiTest, InterruptFromUserCodeChargesTheEntry) {
    bootPti(2);
    const int pid = threadsOnCores(2);
    toUser(1);
    EXPECT_EQ(charge(1, [&] { EXPECT_GE(fw_interrupt(k, 1), 0); }) -
                  charge(1, [&] { EXPECT_GE(fw_interrupt(k, 1), 0); }),
              kCr3);
    (void)pid;
}

// Without pti the return to user space is nothing at all: no HAL call, no cycle.
TEST_F(PtiTest, WithoutPtiTheReturnToUserDoesNothing) {
    bootPti(2, false);
    const int pid = threadsOnCores(2);
    ASSERT_EQ(discard(pid, kData, kPage), FW_OK);
    const std::size_t events = hal().events.size();
    EXPECT_EQ(charge(0, [&] { toUser(0); }), 0u);
    EXPECT_EQ(hal().events.size(), events);
    EXPECT_EQ(fw_user_asid(k, kernelAsid(pid)), kernelAsid(pid));
    EXPECT_FALSE(fw_process_user_flush_pending(k, pid, 0));
}

// ---- configuration -----------------------------------------------------------------------------

TEST(PtiConfig, OneAsidBitIsRefusedByName) {
    fw_kernel_config c{};
    c.cores = 2;
    c.pti = 1;
    fw_config_error err{};
    for (unsigned bits : {0u, 2u, 12u, 16u}) {
        c.asid_bits = bits;
        EXPECT_EQ(fw_kernel_config_check(&c, &err), FW_OK) << bits;
    }
    c.asid_bits = 1;
    ASSERT_EQ(fw_kernel_config_check(&c, &err), FW_ERR_INVAL);
    EXPECT_EQ(std::string(err.field), "pti");
    c.pti = 0;
    EXPECT_EQ(fw_kernel_config_check(&c, &err), FW_OK);
}

// Global ASIDs (broadcast) need one per core in the kernel half of the space.
TEST(PtiConfig, BroadcastCountsTheKernelHalfOfTheAsids) {
    fw_kernel_config c{};
    c.cores = 2;
    c.asid_bits = 2; // 3 ASIDs, 1 with pti
    c.shootdown = FW_SHOOTDOWN_BROADCAST;
    fw_config_error err{};
    EXPECT_EQ(fw_kernel_config_check(&c, &err), FW_OK);
    c.pti = 1;
    ASSERT_EQ(fw_kernel_config_check(&c, &err), FW_ERR_INVAL);
    EXPECT_EQ(std::string(err.field), "asid_bits");
}

} // namespace
} // namespace fwtest
