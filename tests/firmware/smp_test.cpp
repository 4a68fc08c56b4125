// The SMP side of the memory manager (firmware/kernel/smp.c, issue 8): the address-space lock,
// the TLB shootdown protocol over the fake IPI controller, fw_interrupt, its variants and fault
// injection, and threads of one process on several cores.
//
// Several cores in one process: FakeHal::current_core names the core that makes the HAL calls;
// a core without a running job "runs user code" and takes a pending IPI (fw_interrupt as that
// core) whenever any core takes a relax step; runCores runs real concurrent jobs (one thread per
// core, the baton passed at every hal_relax).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "ipi_controller.h"
#include "mm_fixture.h"

namespace fwtest {
namespace {

using fakehal::CoreJob;
using fakehal::runCores;

constexpr hal_paddr_t kIpi = 0xFFFE0000;
constexpr std::uint64_t kIrqEntry = 30, kIrqExit = 20, kRelax = 20, kTimeout = 1000;

struct SmpBoot {
    unsigned cores = 4;
    unsigned asid_bits = 8;
    bool ipi = true;
    fw_shootdown_mechanism mechanism = FW_SHOOTDOWN_IPI;
    unsigned inject = 0;
    bool concurrent_flush = false, early_ack = false, unbatched = false, lazy_tlb = false;
    std::uint32_t frames = 512;
    bool swap = false;
    std::uint32_t limit = 0;
};

template <class F> SmpBoot with(F f) {
    SmpBoot b;
    f(b);
    return b;
}

class SmpTest : public testing::Test, public MmFixture {
  protected:
    SmpTest() : MmFixture(PteFormat::fromName("sv39", "mmu.format", 0, 0, 0)) {}

    void bootSmp(const SmpBoot& b = SmpBoot()) {
        Boot base;
        base.frames = b.frames;
        base.asid_bits = b.asid_bits;
        base.cores = b.cores;
        base.limit = b.limit;
        base.swap = b.swap;
        boot(base, [&](fw_kernel_config& c) {
            c.ipi_mmio = b.ipi ? kIpi : 0;
            c.shootdown = b.mechanism;
            c.ack_timeout_cycles = kTimeout;
            c.relax_cycles = kRelax;
            c.irq_entry_cycles = kIrqEntry;
            c.irq_exit_cycles = kIrqExit;
            c.inject = b.inject;
            c.concurrent_flush = b.concurrent_flush;
            c.early_ack = b.early_ack;
            c.batch = !b.unbatched;
            c.lazy_tlb = b.lazy_tlb;
            if (b.ipi) {
                hal().ipi.mmio = kIpi;
                hal().ipi.cores = b.cores;
            }
        });
        hal().on_interrupt = [this](unsigned core) { EXPECT_GE(fw_interrupt(k, core), 0); };
    }

    const fw_smp& smp() const { return k->smp; }
    // Each protocol word in a 64-byte line of its own (a slot's three words share one).
    // The mmap_lock of pid's address space, the kernel's spin locks, a split page-table lock.
    hal_paddr_t lockOf(int pid) const { return smp().locks + 64 * (pid - 1); }
    hal_paddr_t spinLock(unsigned i) const { return smp().locks + 64 * i; }
    // An mmap_lock word is free: every ticket served, no reader inside.
    static bool rwFree(std::uint64_t v) {
        return FW_RW_NEXT(v) == FW_RW_HEAD(v) && FW_RW_READERS(v) == 0;
    }
    bool lockFree(int pid) const { return rwFree(hal_read_phys(lockOf(pid), 8)); }
    // "(tickets taken, ticket served, readers inside)"
    static std::string rw(std::uint64_t v) {
        return "(" + std::to_string(FW_RW_NEXT(v)) + "," + std::to_string(FW_RW_HEAD(v)) + "," +
               std::to_string(FW_RW_READERS(v)) + ")";
    }
    // The lines of a read lock and unlock of pid's mmap_lock from its current word: a
    // fetch-and-add each (Linux's rwsem fast paths).
    std::pair<std::string, std::string> readLockLines(unsigned by, int pid) const {
        const std::uint64_t v = hal_read_phys(lockOf(pid), 8);
        const std::uint64_t in = v + FW_RW_READER_ONE;
        const std::string m = std::to_string(by) + ":XADD mmap" + std::to_string(pid) + " ";
        return {m + "+1 old " + rw(v), m + "-1 old " + rw(in)};
    }
    // A writer's: the CAS that takes the ticket being served, the add that serves the next.
    std::pair<std::string, std::string> writeLockLines(unsigned by, int pid) const {
        const std::uint64_t v = hal_read_phys(lockOf(pid), 8);
        const std::uint64_t in = v + FW_RW_NEXT_ONE;
        const std::string m = std::to_string(by) + ":CAS mmap" + std::to_string(pid) + " ";
        return {m + rw(v) + "->" + rw(in) + " old " + rw(v),
                std::to_string(by) + ":XADD mmap" + std::to_string(pid) + " head+1 old " + rw(in)};
    }
    // The lock and unlock lines of spin lock `lock` (its name) by core `by`.
    static std::vector<std::string> spinLines(unsigned by, const std::string& lock) {
        const std::string c = std::to_string(by) + ":CAS " + lock + " ";
        return {c + "0->" + std::to_string(by + 1) + " old 0",
                c + std::to_string(by + 1) + "->0 old " + std::to_string(by + 1)};
    }
    std::string ptlOf(std::uint64_t pte) const {
        return "ptl" + std::to_string((pte >> 12) % FW_SMP_PTL_LOCKS);
    }
    hal_paddr_t slotWord(unsigned i, unsigned w) const { return smp().slots + 64 * i + 8 * w; }
    hal_paddr_t pendingOf(unsigned t) const { return smp().pending + 64 * t; }
    hal_paddr_t ackOf(unsigned i, unsigned t) const { return smp().acks + 64 * (i * k->cores + t); }
    bool inProtocol(std::uint64_t pa) const {
        return pa >= smp().area && pa < smp().area + smp().area_bytes;
    }
    bool inIpi(std::uint64_t pa) const { return pa >= kIpi && pa < kIpi + IPI_REG_BYTES; }
    const fw_shootdown_stats& sd(int core = -1) const {
        return core < 0 ? fw_kernel_stats(k)->shootdown
                        : fw_kernel_stats(k)->shootdown_by_core[core];
    }

    // The recorded events as lines "by:what", without the page-table reads (walks) and without
    // the sanity-free noise: what the protocol does, in order.
    std::vector<std::string> protocolLines() const {
        std::vector<std::string> out;
        for (const HalEvent& e : hal().events) {
            std::ostringstream s;
            s << e.by << ":";
            switch (e.kind) {
            case HalEvent::Read:
                if (!inProtocol(e.addr) && !inIpi(e.addr)) continue;
                s << "R " << name(e.addr);
                break;
            case HalEvent::Write:
                s << "W " << name(e.addr) << "=" << e.value;
                break;
            case HalEvent::Cas:
                if (inProtocol(e.addr) && e.addr < spinLock(FW_SMP_LOCK_SWAP))
                    s << "CAS " << name(e.addr) << " " << rw(e.expected) << "->" << rw(e.value)
                      << " old " << rw(e.old);
                else
                    s << "CAS " << name(e.addr) << " " << e.expected << "->" << e.value << " old "
                      << e.old;
                break;
            case HalEvent::FetchAdd:
                s << "XADD " << name(e.addr) << " ";
                if (e.value == FW_RW_HEAD_ONE)
                    s << "head+1";
                else if (e.value == FW_RW_HEAD_ONE + FW_RW_READER_ONE)
                    s << "head+1 +1";
                else
                    s << std::showpos << static_cast<std::int64_t>(e.value) << std::noshowpos;
                s << " old " << rw(e.old);
                break;
            case HalEvent::Invalidate:
                s << "INV " << e.flush << " " << std::hex << e.addr << std::dec << " asid "
                  << e.value;
                break;
            case HalEvent::InvalidateCore:
                s << "INVCORE " << e.core << " " << e.flush << " " << std::hex << e.addr
                  << std::dec;
                break;
            case HalEvent::Sync:
                s << "SYNC";
                break;
            case HalEvent::Relax:
                s << "RELAX " << e.value;
                break;
            case HalEvent::IrqEnable:
                s << "IRQ " << e.value;
                break;
            case HalEvent::Trace:
                s << "TRACE " << e.addr << " " << e.value;
                break;
            case HalEvent::InvalidateBroadcast:
                s << "BCAST " << e.flush << " " << std::hex << e.addr << std::dec << " asid "
                  << e.value;
                break;
            case HalEvent::TlbSync:
                s << "TLBSYNC";
                break;
            default:
                s << "other " << e.kind;
            }
            out.push_back(s.str());
        }
        return out;
    }
    std::string name(std::uint64_t pa) const {
        if (inIpi(pa)) {
            const std::uint64_t off = pa - kIpi;
            static const char* regs[] = {"TARGETS", "SEND", "PENDING", "CLEAR"};
            return std::string(regs[off / 0x200]) + "(" + std::to_string((off % 0x200) / 8) + ")";
        }
        if (inProtocol(pa)) {
            if (pa < smp().slots) {
                const std::uint64_t i = (pa - smp().locks) / 64;
                if (i < FW_SMP_LOCK_SWAP) return "mmap" + std::to_string(i + 1);
                if (i == FW_SMP_LOCK_SWAP) return "swap";
                if (i == FW_SMP_LOCK_ZONE) return "zone";
                if (i == FW_SMP_LOCK_LRU) return "lru";
                return "ptl" + std::to_string(i - FW_SMP_LOCK_PTL);
            }
            if (pa < smp().pending) {
                const std::uint64_t off = pa - smp().slots;
                static const char* f[] = {"head", "start", "end", "w3", "w4", "w5", "w6", "w7"};
                return "slot" + std::to_string(off / 64) + "." + f[off % 64 / 8];
            }
            if (pa < smp().acks) return "pending" + std::to_string((pa - smp().pending) / 64);
            const std::uint64_t w = (pa - smp().acks) / 64;
            return "ack" + std::to_string(w / k->cores) + "," + std::to_string(w % k->cores);
        }
        std::ostringstream s;
        s << "pte@" << std::hex << pa;
        return s.str();
    }
    std::string join(const std::vector<std::string>& v) const {
        std::string s;
        for (const std::string& l : v)
            s += l + "\n";
        return s;
    }
    // The lines of the discard of kData's first page by core 0 in a fresh 4-core boot.
    std::vector<std::string> discardLines(const SmpBoot& b) {
        bootSmp(b);
        const int pid = threadsOnCores(4);
        hal().record_events = true;
        hal().events.clear();
        EXPECT_EQ(fw_vma_discard(k, 0, pid, kData, kPage), FW_OK);
        hal().record_events = false;
        return protocolLines();
    }
};

std::string invLine(unsigned by, std::uint64_t va, unsigned asid) {
    std::ostringstream s;
    s << by << ":INV " << HAL_FLUSH_VA_ASID << " " << std::hex << va << std::dec << " asid "
      << asid;
    return s.str();
}

// A discard by one thread while three others run on cores 1-3: every step in order, and the
// frame still allocated at every ack, free before the lock is released.
TEST_F(SmpTest, DiscardWithThreeOtherThreadsIsTheExactProtocol) {
    bootSmp();
    const int pid = threadsOnCores(4);
    const hal_paddr_t frame = frameOf(pid, kData);
    ASSERT_EQ(frame_refcount(frames, frame), 1u);
    std::uint64_t pte = 0;
    {
        std::uint64_t raw = 0;
        unsigned level = 0;
        ASSERT_EQ(pt_lookup(k, fw_process_root(k, pid), kData, &raw, &level, &pte), FW_OK);
    }
    std::vector<std::pair<std::string, std::uint32_t>> refcount_at;
    hal().on_event = [&](const HalEvent& e) {
        if ((e.kind == HalEvent::Write && inProtocol(e.addr) && e.addr >= smp().acks) ||
            (e.kind == HalEvent::FetchAdd && e.addr == lockOf(pid) && rwFree(e.old + e.value)))
            refcount_at.push_back({name(e.addr), frame_refcount(frames, frame)});
    };
    const auto [read_lock, read_unlock] = readLockLines(0, pid);
    const std::vector<std::string> ptl = spinLines(0, ptlOf(pte));
    const std::vector<std::string> lru = spinLines(0, "lru");
    hal().record_events = true;
    hal().events.clear();
    const std::uint64_t t0 = hal().core_cycles[0];
    ASSERT_EQ(fw_vma_discard(k, 0, pid, kData, kPage), FW_OK);
    hal().record_events = false;
    hal().on_event = nullptr;

    // mmap_lock for read; the PTE cleared under its table's lock; the trace marks the start of
    // the shootdown, before the local flush.
    std::vector<std::string> want = {
        read_lock,
        ptl[0],
        "0:W " + name(pte) + "=0",
        ptl[1],
        "0:TRACE 0 1",
        invLine(0, kData, fw_process_asid(k, pid, 0)),
        "0:W slot0.start=" + std::to_string(kData),
        "0:W slot0.end=" + std::to_string(kData + kPage),
        // seq 1 | pid << 40 | stride 12 << 48
        "0:W slot0.head=" + std::to_string(1 | std::uint64_t(pid) << 40 | std::uint64_t{12} << 48),
        "0:CAS pending1 0->1 old 0",
        "0:CAS pending2 0->1 old 0",
        "0:CAS pending3 0->1 old 0",
        "0:SYNC",
        "0:W TARGETS(0)=14",
        "0:W SEND(0)=0",
        "0:R ack0,1",
        "0:R ack0,2",
        "0:R ack0,3",
        "0:IRQ 1",
        "0:RELAX 20",
    };
    for (unsigned t = 1; t <= 3; ++t) {
        const std::string c = std::to_string(t) + ":";
        for (const std::string& l :
             {c + "R PENDING(" + std::to_string(t) + ")",
              c + "W CLEAR(" + std::to_string(t) + ")=1", c + "R pending" + std::to_string(t),
              c + "CAS pending" + std::to_string(t) + " 1->0 old 1", c + "TRACE 2 1",
              c + "R slot0.head", c + "R slot0.start", c + "R slot0.end"})
            want.push_back(l);
        want.push_back(invLine(t, kData, fw_process_asid(k, pid, t)));
        want.push_back(c + "SYNC");
        want.push_back(c + "W ack0," + std::to_string(t) + "=1");
        want.push_back(c + "TRACE 3 1");
    }
    // The frame leaves the LRU under its lock (release_pages), then mmap_lock goes.
    for (const std::string& l :
         {std::string("0:IRQ 0"), std::string("0:R ack0,1"), std::string("0:R ack0,2"),
          std::string("0:R ack0,3"), std::string("0:TRACE 1 3"), lru[0], lru[1], read_unlock})
        want.push_back(l);
    EXPECT_EQ(join(protocolLines()), join(want));
    if (std::getenv("SMP_TEST_PRINT")) std::printf("%s", join(protocolLines()).c_str());

    // Frames go back after the last ack, before the lock is released.
    ASSERT_EQ(refcount_at.size(), 4u);
    for (unsigned i = 0; i < 3; ++i)
        EXPECT_EQ(refcount_at[i].second, 1u) << refcount_at[i].first;
    EXPECT_EQ(refcount_at[3].first, "mmap" + std::to_string(pid));
    EXPECT_EQ(refcount_at[3].second, 0u);
    EXPECT_EQ(frame_refcount(frames, frame), 0u);

    // Statistics and time: the initiator waited one relax step plus the ack polls.
    EXPECT_EQ(sd().shootdowns, 1u);
    EXPECT_EQ(sd().pages, 1u);
    EXPECT_EQ(sd().full_flushes, 0u);
    EXPECT_EQ(sd().targets, 3u);
    EXPECT_EQ(sd().ipis_sent, 3u);
    EXPECT_EQ(sd().ack_timeouts, 0u);
    EXPECT_EQ(sd().resends, 0u);
    EXPECT_EQ(sd().handled, 3u);
    EXPECT_EQ(sd(0).shootdowns, 1u);
    EXPECT_EQ(sd(0).handled, 0u);
    for (unsigned t = 1; t <= 3; ++t) {
        EXPECT_EQ(sd(t).handled, 1u) << t;
        EXPECT_EQ(sd(t).interrupts, 1u) << t;
        EXPECT_EQ(sd(t).shootdowns, 0u) << t;
    }
    EXPECT_EQ(sd(0).wait_cycles, kRelax);
    EXPECT_EQ(hal().core_cycles[0] - t0, kRelax);
    EXPECT_EQ(hal().traces.size(), 8u);
    EXPECT_EQ(hal().ipi.sends.size(), 1u);
    EXPECT_EQ(hal().ipi.sends[0].mask, 0xEu);
    for (unsigned t = 1; t <= 3; ++t) {
        EXPECT_EQ(hal().ipi.pending[t], 0u);
        EXPECT_EQ(hal_read_phys(pendingOf(t), 8), 0u);
    }
    EXPECT_TRUE(lockFree(pid));
}

// The cycle cost of the initiator with costed HAL calls (the fake has one clock per core and no
// contention): mmap_lock CAS + walk reads + PTE write under the table's lock (2 CAS) + local
// invalidation + 3 slot writes + 3 CAS + 2 IPI writes + (3 ack reads + relax) + 3 ack reads +
// the LRU lock around the free (2 CAS) + unlock CAS.
TEST_F(SmpTest, InitiatorCyclesFollowTheFormula) {
    bootSmp();
    const int pid = threadsOnCores(4);
    hal().read_cost = 2;
    hal().write_cost = 3;
    hal().cas_cost = 5;
    hal().invalidate_cost = 7;
    hal().record_events = true;
    hal().events.clear();
    const std::uint64_t t0 = hal().core_cycles[0];
    ASSERT_EQ(fw_vma_discard(k, 0, pid, kData, kPage), FW_OK);
    std::uint64_t walk_reads = 0;
    for (const HalEvent& e : hal().events)
        walk_reads +=
            e.by == 0 && e.kind == HalEvent::Read && !inProtocol(e.addr) && !inIpi(e.addr);
    const std::uint64_t targets = 3;
    const std::uint64_t want =
        5 /* lock */ + 2 * walk_reads + 2 * 5 /* PTL */ + 3 /* PTE */ + 7 /* local */ +
        3 * 3 /* request */ + targets * 5 /* pending bits */ + 2 * 3 /* TARGETS, SEND */ +
        targets * 2 + kRelax + targets * 2 + 2 * 5 /* LRU */ + 5 /* unlock */;
    EXPECT_EQ(hal().core_cycles[0] - t0, want);
    EXPECT_EQ(sd(0).wait_cycles, targets * 2 + kRelax + targets * 2);
    // Each target: entry + 2 IPI accesses + pending read and CAS + 3 slot reads + flush + ack +
    // exit.
    for (unsigned t = 1; t <= 3; ++t)
        EXPECT_GE(hal().core_cycles[t], kIrqEntry + 2 + 3 + 2 + 5 + 3 * 2 + 7 + 3 + kIrqExit) << t;
}

// Two cores shoot down at the same time (different address spaces, each on both cores): each
// services the other's IPI while it waits for its own acks.
TEST_F(SmpTest, ConcurrentShootdownsFromTwoCoresComplete) {
    bootSmp({2});
    const int a = create(0), b = create(1);
    const int a1 = thread(a, 1), b0 = thread(b, 0);
    ASSERT_EQ(map(a, kData, 4 * kPage, kRW), FW_OK);
    ASSERT_EQ(map(b, kData, 4 * kPage, kRW), FW_OK);
    // Both cores hold an ASID of both address spaces: both masks are {0, 1}.
    hal().current_core = 1;
    ASSERT_EQ(fw_switch_to(k, 1, a1), FW_OK);
    ASSERT_EQ(fw_switch_to(k, 1, tidOf(b)), FW_OK);
    hal().current_core = 0;
    ASSERT_EQ(fw_switch_to(k, 0, b0), FW_OK);
    ASSERT_EQ(fw_switch_to(k, 0, tidOf(a)), FW_OK);
    ASSERT_EQ(fw_process_cpu_mask(k, a), 3u);
    ASSERT_EQ(fw_process_cpu_mask(k, b), 3u);
    write64(a, kData, 1);
    hal().current_core = 1;
    EXPECT_EQ(accessBy(b, tidOf(b), kData, AccessType::Write, nullptr, 1),
              FW_FAULT_CLASS_DEMAND_ZERO);
    const hal_paddr_t fa = frameOf(a, kData), fb = frameOf(b, kData);

    int ra = -1, rb = -1;
    std::uint64_t handled_a = 0, handled_b = 0; // by the initiator itself, when it is done
    runCores({{0,
               [&] {
                   ra = fw_vma_discard(k, 0, a, kData, kPage);
                   handled_a = sd(0).handled;
               }},
              {1, [&] {
                   rb = fw_vma_discard(k, 1, b, kData, kPage);
                   handled_b = sd(1).handled;
               }}});
    EXPECT_EQ(handled_a, 1u);
    EXPECT_EQ(handled_b, 1u);
    EXPECT_EQ(ra, FW_OK);
    EXPECT_EQ(rb, FW_OK);
    EXPECT_EQ(frame_refcount(frames, fa), 0u);
    EXPECT_EQ(frame_refcount(frames, fb), 0u);
    for (unsigned c = 0; c < 2; ++c) {
        EXPECT_EQ(sd(c).shootdowns, 1u) << c;
        EXPECT_EQ(sd(c).handled, 1u) << c; // serviced while waiting
        EXPECT_EQ(sd(c).ack_timeouts, 0u) << c;
    }
    EXPECT_TRUE(lockFree(a));
    EXPECT_TRUE(lockFree(b));
}

// mmap_lock serves its tickets in order: a writer that comes while a reader is inside waits for
// it to leave; a reader that comes after the writer waits for the writer, though no reader would
// be in its way (no writer starves behind a stream of readers). The other cores' holds are
// written into the lock word directly; each wait is one relax step of the fake.
TEST_F(SmpTest, MmapLockServesTicketsInOrder) {
    bootSmp({2});
    const int pid = threadsOnCores(2);
    fw_mm* mm = mm_of(k, pid);
    const std::uint64_t base = hal_read_phys(lockOf(pid), 8);
    ASSERT_TRUE(rwFree(base));
    const std::uint64_t n = FW_RW_NEXT(base);
    // A reader elsewhere: its ticket taken and served, inside.
    hal_write_phys(lockOf(pid), base + FW_RW_NEXT_ONE + FW_RW_HEAD_ONE + FW_RW_READER_ONE, 8);
    unsigned waits = 0;
    hal().on_relax = [&](unsigned) {
        if (++waits == 2) // the reader leaves
            hal_write_phys(lockOf(pid), hal_read_phys(lockOf(pid), 8) - FW_RW_READER_ONE, 8);
    };
    hal().current_core = 0;
    mmap_write_lock(k, 0, mm);
    EXPECT_EQ(waits, 2u);
    const std::uint64_t held = hal_read_phys(lockOf(pid), 8);
    EXPECT_EQ(FW_RW_NEXT(held), n + 2);
    EXPECT_EQ(FW_RW_HEAD(held), n + 1); // the writer's ticket, being served
    EXPECT_EQ(FW_RW_READERS(held), 0u);
    // A reader on core 1 now: after the writer in line, it waits until the writer is done.
    waits = 0;
    hal().on_relax = [&](unsigned) {
        if (++waits == 1) mmap_write_unlock(k, 0, mm);
    };
    hal().current_core = 1;
    mmap_read_lock(k, 1, mm);
    hal().on_relax = nullptr;
    EXPECT_EQ(waits, 1u);
    const std::uint64_t reading = hal_read_phys(lockOf(pid), 8);
    EXPECT_EQ(FW_RW_NEXT(reading), n + 3);
    EXPECT_EQ(FW_RW_HEAD(reading), n + 3);
    EXPECT_EQ(FW_RW_READERS(reading), 1u);
    mmap_read_unlock(k, 1, mm);
    hal().current_core = 0;
    EXPECT_TRUE(lockFree(pid));
    EXPECT_EQ(fw_kernel_stats(k)->lock_waits.mmap_write, 2u);
    EXPECT_EQ(fw_kernel_stats(k)->lock_waits.mmap_read, 1u);
}

// Readers take mmap_lock as Linux's rwsem does: one fetch-and-add each, in parallel, without a
// retry however many readers are inside. A reader that comes while a writer is in line adds
// itself, sees the outstanding ticket, takes itself out again and queues behind the writer.
TEST_F(SmpTest, MmapLockReadersTakeItWithOneAddEach) {
    bootSmp({3});
    const int pid = threadsOnCores(3);
    fw_mm* mm = mm_of(k, pid);
    const std::uint64_t base = hal_read_phys(lockOf(pid), 8);
    ASSERT_TRUE(rwFree(base));
    hal().record_events = true;
    hal().events.clear();
    for (unsigned c = 0; c < 3; ++c) {
        hal().current_core = c;
        mmap_read_lock(k, c, mm); // the others still inside
    }
    hal().record_events = false;
    const std::uint64_t three = hal_read_phys(lockOf(pid), 8);
    hal().record_events = true;
    EXPECT_EQ(FW_RW_READERS(three), 3u);
    EXPECT_EQ(FW_RW_NEXT(three), FW_RW_NEXT(base)); // no ticket taken
    for (unsigned c = 0; c < 3; ++c) {
        hal().current_core = c;
        mmap_read_unlock(k, c, mm);
    }
    const std::string word = rw(base);
    const auto after = [&](unsigned readers) { return rw(base + readers * FW_RW_READER_ONE); };
    EXPECT_EQ(join(protocolLines()),
              join({"0:XADD mmap1 +1 old " + word, "1:XADD mmap1 +1 old " + after(1),
                    "2:XADD mmap1 +1 old " + after(2), "0:XADD mmap1 -1 old " + after(3),
                    "1:XADD mmap1 -1 old " + after(2), "2:XADD mmap1 -1 old " + after(1)}));
    EXPECT_EQ(fw_kernel_stats(k)->lock_waits.mmap_read, 0u);
    EXPECT_EQ(hal().sync_calls, 0u); // no waiter: no wake-up event either

    // Core 0 writes; core 1's read comes meanwhile: in, out, a ticket, then in when served.
    hal().current_core = 0;
    mmap_write_lock(k, 0, mm);
    const std::uint64_t held = hal_read_phys(lockOf(pid), 8);
    hal().events.clear();
    unsigned waits = 0;
    hal().on_relax = [&](unsigned) {
        if (++waits == 1) {
            hal().current_core = 0;
            mmap_write_unlock(k, 0, mm);
            hal().current_core = 1;
        }
    };
    hal().current_core = 1;
    mmap_read_lock(k, 1, mm);
    hal().on_relax = nullptr;
    hal().record_events = false;
    const std::uint64_t queued = held + FW_RW_NEXT_ONE;
    const std::uint64_t served = queued + FW_RW_HEAD_ONE;
    EXPECT_EQ(join(protocolLines()),
              join({"1:XADD mmap1 +1 old " + rw(held),
                    "1:XADD mmap1 -1 old " + rw(held + FW_RW_READER_ONE),
                    "1:CAS mmap1 " + rw(held) + "->" + rw(queued) + " old " + rw(held), "1:IRQ 1",
                    "1:RELAX 20", // asleep until the writer's event
                    "0:XADD mmap1 head+1 old " + rw(queued), "1:IRQ 0", "1:SYNC",
                    "1:R mmap1", // a look at the word, in time: a plain load
                    "1:CAS mmap1 " + rw(served) + "->" +
                        rw(served + FW_RW_HEAD_ONE + FW_RW_READER_ONE) + " old " + rw(served)}));
    EXPECT_EQ(waits, 1u);
    EXPECT_EQ(fw_kernel_stats(k)->lock_waits.mmap_read, 1u);
    mmap_read_unlock(k, 1, mm);
    hal().current_core = 0;
    EXPECT_TRUE(lockFree(pid));
}

// munmap takes mmap_lock for write to remove the VMAs, then downgrades it to read (one add:
// in as a reader, the next ticket served) for the zap and its shootdown, as Linux's
// do_vmi_align_munmap: while the initiator waits for the acknowledgements the word shows one
// reader and no ticket outstanding, so other threads' faults and discards can go on.
TEST_F(SmpTest, MunmapDowngradesToReadForTheZap) {
    bootSmp({4});
    const int pid = threadsOnCores(4);
    const std::uint64_t base = hal_read_phys(lockOf(pid), 8);
    ASSERT_TRUE(rwFree(base));
    std::vector<std::uint64_t> word_at_flush;
    hal().on_event = [&](const HalEvent& e) {
        if (e.kind == HalEvent::Invalidate) word_at_flush.push_back(hal().read(lockOf(pid), 8));
    };
    hal().record_events = true;
    hal().events.clear();
    ASSERT_EQ(fw_vma_unmap(k, 0, pid, kData, kPage), FW_OK);
    hal().record_events = false;
    hal().on_event = nullptr;
    std::vector<std::string> mmap_lines;
    for (const std::string& l : protocolLines())
        if (l.find(" mmap" + std::to_string(pid) + " ") != std::string::npos)
            mmap_lines.push_back(l);
    const std::uint64_t writing = base + FW_RW_NEXT_ONE;
    const std::uint64_t reading = writing + FW_RW_HEAD_ONE + FW_RW_READER_ONE;
    const std::string m = "0:XADD mmap" + std::to_string(pid);
    EXPECT_EQ(join(mmap_lines),
              join({"0:CAS mmap" + std::to_string(pid) + " " + rw(base) + "->" + rw(writing) +
                        " old " + rw(base),
                    m + " head+1 +1 old " + rw(writing), m + " -1 old " + rw(reading)}));
    ASSERT_FALSE(word_at_flush.empty()); // the local invalidation of the page
    for (std::uint64_t w : word_at_flush) {
        EXPECT_EQ(FW_RW_READERS(w), 1u) << rw(w);
        EXPECT_EQ(FW_RW_NEXT(w), FW_RW_HEAD(w)) << rw(w);
    }
    EXPECT_EQ(sd().shootdowns, 1u);
    EXPECT_TRUE(lockFree(pid));
}

// ---- split page-table locks ------------------------------------------------------------------

// One access to a split page-table lock line, at the cycle the core's clock shows after it.
struct PtlEvent {
    unsigned core;
    std::uint64_t cycle;
    unsigned line; // ptl line (FW_SMP_PTL_LOCKS of them)
    enum { Take, Release, Fail } what;
};

// Two threads fault at the same time (equal clocks, the same path), one demand-zero page each.
// Costed HAL calls (read 2, write 3, CAS 5) put the lock's hold (the PTE read, its write, the
// release CAS) at 10 cycles, shorter than the fake's 20-cycle wait step, so that the fake's cores
// stay in time order. The fake passes its baton only at relax steps; here a core that takes a
// page-table lock also passes it right after the CAS, so that the other core's fault reaches its
// own lock while the first still holds its: without that the two faults would run one after the
// other and no lock would ever be contended.
class PtlTest : public SmpTest {
  protected:
    static constexpr std::uint64_t kTwoMiB = std::uint64_t{2} << 20;
    static constexpr std::uint64_t kRead = 2, kWrite = 3, kCas = 5, kWaitStep = 20;

    // Threads on cores 0 and 1; a second VMA 2 MiB above the first (another leaf table), both
    // tables made by core 0's writes, and one fault on core 1 so that its per-core page list
    // and LRU batch are filled as core 0's (both faults below then take the same path).
    int setUpTwoTables() {
        bootSmp({2});
        const int pid = threadsOnCores(2);
        // A leaf table for a third region first: the second table's frame then does not hash
        // to the first's lock line (tables 32 frames apart would share it).
        EXPECT_EQ(map(pid, kData + 2 * kTwoMiB, kPage, kRW), FW_OK);
        EXPECT_EQ(write64(pid, kData + 2 * kTwoMiB, 1), FW_FAULT_CLASS_DEMAND_ZERO);
        EXPECT_EQ(map(pid, kData + kTwoMiB, 4 * kPage, kRW), FW_OK);
        EXPECT_EQ(write64(pid, kData + kTwoMiB, 1), FW_FAULT_CLASS_DEMAND_ZERO);
        hal().current_core = 1;
        EXPECT_EQ(accessBy(pid, tids[pid][1], kData + kPage, AccessType::Write, nullptr, 1),
                  FW_FAULT_CLASS_DEMAND_ZERO);
        hal().current_core = 0;
        return pid;
    }
    // The ptl line of the leaf table that holds va's PTE (a page of that table is mapped).
    unsigned lineOf(int pid, std::uint64_t va) {
        std::uint64_t raw = 0, pte = 0;
        unsigned level = 0;
        EXPECT_EQ(pt_lookup(k, fw_process_root(k, pid), va, &raw, &level, &pte), FW_OK);
        EXPECT_EQ(level, 0u);
        return static_cast<unsigned>((pte >> format.pageShift()) % FW_SMP_PTL_LOCKS);
    }
    // Core 0 faults va0 in, core 1 va1, at once; returns the ptl lines' accesses in order.
    std::vector<PtlEvent> faultTogether(int pid, std::uint64_t va0, std::uint64_t va1) {
        hal().read_cost = kRead;
        hal().write_cost = kWrite;
        hal().cas_cost = kCas;
        hal().core_cycles[1] = hal().core_cycles[0];
        std::vector<PtlEvent> ptl;
        const hal_paddr_t first = spinLock(FW_SMP_LOCK_PTL);
        hal().on_event = [&](const HalEvent& e) {
            if (e.kind != HalEvent::Cas || e.addr < first ||
                e.addr >= first + 64 * FW_SMP_PTL_LOCKS)
                return;
            const unsigned line = static_cast<unsigned>((e.addr - first) / 64);
            const bool took = e.expected == 0 && e.old == 0;
            ptl.push_back({e.by, hal().core_cycles[e.by], line,
                           took                     ? PtlEvent::Take
                           : e.expected == e.by + 1 ? PtlEvent::Release
                                                    : PtlEvent::Fail});
            if (took) fakehal::yieldCore(); // the other core runs while this one holds it
        };
        fw_fault_class c0 = FW_FAULT_CLASS_NONE, c1 = FW_FAULT_CLASS_NONE;
        runCores(
            {{0, [&] { c0 = accessBy(pid, tids[pid][0], va0, AccessType::Write); }},
             {1, [&] { c1 = accessBy(pid, tids[pid][1], va1, AccessType::Write, nullptr, 1); }}});
        hal().on_event = nullptr;
        EXPECT_EQ(c0, FW_FAULT_CLASS_DEMAND_ZERO);
        EXPECT_EQ(c1, FW_FAULT_CLASS_DEMAND_ZERO);
        return ptl;
    }
    static std::string str(const std::vector<PtlEvent>& v) {
        std::ostringstream s;
        for (const PtlEvent& e : v)
            s << e.core << "@" << e.cycle << ":"
              << (e.what == PtlEvent::Take      ? "take"
                  : e.what == PtlEvent::Release ? "release"
                                                : "fail")
              << " ptl" << e.line << "\n";
        return s.str();
    }
};

// PTEs 2 MiB apart live in two leaf tables, whose locks are two lines: each fault holds its own
// from the same cycle to the same cycle, both at once, and nobody waits. (One lock for all
// tables would make core 1 wait; no lock would show no take.)
TEST_F(PtlTest, FaultsOnTwoTablesHoldTheirLocksTogether) {
    const int pid = setUpTwoTables();
    const unsigned a = lineOf(pid, kData), b = lineOf(pid, kData + kTwoMiB);
    ASSERT_NE(a, b) << "the two tables hash to one line: the test would show nothing";
    const std::uint64_t waits = fw_kernel_stats(k)->lock_waits.ptl;
    const std::uint64_t start = hal().core_cycles[0];
    const std::vector<PtlEvent> ptl =
        faultTogether(pid, kData + 2 * kPage, kData + kTwoMiB + kPage);
    ASSERT_EQ(ptl.size(), 4u) << str(ptl);
    // Core 0 takes table A's lock; core 1, run meanwhile, takes table B's; each then releases.
    EXPECT_EQ(ptl[0].core, 0u);
    EXPECT_EQ(ptl[0].line, a);
    EXPECT_EQ(ptl[0].what, PtlEvent::Take);
    EXPECT_EQ(ptl[1].core, 1u);
    EXPECT_EQ(ptl[1].line, b);
    EXPECT_EQ(ptl[1].what, PtlEvent::Take);
    for (unsigned i = 2; i < 4; ++i)
        EXPECT_EQ(ptl[i].what, PtlEvent::Release) << str(ptl);
    const auto release = [&](unsigned core) {
        for (const PtlEvent& e : ptl)
            if (e.core == core && e.what == PtlEvent::Release) return e.cycle;
        ADD_FAILURE() << "core " << core << " never released: " << str(ptl);
        return std::uint64_t{0};
    };
    // To the cycle: both take at the same cycle, both hold for the PTE read, its write and the
    // release CAS (10 cycles), so the two holds are the same interval.
    EXPECT_GT(ptl[0].cycle, start);
    EXPECT_EQ(ptl[1].cycle, ptl[0].cycle) << str(ptl);
    EXPECT_EQ(release(0), ptl[0].cycle + kRead + kWrite + kCas) << str(ptl);
    EXPECT_EQ(release(1), ptl[1].cycle + kRead + kWrite + kCas) << str(ptl);
    EXPECT_EQ(fw_kernel_stats(k)->lock_waits.ptl, waits);
    EXPECT_EQ(hal().core_cycles[1], hal().core_cycles[0]); // neither fault took longer
}

// Two pages of one leaf table: one lock. Core 0 takes it, core 1's attempt fails at the same
// cycle and waits (one ptl wait); core 0 releases 10 cycles later, within core 1's wait step,
// and core 1's next attempt, the next access to the line, takes it: 20 + 5 cycles after its
// failed one. Core 1's fault is longer by exactly that wait (the failed CAS and the step).
TEST_F(PtlTest, FaultsOnOneTableTakeItsLockInTurn) {
    const int pid = setUpTwoTables();
    const unsigned a = lineOf(pid, kData);
    const std::uint64_t waits = fw_kernel_stats(k)->lock_waits.ptl;
    const std::vector<PtlEvent> ptl = faultTogether(pid, kData + 2 * kPage, kData + 3 * kPage);
    ASSERT_EQ(ptl.size(), 5u) << str(ptl);
    for (const PtlEvent& e : ptl)
        EXPECT_EQ(e.line, a) << str(ptl);
    const std::uint64_t take = ptl[0].cycle;
    EXPECT_EQ(ptl[0].core, 0u);
    EXPECT_EQ(ptl[0].what, PtlEvent::Take);
    EXPECT_EQ(ptl[1].core, 1u);
    EXPECT_EQ(ptl[1].what, PtlEvent::Fail);
    EXPECT_EQ(ptl[1].cycle, take) << str(ptl); // at the same cycle: it is held
    EXPECT_EQ(ptl[2].core, 0u);
    EXPECT_EQ(ptl[2].what, PtlEvent::Release);
    EXPECT_EQ(ptl[2].cycle, take + kRead + kWrite + kCas) << str(ptl);
    EXPECT_EQ(ptl[3].core, 1u);
    EXPECT_EQ(ptl[3].what, PtlEvent::Take);
    EXPECT_EQ(ptl[3].cycle, ptl[1].cycle + kWaitStep + kCas) << str(ptl);
    EXPECT_GT(ptl[3].cycle, ptl[2].cycle); // after the release, in time as in order
    EXPECT_EQ(ptl[4].core, 1u);
    EXPECT_EQ(ptl[4].what, PtlEvent::Release);
    EXPECT_EQ(ptl[4].cycle, ptl[3].cycle + kRead + kWrite + kCas) << str(ptl);
    EXPECT_EQ(fw_kernel_stats(k)->lock_waits.ptl, waits + 1);
    EXPECT_EQ(hal().core_cycles[1], hal().core_cycles[0] + kCas + kWaitStep);
}

// Two cores discard pages of the same address space at once: both hold mmap_lock for read, so
// they run side by side (each services the other's IPI while it waits for its acks); the PTEs,
// in one table, change in turn under its lock. The first to finish finds the other's gather
// under way and flushes the whole address space instead of its page (mm_tlb_flush_nested).
TEST_F(SmpTest, ConcurrentDiscardsOfOneAddressSpaceRunSideBySide) {
    bootSmp({2});
    const int pid = threadsOnCores(2);
    write64(pid, kData + kPage, 2);
    int r0 = -1, r1 = -1;
    runCores({{0, [&] { r0 = fw_vma_discard(k, 0, pid, kData, kPage); }},
              {1, [&] { r1 = fw_vma_discard(k, 1, pid, kData + kPage, kPage); }}});
    EXPECT_EQ(r0, FW_OK);
    EXPECT_EQ(r1, FW_OK);
    const struct fw_kernel_stats* ks = fw_kernel_stats(k);
    EXPECT_EQ(ks->lock_waits.mmap_read, 0u);
    EXPECT_EQ(ks->lock_waits.mmap_write, 0u);
    EXPECT_EQ(ks->nested_flushes, 1u);
    EXPECT_GE(sd(1).handled, 1u);
    EXPECT_GE(sd(0).handled, 1u);
    EXPECT_EQ(sd().shootdowns, 2u);
    EXPECT_EQ(sd().full_flushes, 1u);
    EXPECT_EQ(fw_frames_in_use(k), 0u);
    EXPECT_TRUE(lockFree(pid));
}

// All four cores discard and touch pages of one address space at the same time, many times:
// everything completes, every frame comes back.
TEST_F(SmpTest, AllCoresInitiatingAtOnceComplete) {
    bootSmp();
    const int pid = threadsOnCores(4);
    std::vector<CoreJob> jobs;
    for (unsigned c = 0; c < 4; ++c)
        jobs.push_back({c, [this, pid, c] {
                            for (int i = 0; i < 20; ++i) {
                                const std::uint64_t va = kData + ((c + i) % 4) * kPage;
                                accessBy(pid, tids[pid][c], va, AccessType::Write, nullptr, c);
                                EXPECT_EQ(fw_vma_discard(k, c, pid, va, kPage), FW_OK);
                            }
                        }});
    runCores(jobs);
    EXPECT_EQ(fw_frames_in_use(k), 0u);
    EXPECT_GT(sd().shootdowns, 0u);
    EXPECT_EQ(sd().handled, sd().targets);
    EXPECT_EQ(sd().ack_timeouts, 0u);
    EXPECT_TRUE(lockFree(pid));
}

// The first delivery is lost: the initiator notices after ack_timeout_cycles, counts it and
// sends again to that core only.
TEST_F(SmpTest, DroppedIpiIsRecoveredByTheTimeout) {
    bootSmp();
    const int pid = threadsOnCores(4);
    hal().ipi.drop_next = 1; // core 1's delivery of the first send
    const hal_paddr_t frame = frameOf(pid, kData);
    ASSERT_EQ(fw_vma_discard(k, 0, pid, kData, kPage), FW_OK);
    EXPECT_EQ(hal().ipi.dropped, 1u);
    ASSERT_EQ(hal().ipi.sends.size(), 2u);
    EXPECT_EQ(hal().ipi.sends[0].mask, 0xEu);
    EXPECT_EQ(hal().ipi.sends[1].mask, 0x2u);
    EXPECT_EQ(sd(0).ack_timeouts, 1u);
    EXPECT_EQ(sd(0).resends, 1u);
    EXPECT_EQ(sd(0).ipis_sent, 4u);
    EXPECT_EQ(sd().handled, 3u);
    EXPECT_EQ(sd(1).handled, 1u);
    EXPECT_GE(sd(0).wait_cycles, kTimeout);
    EXPECT_LT(sd(0).wait_cycles, kTimeout + 2 * kRelax);
    EXPECT_EQ(frame_refcount(frames, frame), 0u);
}

// A lost IPI is recovered every time, also when every delivery of several sends is lost.
TEST_F(SmpTest, SeveralLostIpisNeverHang) {
    bootSmp();
    const int pid = threadsOnCores(4);
    hal().ipi.drop_next = 5; // the first send (3 targets) and two of the resend's
    ASSERT_EQ(fw_vma_discard(k, 0, pid, kData, kPage), FW_OK);
    EXPECT_EQ(sd().handled, 3u);
    EXPECT_EQ(sd(0).resends, 2u);
    EXPECT_EQ(sd(0).ack_timeouts, 3u + 2u);
}

// Never a hang: a target that never answers, or a wait in which no time passes, stops with a
// message.
TEST_F(SmpTest, ATargetThatNeverAnswersPanics) {
    bootSmp();
    const int pid = threadsOnCores(4);
    hal().ipi.drop_next = ~0u;
    EXPECT_THROW(fw_vma_discard(k, 0, pid, kData, kPage), fakehal::FakeHalPanic);
    EXPECT_EQ(sd(0).resends, 1001u);
}

TEST_F(SmpTest, AWaitWithoutTimePanics) {
    bootSmp();
    const int pid = threadsOnCores(4);
    hal().on_interrupt = nullptr; // nobody answers
    hal().untimed = true;
    EXPECT_THROW(fw_vma_discard(k, 0, pid, kData, kPage), fakehal::FakeHalPanic);
    EXPECT_EQ(sd(0).resends, 0u);
}

// ---- fault injection: each flag removes exactly its step ------------------------------------

std::vector<std::string> without(std::vector<std::string> v, const std::vector<std::string>& gone) {
    for (const std::string& g : gone) {
        const auto it = std::find(v.begin(), v.end(), g);
        EXPECT_NE(it, v.end()) << g;
        if (it != v.end()) v.erase(it);
    }
    return v;
}

TEST_F(SmpTest, SkipLocalFlushRemovesOnlyTheLocalInvalidation) {
    const auto base = discardLines({});
    const unsigned asid0 = fw_process_asid(k, 1, 0);
    const auto injected =
        discardLines(with([](SmpBoot& b) { b.inject = FW_INJECT_SKIP_LOCAL_FLUSH; }));
    EXPECT_EQ(join(injected), join(without(base, {invLine(0, kData, asid0)})));
}

TEST_F(SmpTest, SkipRemoteFlushAcksWithoutFlushing) {
    const auto base = discardLines({});
    std::vector<std::string> gone;
    for (unsigned t = 1; t <= 3; ++t)
        gone.push_back(invLine(t, kData, fw_process_asid(k, 1, t)));
    const auto injected =
        discardLines(with([](SmpBoot& b) { b.inject = FW_INJECT_SKIP_REMOTE_FLUSH; }));
    EXPECT_EQ(join(injected), join(without(base, gone)));
    EXPECT_EQ(sd().handled, 3u); // acked all the same
}

TEST_F(SmpTest, SkipAckWaitFreesBeforeTheAcks) {
    bootSmp(with([](SmpBoot& b) { b.inject = FW_INJECT_SKIP_ACK_WAIT; }));
    const int pid = threadsOnCores(4);
    const hal_paddr_t frame = frameOf(pid, kData);
    hal().record_events = true;
    hal().events.clear();
    ASSERT_EQ(fw_vma_discard(k, 0, pid, kData, kPage), FW_OK);
    hal().record_events = false;
    // Freed and unlocked, nobody has flushed or acked yet: stale translations on cores 1-3.
    EXPECT_EQ(frame_refcount(frames, frame), 0u);
    EXPECT_TRUE(lockFree(pid));
    for (unsigned t = 1; t <= 3; ++t)
        EXPECT_EQ(hal_read_phys(ackOf(0, t), 8), 0u);
    EXPECT_EQ(sd().handled, 0u);
    for (const HalEvent& e : hal().events) {
        EXPECT_NE(e.kind, HalEvent::Relax);
        EXPECT_FALSE(e.kind == HalEvent::Read && e.addr >= smp().acks && inProtocol(e.addr));
    }
    // The IPIs still arrive later.
    hal().current_core = 0;
    hal_relax(1);
    EXPECT_EQ(sd().handled, 3u);
}

// ---- mechanisms and variants -----------------------------------------------------------------

// No IPI controller: exactly the directed path of before (no lock, no IPI, invalidations by
// hal_tlb_invalidate_core, local first).
TEST_F(SmpTest, DirectedWithoutIpiControllerIsAsBefore) {
    const auto lines = discardLines(with([](SmpBoot& b) { b.ipi = false; }));
    std::vector<std::string> want = {"0:W pte", invLine(0, kData, fw_process_asid(k, 1, 0))};
    for (unsigned t = 1; t <= 3; ++t) {
        std::ostringstream s;
        s << "0:INVCORE " << t << " " << HAL_FLUSH_VA_ASID << " " << std::hex << kData;
        want.push_back(s.str());
    }
    ASSERT_EQ(lines.size(), want.size()) << join(lines);
    EXPECT_EQ(lines[0].substr(0, 7), want[0]);
    for (std::size_t i = 1; i < want.size(); ++i)
        EXPECT_EQ(lines[i], want[i]);
    EXPECT_EQ(hal().cas_calls, 0u);
    EXPECT_EQ(hal().relax_calls, 0u);
    EXPECT_EQ(fw_kernel_stats(k)->flush_remote, 3u);
    EXPECT_EQ(sd().shootdowns, 0u);
    EXPECT_EQ(initial_in_use, 0u); // no protocol memory either
}

// DIRECTED with an IPI controller: the lock and the trace, remote invalidations, no IPI.
TEST_F(SmpTest, DirectedMechanismTakesTheLockButSendsNoIpi) {
    const auto lines = discardLines(with([](SmpBoot& b) { b.mechanism = FW_SHOOTDOWN_DIRECTED; }));
    // mmap_lock for read around it all: one reader in, then out again.
    EXPECT_EQ(lines.front(), "0:XADD mmap1 +1 old (1,1,0)");
    EXPECT_EQ(lines.back(), "0:XADD mmap1 -1 old (1,1,1)");
    EXPECT_TRUE(hal().ipi.sends.empty());
    EXPECT_EQ(fw_kernel_stats(k)->flush_remote, 3u);
    EXPECT_EQ(sd().shootdowns, 1u);
    EXPECT_EQ(sd().ipis_sent, 0u);
    EXPECT_EQ(hal().traces.size(), 2u);
}

TEST_F(SmpTest, ConcurrentFlushSendsBeforeTheLocalInvalidation) {
    const auto lines = discardLines(with([](SmpBoot& b) { b.concurrent_flush = true; }));
    const auto local =
        std::find(lines.begin(), lines.end(), invLine(0, kData, fw_process_asid(k, 1, 0)));
    const auto send = std::find(lines.begin(), lines.end(), "0:W SEND(0)=0");
    ASSERT_NE(local, lines.end());
    ASSERT_NE(send, lines.end());
    EXPECT_EQ(local, send + 1);
    // The same steps as without it, only moved.
    auto sorted = lines, base = discardLines({});
    std::sort(sorted.begin(), sorted.end());
    std::sort(base.begin(), base.end());
    EXPECT_EQ(sorted, base);
}

TEST_F(SmpTest, EarlyAckAcksBeforeTheTargetFlushes) {
    const auto lines = discardLines(with([](SmpBoot& b) { b.early_ack = true; }));
    for (unsigned t = 1; t <= 3; ++t) {
        const auto ack = std::find(lines.begin(), lines.end(),
                                   std::to_string(t) + ":W ack0," + std::to_string(t) + "=1");
        const auto inv =
            std::find(lines.begin(), lines.end(), invLine(t, kData, fw_process_asid(k, 1, t)));
        ASSERT_NE(ack, lines.end());
        ASSERT_NE(inv, lines.end());
        EXPECT_EQ(inv, ack + 1) << t;
    }
}

TEST_F(SmpTest, UnbatchedIsOneShootdownPerPage) {
    for (bool unbatched : {false, true}) {
        bootSmp(with([&](SmpBoot& b) { b.unbatched = unbatched; }));
        const int pid = threadsOnCores(4);
        for (unsigned i = 1; i < 3; ++i)
            write64(pid, kData + i * kPage, i);
        ASSERT_EQ(fw_vma_discard(k, 0, pid, kData, 3 * kPage), FW_OK);
        EXPECT_EQ(sd().shootdowns, unbatched ? 3u : 1u);
        EXPECT_EQ(hal().ipi.sends.size(), unbatched ? 3u : 1u);
        EXPECT_EQ(sd().pages, 3u);
        EXPECT_EQ(sd().handled, unbatched ? 9u : 3u);
        EXPECT_EQ(fw_frames_in_use(k), 0u);
    }
}

// Above the ceiling (or a whole-mm flush such as fork's write-protect) one ASID flush per core.
TEST_F(SmpTest, ForkWriteProtectIsAFullShootdown) {
    bootSmp();
    const int pid = threadsOnCores(4);
    hal().invalidations.clear();
    fork(pid, 0, 0);
    EXPECT_EQ(sd().shootdowns, 1u);
    EXPECT_EQ(sd().full_flushes, 1u);
    EXPECT_EQ(sd().pages, 0u);
    unsigned asid_flushes = 0;
    for (const auto& i : hal().invalidations)
        asid_flushes += i.kind == HAL_FLUSH_ASID;
    EXPECT_EQ(asid_flushes, 4u); // the initiator and three targets (the child's ASID: none yet)
}

// A COW copy by one thread moves the page under the others: they are shot down.
TEST_F(SmpTest, CowBreakShootsDownTheOtherThreads) {
    bootSmp();
    const int pid = threadsOnCores(4);
    const int child = fork(pid, 0, 0);
    (void)child;
    const std::uint64_t before = sd().shootdowns;
    hal().current_core = 2;
    EXPECT_EQ(accessBy(pid, tids[pid][2], kData, AccessType::Write, nullptr, 2),
              FW_FAULT_CLASS_COW);
    EXPECT_EQ(sd().shootdowns, before + 1);
    EXPECT_EQ(sd(2).shootdowns, 1u);
    EXPECT_EQ(hal().ipi.sends.back().from, 2u);
    EXPECT_EQ(hal().ipi.sends.back().mask, 0xBu);
    // A demand-zero fault adds a translation only: mmap_lock for read (a fetch-and-add in, one
    // out) and the table's lock (two CAS), no shootdown.
    hal().record_events = true;
    hal().events.clear();
    EXPECT_EQ(accessBy(pid, tids[pid][2], kData + 2 * kPage, AccessType::Write, nullptr, 2),
              FW_FAULT_CLASS_DEMAND_ZERO);
    hal().record_events = false;
    EXPECT_EQ(sd().shootdowns, before + 1);
    unsigned mmap_cas = 0, ptl_cas = 0;
    for (const std::string& l : protocolLines()) {
        mmap_cas += l.rfind("2:XADD mmap", 0) == 0;
        ptl_cas += l.rfind("2:CAS ptl", 0) == 0;
    }
    EXPECT_EQ(mmap_cas, 2u);
    EXPECT_EQ(ptl_cas, 2u);
    hal().current_core = 0;
}

// lazy_tlb: a core that runs another address space now is not interrupted; it flushes the ASID
// when it switches back.
// ---- mechanism broadcast (issue 9) ----------------------------------------------------------

std::string bcastLine(int kind, std::uint64_t va, unsigned asid) {
    std::ostringstream s;
    s << "0:BCAST " << kind << " " << std::hex << va << std::dec << " asid " << asid;
    return s.str();
}

// One broadcast (it reaches core 0's Mmu too: no local invalidation), one sync, no IPI and no
// target firmware; the frame is freed after the sync, before the lock is released.
TEST_F(SmpTest, BroadcastDiscardIsOneBroadcastThenTheSync) {
    bootSmp(with([](SmpBoot& b) { b.mechanism = FW_SHOOTDOWN_BROADCAST; }));
    const int pid = threadsOnCores(4);
    const std::uint16_t asid = fw_process_asid(k, pid, 0);
    for (unsigned c = 1; c < 4; ++c)
        EXPECT_EQ(fw_process_asid(k, pid, c), asid) << c; // one global ASID
    const hal_paddr_t frame = frameOf(pid, kData);
    std::vector<std::uint32_t> refcount_at_sync;
    hal().on_event = [&](const HalEvent& e) {
        if (e.kind == HalEvent::TlbSync) refcount_at_sync.push_back(frame_refcount(frames, frame));
    };
    const auto [read_lock, read_unlock] = readLockLines(0, pid);
    std::uint64_t pte = 0, raw = 0;
    unsigned level = 0;
    ASSERT_EQ(pt_lookup(k, fw_process_root(k, pid), kData, &raw, &level, &pte), FW_OK);
    const std::vector<std::string> ptl = spinLines(0, ptlOf(pte)), lru = spinLines(0, "lru");
    hal().record_events = true;
    hal().events.clear();
    ASSERT_EQ(fw_vma_discard(k, 0, pid, kData, kPage), FW_OK);
    hal().record_events = false;
    hal().on_event = nullptr;
    const auto lines = protocolLines();
    ASSERT_EQ(lines.size(), 11u) << join(lines);
    EXPECT_EQ(lines[0], read_lock);
    EXPECT_EQ(lines[1], ptl[0]);
    EXPECT_EQ(lines[2].substr(0, 7), "0:W pte");
    const std::vector<std::string> rest(lines.begin() + 3, lines.end());
    EXPECT_EQ(rest, (std::vector<std::string>{
                        ptl[1], "0:TRACE 0 1", bcastLine(HAL_FLUSH_VA_ASID, kData, asid),
                        "0:TLBSYNC", "0:TRACE 1 3", lru[0], lru[1], read_unlock}));
    EXPECT_EQ(refcount_at_sync, (std::vector<std::uint32_t>{1}));
    EXPECT_EQ(frame_refcount(frames, frame), 0u);
    EXPECT_TRUE(hal().ipi.sends.empty());
    EXPECT_EQ(sd().shootdowns, 1u);
    EXPECT_EQ(sd().pages, 1u);
    EXPECT_EQ(sd().targets, 3u);
    EXPECT_EQ(sd().broadcasts, 1u);
    EXPECT_EQ(sd(0).broadcasts, 1u);
    EXPECT_EQ(sd().ipis_sent, 0u);
    EXPECT_EQ(sd().handled, 0u);
    EXPECT_EQ(fw_kernel_stats(k)->flush_remote, 0u);
    EXPECT_EQ(fw_kernel_stats(k)->flush_pages, 1u);
}

// A range is one broadcast per page and one sync (batch: false: a shootdown, so a sync, per
// page); a whole-mm flush (fork) is one ASID broadcast.
TEST_F(SmpTest, BroadcastRangeUnbatchedAndFullFlushes) {
    for (bool unbatched : {false, true}) {
        bootSmp(with([unbatched](SmpBoot& b) {
            b.mechanism = FW_SHOOTDOWN_BROADCAST;
            b.unbatched = unbatched;
        }));
        const int pid = threadsOnCores(4);
        for (unsigned p = 1; p < 3; ++p)
            EXPECT_EQ(write64(pid, kData + p * kPage, p), FW_FAULT_CLASS_DEMAND_ZERO);
        const std::uint16_t asid = fw_process_asid(k, pid, 0);
        hal().broadcasts.clear();
        hal().invalidations.clear();
        ASSERT_EQ(fw_vma_discard(k, 0, pid, kData, 3 * kPage), FW_OK);
        ASSERT_EQ(hal().broadcasts.size(), 3u);
        for (unsigned p = 0; p < 3; ++p) {
            EXPECT_EQ(hal().broadcasts[p].first, 0u);
            EXPECT_EQ(hal().broadcasts[p].second.kind, HAL_FLUSH_VA_ASID);
            EXPECT_EQ(hal().broadcasts[p].second.va, kData + p * kPage);
            EXPECT_EQ(hal().broadcasts[p].second.asid, asid);
        }
        EXPECT_EQ(hal().tlb_syncs, unbatched ? 3u : 1u);
        EXPECT_EQ(sd().shootdowns, unbatched ? 3u : 1u);
        EXPECT_EQ(sd().pages, 3u);
        EXPECT_TRUE(hal().invalidations.empty()); // the broadcasts reach core 0 too
    }
    // Fork write-protects the parent: one ASID broadcast.
    bootSmp(with([](SmpBoot& b) { b.mechanism = FW_SHOOTDOWN_BROADCAST; }));
    const int pid = threadsOnCores(4);
    hal().broadcasts.clear();
    int child = 0, child_tid = 0;
    ASSERT_EQ(fw_process_fork(k, 0, pid, 0, &child, &child_tid), FW_OK);
    ASSERT_EQ(hal().broadcasts.size(), 1u);
    EXPECT_EQ(hal().broadcasts[0].second.kind, HAL_FLUSH_ASID);
    EXPECT_EQ(hal().broadcasts[0].second.asid, fw_process_asid(k, pid, 0));
    EXPECT_EQ(sd().full_flushes, 1u);
    EXPECT_EQ(hal().tlb_syncs, 1u);
}

// Global ASIDs (asid_bits 2: ASIDs 1..3, two cores): one ASID per mm on every core; when the
// space is exhausted the least recently used mm not installed on another core loses its ASID
// on every core, flushed by ONE broadcast (then a sync), no local invalidation.
TEST_F(SmpTest, BroadcastAllocatesGlobalAsidsAndRecyclesTheLeastRecentlyUsed) {
    bootSmp(with([](SmpBoot& b) {
        b.mechanism = FW_SHOOTDOWN_BROADCAST;
        b.asid_bits = 2;
        b.cores = 2;
    }));
    int p[5] = {};
    for (int i = 1; i <= 4; ++i) {
        p[i] = create(0);
        thread(p[i], 1);
    }
    const auto on = [&](int i, unsigned core) {
        hal().current_core = core;
        EXPECT_EQ(fw_switch_to(k, core, tids[p[i]][core]), FW_OK);
        hal().current_core = 0;
    };
    hal().invalidations.clear();
    on(1, 0);
    on(2, 1);
    on(1, 1); // the same ASID on core 1
    on(3, 0);
    EXPECT_EQ(fw_process_asid(k, p[1], 0), 1u);
    EXPECT_EQ(fw_process_asid(k, p[1], 1), 1u);
    EXPECT_EQ(fw_process_asid(k, p[2], 1), 2u);
    EXPECT_EQ(fw_process_asid(k, p[3], 0), 3u);
    EXPECT_EQ(fw_process_asid(k, p[3], 1), 0u); // not run there yet
    EXPECT_TRUE(hal().broadcasts.empty());      // never used since boot: no flush
    EXPECT_TRUE(hal().invalidations.empty());
    EXPECT_EQ(hal().tlb_syncs, 0u);
    // Exhausted. p1 is installed on core 1 (it cannot lose its ASID), p3 on core 0 (this core,
    // switching away); p2 (last run at the second switch) is the least recently used.
    on(4, 0);
    EXPECT_EQ(fw_process_asid(k, p[4], 0), 2u);
    EXPECT_EQ(fw_process_asid(k, p[2], 0), 0u);
    EXPECT_EQ(fw_process_asid(k, p[2], 1), 0u);
    EXPECT_EQ(fw_process_cpu_mask(k, p[2]), 0u);
    ASSERT_EQ(hal().broadcasts.size(), 1u);
    EXPECT_EQ(hal().broadcasts[0].first, 0u);
    EXPECT_EQ(hal().broadcasts[0].second.kind, HAL_FLUSH_ASID);
    EXPECT_EQ(hal().broadcasts[0].second.asid, 2u);
    EXPECT_EQ(hal().tlb_syncs, 1u);
    EXPECT_TRUE(hal().invalidations.empty());
    EXPECT_EQ(sd().broadcasts, 1u);
    EXPECT_EQ(fw_process_stats(k, p[4])->tlb_flushes, 1u);
    // p2 back on core 1, switching away from p1: p4 is installed on core 0, p1 (last run at
    // the third switch) is older than p3 (the fourth) and only installed here: p1 loses ASID 1.
    on(2, 1);
    EXPECT_EQ(fw_process_asid(k, p[2], 1), 1u);
    EXPECT_EQ(fw_process_asid(k, p[1], 0), 0u);
    EXPECT_EQ(fw_process_asid(k, p[1], 1), 0u);
    EXPECT_EQ(fw_process_cpu_mask(k, p[1]), 0u);
    EXPECT_EQ(fw_process_asid(k, p[3], 0), 3u);
    EXPECT_EQ(fw_process_asid(k, p[4], 0), 2u);
    ASSERT_EQ(hal().broadcasts.size(), 2u);
    EXPECT_EQ(hal().broadcasts[1].first, 1u);
    EXPECT_EQ(hal().broadcasts[1].second.asid, 1u);
    EXPECT_EQ(hal().tlb_syncs, 2u);
    // No two live mms hold the same ASID.
    std::set<std::uint16_t> held;
    unsigned holders = 0;
    for (int i = 1; i <= 4; ++i)
        if (const std::uint16_t a = fw_process_asid(k, p[i], 0) | fw_process_asid(k, p[i], 1)) {
            held.insert(a);
            ++holders;
        }
    EXPECT_EQ(held.size(), holders);
}

// The same two first switches (core 1, then core 0): per-core ASIDs count per core (both get
// 1), global ones count once (1, then 2).
TEST_F(SmpTest, OnlyBroadcastAllocatesAsidsGlobally) {
    for (auto [mechanism, second] :
         {std::pair{FW_SHOOTDOWN_IPI, 1u}, std::pair{FW_SHOOTDOWN_DIRECTED, 1u},
          std::pair{FW_SHOOTDOWN_BROADCAST, 2u}}) {
        bootSmp(with([m = mechanism](SmpBoot& b) { b.mechanism = m; }));
        const int a = create(0), c = create(1);
        hal().current_core = 1;
        ASSERT_EQ(switchTo(c, 1), FW_OK);
        hal().current_core = 0;
        ASSERT_EQ(switchTo(a, 0), FW_OK);
        EXPECT_EQ(fw_process_asid(k, c, 1), 1u) << mechanism;
        EXPECT_EQ(fw_process_asid(k, a, 0), second) << mechanism;
    }
}

TEST_F(SmpTest, LazyTlbSkipsCoresRunningOtherAddressSpaces) {
    bootSmp(with([](SmpBoot& b) { b.lazy_tlb = true; }));
    const int pid = threadsOnCores(4);
    const int other = create(2);
    hal().current_core = 2;
    ASSERT_EQ(switchTo(other, 2), FW_OK);
    hal().current_core = 0;
    ASSERT_EQ(fw_vma_discard(k, 0, pid, kData, kPage), FW_OK);
    ASSERT_EQ(hal().ipi.sends.size(), 1u);
    EXPECT_EQ(hal().ipi.sends[0].mask, 0xAu);
    EXPECT_EQ(sd().lazy_skips, 1u);
    EXPECT_EQ(sd(2).handled, 0u);
    // Back on core 2: its ASID of pid is flushed before it runs.
    hal().current_core = 2;
    hal().invalidations.clear();
    ASSERT_EQ(fw_switch_to(k, 2, tids[pid][2]), FW_OK);
    ASSERT_EQ(hal().invalidations.size(), 1u);
    EXPECT_EQ(hal().invalidations[0].kind, HAL_FLUSH_ASID);
    EXPECT_EQ(hal().invalidations[0].asid, fw_process_asid(k, pid, 2));
    EXPECT_EQ(sd(2).lazy_flushes, 1u);
    // Only once.
    hal().invalidations.clear();
    ASSERT_EQ(fw_switch_to(k, 2, tids[pid][2]), FW_OK);
    EXPECT_TRUE(hal().invalidations.empty());
    hal().current_core = 0;
}

// lazy_tlb decides from the other cores' active_mm, host state that a core running ahead in its
// quantum would show too early: the initiator syncs before it reads it, a switch before it
// writes it (the platform's ShootdownVariants.LazyTlbDoesNotDependOnTheQuantum shows the effect).
TEST_F(SmpTest, LazyTlbSyncsBeforeItReadsOrWritesActiveMm) {
    bootSmp(with([](SmpBoot& b) { b.lazy_tlb = true; }));
    const int pid = threadsOnCores(4);
    const int other = create(2);
    hal().current_core = 2;
    std::uint64_t syncs = hal().sync_calls;
    ASSERT_EQ(switchTo(other, 2), FW_OK);
    EXPECT_EQ(hal().sync_calls, syncs + 1);
    hal().current_core = 0;
    syncs = hal().sync_calls;
    // One sync before the targets are chosen, one before the IPI (send_ipi), one per ack.
    ASSERT_EQ(fw_vma_discard(k, 0, pid, kData, kPage), FW_OK);
    EXPECT_EQ(sd(1).handled + sd(3).handled, 2u);
    EXPECT_EQ(hal().sync_calls, syncs + 1 + 1 + 2);
}

TEST_F(SmpTest, WithoutLazyTlbEveryAsidHolderIsInterrupted) {
    bootSmp();
    const int pid = threadsOnCores(4);
    const int other = create(2);
    hal().current_core = 2;
    ASSERT_EQ(switchTo(other, 2), FW_OK);
    hal().current_core = 0;
    ASSERT_EQ(fw_vma_discard(k, 0, pid, kData, kPage), FW_OK);
    EXPECT_EQ(hal().ipi.sends[0].mask, 0xEu);
    EXPECT_EQ(sd().lazy_skips, 0u);
}

// Without ASIDs: the cores where the mm is installed, flushed by VA (no ASID).
TEST_F(SmpTest, WithoutAsidsTheInstalledCoresAreShotDownByVa) {
    bootSmp(with([](SmpBoot& b) { b.asid_bits = 0; }));
    const int pid = threadsOnCores(4);
    const int other = create(3);
    hal().current_core = 3;
    ASSERT_EQ(switchTo(other, 3), FW_OK); // core 3 leaves pid: it caches nothing of it now
    hal().current_core = 0;
    EXPECT_EQ(fw_process_cpu_mask(k, pid), 0x7u);
    hal().invalidations.clear();
    ASSERT_EQ(fw_vma_discard(k, 0, pid, kData, kPage), FW_OK);
    ASSERT_EQ(hal().ipi.sends.size(), 1u);
    EXPECT_EQ(hal().ipi.sends[0].mask, 0x6u);
    ASSERT_EQ(hal().invalidations.size(), 3u); // the initiator and cores 1, 2
    for (const auto& i : hal().invalidations) {
        EXPECT_EQ(i.kind, HAL_FLUSH_VA);
        EXPECT_EQ(i.va, kData);
    }
}

// A huge leaf split by a discard of one base page: the split and the discard both shoot down.
TEST_F(SmpTest, HugePageSplitShootsDown) {
    bootSmp(with([](SmpBoot& b) { b.frames = 2048; })); // room for an aligned 2 MiB block
    const int pid = create(0);
    for (unsigned c = 1; c < 4; ++c)
        thread(pid, c);
    const std::uint64_t huge = levelBytes(1);
    ASSERT_EQ(map(pid, huge, huge, kRW, FW_VMA_ANON, -1, 1), FW_OK);
    for (unsigned c = 0; c < 4; ++c) {
        hal().current_core = c;
        ASSERT_EQ(fw_switch_to(k, c, tids[pid][c]), FW_OK);
    }
    hal().current_core = 0;
    ASSERT_EQ(write64(pid, huge, 7), FW_FAULT_CLASS_DEMAND_ZERO);
    ASSERT_EQ(leafLevel(pid, huge), 1);
    ASSERT_EQ(fw_vma_discard(k, 0, pid, huge + kPage, kPage), FW_OK);
    EXPECT_EQ(leafLevel(pid, huge), 0);
    EXPECT_EQ(sd().shootdowns, 2u); // the split (the huge entry), then the page
    EXPECT_EQ(sd().handled, 6u);
    EXPECT_EQ(read64(pid, huge), 7u);
}

// mprotect removing write: the other threads lose their writable entries before it returns.
TEST_F(SmpTest, ProtectRemovingRightsShootsDown) {
    bootSmp();
    const int pid = threadsOnCores(4);
    ASSERT_EQ(fw_vma_protect(k, 0, pid, kData, 4 * kPage, FW_PROT_R), FW_OK);
    EXPECT_EQ(sd().shootdowns, 1u);
    EXPECT_EQ(sd().handled, 3u);
    EXPECT_EQ(hal().ipi.sends.back().mask, 0xEu);
}

// ---- the handler and threads -----------------------------------------------------------------

TEST_F(SmpTest, InterruptWithNothingPendingChargesEntryAndExit) {
    bootSmp();
    hal().current_core = 3;
    const std::uint64_t t0 = hal().core_cycles[3];
    EXPECT_EQ(fw_interrupt(k, 3), 0);
    EXPECT_EQ(hal().core_cycles[3] - t0, kIrqEntry + kIrqExit);
    EXPECT_EQ(sd(3).interrupts, 1u);
    EXPECT_EQ(fw_interrupt(k, 4), FW_ERR_INVAL);
    hal().current_core = 0;
}

TEST_F(SmpTest, ProtocolMemoryIsKernelFramesAllocatedAtInit) {
    bootSmp();
    EXPECT_NE(smp().area, 0u);
    EXPECT_GE(smp().area_bytes, 64u * (FW_MAX_PROCESSES + 1 + 4 + 4 + 16));
    EXPECT_GT(frame_refcount(frames, smp().area), 0u);
    EXPECT_EQ(initial_in_use, smp().area_bytes / kPage);
    // One core: no protocol, nothing allocated.
    bootSmp(with([](SmpBoot& b) { b.cores = 1; }));
    EXPECT_FALSE(smp().on);
    EXPECT_EQ(initial_in_use, 0u);
}

// One thread exits: the others keep running, faulting and being shot down; the last exit
// releases the address space.
TEST_F(SmpTest, ThreadExitLeavesTheOthersRunning) {
    bootSmp();
    const int pid = threadsOnCores(4);
    EXPECT_EQ(fw_process_cpu_mask(k, pid), 0xFu);
    for (unsigned c = 0; c < 4; ++c)
        EXPECT_NE(fw_process_asid(k, pid, c), 0u) << c;
    hal().current_core = 1;
    ASSERT_EQ(fw_task_exit(k, 1, tids[pid][1]), FW_OK);
    EXPECT_EQ(fw_process_tasks(k, pid), 3u);
    EXPECT_NE(fw_process_root(k, pid), 0u);
    hal().current_core = 3;
    EXPECT_EQ(accessBy(pid, tids[pid][3], kData + kPage, AccessType::Write, nullptr, 3),
              FW_FAULT_CLASS_DEMAND_ZERO);
    EXPECT_EQ(fw_vma_discard(k, 3, pid, kData, 2 * kPage), FW_OK);
    EXPECT_EQ(sd(3).shootdowns, 1u);
    EXPECT_EQ(fw_frames_in_use(k), 0u);
    for (unsigned c : {0u, 2u, 3u}) {
        hal().current_core = c;
        ASSERT_EQ(fw_task_exit(k, c, tids[pid][c]), FW_OK);
    }
    EXPECT_EQ(fw_process_tasks(k, pid), 0u);
    EXPECT_EQ(fw_process_root(k, pid), 0u);
    EXPECT_EQ(fw_tables_in_use(k), 0u);
    EXPECT_TRUE(lockFree(pid));
    hal().current_core = 0;
}

// Group exit: a process killed on core 0 while three more of its threads run on cores 1-3 (and
// a fifth waits on core 1, run by no core). The killer and the waiting thread end at once, the
// running ones get one reschedule IPI and end at their next boundary; the memory goes only with
// the last of them, by the core that ends it.
TEST_F(SmpTest, KillingAThreadedProcessStopsEveryThreadBeforeItsMemoryGoes) {
    bootSmp();
    const int pid = threadsOnCores(4);
    const int waiting = thread(pid, 1); // created after the switches: core 1 runs tids[pid][1]
    const std::vector<int> t = tids[pid];
    hal().ipi.sends.clear();
    fw_fault_result r{};
    ASSERT_EQ(fw_fault(k, 0, t[0], 0x7000, FW_ACCESS_READ, FW_FAULT_NOT_PRESENT, &r), FW_OK);
    EXPECT_EQ(r.cls, FW_FAULT_CLASS_PROTECTION);
    EXPECT_EQ(r.reason, FW_KILL_NO_VMA);
    EXPECT_EQ(r.group_exit, 0);
    EXPECT_EQ(fw_task_pid(k, t[0]), FW_ERR_INVAL);
    EXPECT_EQ(fw_task_pid(k, waiting), FW_ERR_INVAL);
    for (unsigned c = 1; c < 4; ++c) {
        EXPECT_EQ(fw_task_pid(k, t[c]), pid) << c;
        EXPECT_EQ(fw_task_killed(k, t[c]), FW_KILL_NO_VMA) << c;
    }
    EXPECT_EQ(fw_task_killed(k, t[0]), FW_KILL_NONE);
    EXPECT_EQ(fw_process_tasks(k, pid), 3u);
    EXPECT_EQ(fw_process_killed(k, pid), FW_KILL_NO_VMA);
    // Nothing torn down while they run: no shootdown, the frame and the tables still there.
    EXPECT_EQ(sd().shootdowns, 0u);
    EXPECT_EQ(fw_frames_in_use(k), 1u);
    EXPECT_NE(fw_process_root(k, pid), 0u);
    ASSERT_EQ(hal().ipi.sends.size(), 1u);
    EXPECT_EQ(hal().ipi.sends[0].from, 0u);
    EXPECT_EQ(hal().ipi.sends[0].mask, 0xEu);
    EXPECT_EQ(hal().ipi.sends[0].vector, static_cast<std::uint64_t>(IPI_VECTOR_RESCHEDULE));
    EXPECT_EQ(fw_kernel_stats(k)->kills, 1u);
    EXPECT_EQ(fw_kernel_stats(k)->kill_ipis, 3u);
    // A dying process forks no more.
    int child_pid = 0, child_tid = 0;
    hal().current_core = 1;
    EXPECT_EQ(fw_process_fork(k, 1, pid, 1, &child_pid, &child_tid), FW_ERR_INVAL);
    // A fault of a running thread ends it with the process (not counted, not a second kill).
    ASSERT_EQ(fw_fault(k, 1, t[1], kData, FW_ACCESS_READ, FW_FAULT_NOT_PRESENT, &r), FW_OK);
    EXPECT_EQ(r.cls, FW_FAULT_CLASS_PROTECTION);
    EXPECT_EQ(r.reason, FW_KILL_NO_VMA);
    EXPECT_EQ(r.group_exit, 1);
    EXPECT_EQ(fw_task_pid(k, t[1]), FW_ERR_INVAL);
    hal().current_core = 2;
    ASSERT_EQ(fw_task_exit(k, 2, t[2]), FW_OK);
    EXPECT_EQ(fw_frames_in_use(k), 1u);
    // The last one releases it, on its core, with no shootdown (nobody runs it any more).
    hal().current_core = 3;
    ASSERT_EQ(fw_task_exit(k, 3, t[3]), FW_OK);
    hal().current_core = 0;
    EXPECT_EQ(fw_process_tasks(k, pid), 0u);
    EXPECT_EQ(fw_process_root(k, pid), 0u);
    EXPECT_EQ(fw_frames_in_use(k), 0u);
    EXPECT_EQ(fw_tables_in_use(k), 0u);
    EXPECT_EQ(sd().shootdowns, 0u);
    EXPECT_TRUE(lockFree(pid));
    const struct fw_process_stats* st = fw_process_stats(k, pid);
    ASSERT_NE(st, nullptr);
    EXPECT_EQ(st->faults[FW_FAULT_CLASS_PROTECTION], 1u);
    EXPECT_EQ(fw_process_killed(k, pid), FW_KILL_NO_VMA);
    EXPECT_EQ(fw_kernel_stats(k)->kills, 1u);
}

// Reclaim under lock contention: the one frame is a's, whose lock core 2 holds (as a fault of
// a's would). b's fault used to find nothing to evict and kill b for lack of memory; it lets go
// of its own lock, waits for an unlock (core 2 lets go at b's first wait) and starts again, as
// Linux's VM_FAULT_RETRY: a's page goes to swap, b's fault maps its page.
TEST_F(SmpTest, AFaultWhoseOnlyVictimIsLockedRetriesInsteadOfKilling) {
    bootSmp(with([](SmpBoot& b) {
        b.swap = true;
        b.limit = 1;
    }));
    const int a = create(0), b = create(1);
    ASSERT_EQ(map(a, kData, kPage, kRW), FW_OK);
    ASSERT_EQ(map(b, kData, kPage, kRW), FW_OK);
    EXPECT_EQ(write64(a, kData, 7), FW_FAULT_CLASS_DEMAND_ZERO);
    // Core 2 holds a's mmap_lock for write: its ticket is the one served.
    const std::uint64_t free_word = hal_read_phys(lockOf(a), 8);
    hal_write_phys(lockOf(a), free_word + FW_RW_NEXT_ONE, 8);
    unsigned waits = 0;
    hal().on_relax = [&](unsigned core) {
        EXPECT_EQ(core, 1u);
        if (++waits == 1) hal_write_phys(lockOf(a), free_word + FW_RW_NEXT_ONE + FW_RW_HEAD_ONE, 8);
    };
    hal().current_core = 1;
    fw_fault_result r{};
    ASSERT_EQ(fw_fault(k, 1, tids[b][0], kData, FW_ACCESS_WRITE, FW_FAULT_NOT_PRESENT, &r), FW_OK);
    hal().on_relax = nullptr;
    hal().current_core = 0;
    EXPECT_EQ(r.cls, FW_FAULT_CLASS_DEMAND_ZERO);
    EXPECT_EQ(waits, 1u);
    EXPECT_EQ(fw_kernel_stats(k)->fault_retries, 1u);
    EXPECT_EQ(fw_kernel_stats(k)->reclaim_waits, 0u);
    EXPECT_EQ(fw_kernel_stats(k)->swap_outs, 1u);
    EXPECT_EQ(fw_kernel_stats(k)->kills, 0u);
    EXPECT_EQ(fw_process_killed(k, b), FW_KILL_NONE);
    EXPECT_EQ(fw_frames_in_use(k), 1u);
    EXPECT_TRUE(lockFree(b));
    // a's page comes back from swap with what a wrote (b's goes out for it).
    EXPECT_EQ(read64(a, kData), 7u);
}

// ---- a stress test with a TLB checker -------------------------------------------------------

// A TLB per core over the fake: filled by the walks of the cores' accesses, emptied only by the
// invalidations the firmware issues (local or directed). A hit whose frame has been freed, or
// handed to another page, is a stale translation used: a violation (what models/checker
// reports in the simulator).
struct TlbChecker {
    struct Key {
        unsigned core;
        std::uint16_t asid;
        std::uint64_t vpn;
        bool operator<(const Key& o) const {
            return std::tie(core, asid, vpn) < std::tie(o.core, o.asid, o.vpn);
        }
    };
    struct Entry {
        hal_paddr_t frame;
        bool writable;
    };
    std::map<Key, Entry> tlb;
    std::uint64_t hits = 0, violations = 0;

    void onEvent(const HalEvent& e) {
        if (e.kind == HalEvent::Invalidate)
            drop(e.by, e.flush, e.addr, static_cast<std::uint16_t>(e.value));
        if (e.kind == HalEvent::InvalidateCore)
            drop(e.core, e.flush, e.addr, static_cast<std::uint16_t>(e.value));
        if (e.kind == HalEvent::InvalidateBroadcast)
            drop(kEveryCore, e.flush, e.addr, static_cast<std::uint16_t>(e.value));
    }
    static constexpr unsigned kEveryCore = ~0u;
    void drop(unsigned core, int kind, std::uint64_t va, std::uint16_t asid) {
        for (auto it = tlb.begin(); it != tlb.end();) {
            const Key& key = it->first;
            const bool va_match = key.vpn == va / kPage, asid_match = key.asid == asid;
            const bool gone = (core == kEveryCore || key.core == core) &&
                              (kind == HAL_FLUSH_ALL || (kind == HAL_FLUSH_ASID && asid_match) ||
                               (kind == HAL_FLUSH_VA && va_match) ||
                               (kind == HAL_FLUSH_VA_ASID && va_match && asid_match));
            it = gone ? tlb.erase(it) : std::next(it);
        }
    }
};

class SmpStressTest : public SmpTest {
  protected:
    TlbChecker checker;

    // One access by task tid of pid on core c, through c's TLB.
    void touch(int pid, int tid, unsigned c, std::uint64_t va, bool write) {
        const TlbChecker::Key key{c, fw_process_asid(k, pid, c), va / kPage};
        const auto it = checker.tlb.find(key);
        if (it != checker.tlb.end() && (!write || it->second.writable)) {
            ++checker.hits;
            const hal_paddr_t frame = it->second.frame;
            const fw_frame_rmap& r = rmap[(frame - kFramesBase) / kPage];
            if (frame_refcount(frames, frame) == 0 ||
                ((r.flags & 1u) && r.pid > 0 && (r.pid != pid || r.va / kPage != va / kPage)))
                ++checker.violations;
            return;
        }
        hal_paddr_t pa = 0;
        const fw_fault_class cls =
            accessBy(pid, tid, va, write ? AccessType::Write : AccessType::Read, &pa, c);
        ASSERT_NE(cls, FW_FAULT_CLASS_PROTECTION)
            << std::hex << va << " " << fw_kill_reason_str(kill_reason);
        checker.tlb[key] = {pa & ~(kPage - 1), write};
    }

    // Four threads of one process on four cores do random accesses, discards, protects and
    // forks at once; the data zone is kData + [0, 8) pages, the protect zone [8, 12) (read only
    // by the accesses, its rights toggled RW -> R -> RW).
    void stress(const SmpBoot& b, unsigned rounds, unsigned seed) {
        bootSmp(b);
        hal().ipi.latency = 200;
        hal().on_event = [this](const HalEvent& e) { checker.onEvent(e); };
        const int pid = create(0);
        for (unsigned c = 1; c < 4; ++c)
            thread(pid, c);
        ASSERT_EQ(map(pid, kData, 12 * kPage, kRW), FW_OK);
        // Another process with a task per core, that the cores switch to now and then (lazy_tlb
        // skips them meanwhile).
        const int other = create(0);
        for (unsigned c = 1; c < 4; ++c)
            thread(other, c);
        for (unsigned c = 0; c < 4; ++c) {
            hal().current_core = c;
            ASSERT_EQ(fw_switch_to(k, c, tids[other][c]), FW_OK);
            ASSERT_EQ(fw_switch_to(k, c, tids[pid][c]), FW_OK);
        }
        std::vector<CoreJob> jobs;
        for (unsigned c = 0; c < 4; ++c)
            jobs.push_back(
                {c, [this, pid, other, c, rounds, seed] {
                     std::uint64_t x = seed * 7919 + c * 104729 + 1;
                     auto rnd = [&x](std::uint64_t n) {
                         x = x * 6364136223846793005ull + 1442695040888963407ull;
                         return (x >> 33) % n;
                     };
                     const int tid = tids[pid][c];
                     for (unsigned n = 0; n < rounds; ++n) {
                         const std::uint64_t r = rnd(100);
                         if (r < 60) {
                             touch(pid, tid, c, kData + rnd(8) * kPage, rnd(2) == 0);
                         } else if (r < 70) {
                             touch(pid, tid, c, kData + (8 + rnd(4)) * kPage, false);
                         } else if (r < 82) {
                             EXPECT_EQ(fw_vma_discard(k, c, pid, kData + rnd(8) * kPage,
                                                      (1 + rnd(3)) * kPage),
                                       FW_OK);
                         } else if (r < 92) {
                             const std::uint64_t at = kData + (8 + rnd(4)) * kPage;
                             EXPECT_EQ(fw_vma_protect(k, c, pid, at, kPage, FW_PROT_R), FW_OK);
                             hal().userStep(10);
                             EXPECT_EQ(fw_vma_protect(k, c, pid, at, kPage, kRW), FW_OK);
                         } else if (r < 95) {
                             // Away to the other process for a while, and back.
                             EXPECT_EQ(fw_switch_to(k, c, tids[other][c]), FW_OK);
                             for (int i = 0; i < 10; ++i)
                                 hal().userStep(10);
                             EXPECT_EQ(fw_switch_to(k, c, tid), FW_OK);
                         } else if (r < 98) {
                             int child = 0, child_tid = 0;
                             // The child shares every frame while it lives (none
                             // evictable): it exits before anyone else faults.
                             EXPECT_EQ(fw_process_fork(k, c, pid, c, &child, &child_tid), FW_OK);
                             EXPECT_EQ(fw_task_exit(k, c, child_tid), FW_OK);
                         }
                         hal().userStep(10);
                     }
                 }});
        runCores(jobs);
        hal().on_event = nullptr;
        if (std::getenv("SMP_TEST_PRINT"))
            std::printf("hits %llu violations %llu shootdowns %llu handled %llu timeouts %llu "
                        "lock_spins %llu swap_outs %llu lazy_skips %llu\n",
                        (unsigned long long)checker.hits, (unsigned long long)checker.violations,
                        (unsigned long long)sd().shootdowns, (unsigned long long)sd().handled,
                        (unsigned long long)sd().ack_timeouts, (unsigned long long)sd().lock_spins,
                        (unsigned long long)fw_kernel_stats(k)->swap_outs,
                        (unsigned long long)sd().lazy_skips);
        EXPECT_GT(checker.hits, 0u);
        EXPECT_GT(sd().shootdowns, 0u);
        for (unsigned c = 0; c < 4; ++c) {
            hal().current_core = c;
            ASSERT_EQ(fw_task_exit(k, c, tids[pid][c]), FW_OK);
            ASSERT_EQ(fw_task_exit(k, c, tids[other][c]), FW_OK);
        }
        hal().current_core = 0;
        EXPECT_EQ(fw_frames_in_use(k), 0u);
        EXPECT_EQ(fw_tables_in_use(k), 0u);
        EXPECT_EQ(fw_swap_slots_in_use(k), 0u);
        EXPECT_EQ(frames->in_use, initial_in_use);
    }
};

TEST_F(SmpStressTest, IntactProtocolUsesNoStaleTranslation) {
    for (unsigned seed = 1; seed <= 3; ++seed) {
        checker = TlbChecker();
        stress(with([](SmpBoot& b) {
                   b.swap = true;
                   b.limit = 10;
               }),
               400, seed);
        EXPECT_EQ(checker.violations, 0u) << "seed " << seed;
        EXPECT_GT(fw_kernel_stats(k)->swap_outs, 0u);
        EXPECT_EQ(sd().handled, sd().targets);
    }
}

TEST_F(SmpStressTest, EveryVariantUsesNoStaleTranslation) {
    for (int v = 0; v < 5; ++v) {
        checker = TlbChecker();
        stress(with([v](SmpBoot& b) {
                   b.concurrent_flush = v == 0;
                   b.early_ack = v == 1;
                   b.unbatched = v == 2;
                   b.lazy_tlb = v == 3;
                   b.mechanism = v == 4 ? FW_SHOOTDOWN_DIRECTED : FW_SHOOTDOWN_IPI;
               }),
               300, 7);
        EXPECT_EQ(checker.violations, 0u) << "variant " << v;
        if (v == 3) {
            EXPECT_GT(sd().lazy_skips, 0u);
            EXPECT_GT(sd().lazy_flushes, 0u);
        }
    }
}

TEST_F(SmpStressTest, BroadcastUsesNoStaleTranslation) {
    for (bool unbatched : {false, true}) {
        checker = TlbChecker();
        stress(with([unbatched](SmpBoot& b) {
                   b.mechanism = FW_SHOOTDOWN_BROADCAST;
                   b.unbatched = unbatched;
                   b.swap = true;
                   b.limit = 10;
               }),
               400, 3);
        EXPECT_EQ(checker.violations, 0u) << "unbatched " << unbatched;
        EXPECT_GT(sd().broadcasts, 0u);
        EXPECT_EQ(sd().ipis_sent, 0u);
        EXPECT_EQ(sd().handled, 0u);
    }
    // Skipping the broadcast (only the local flush) is caught.
    checker = TlbChecker();
    stress(with([](SmpBoot& b) {
               b.mechanism = FW_SHOOTDOWN_BROADCAST;
               b.inject = FW_INJECT_SKIP_REMOTE_FLUSH;
           }),
           400, 1);
    EXPECT_GT(checker.violations, 0u);
}

TEST_F(SmpStressTest, EachInjectedFaultIsCaught) {
    for (unsigned flag :
         {FW_INJECT_SKIP_ACK_WAIT, FW_INJECT_SKIP_REMOTE_FLUSH, FW_INJECT_SKIP_LOCAL_FLUSH}) {
        checker = TlbChecker();
        stress(with([flag](SmpBoot& b) { b.inject = flag; }), 400, 1);
        EXPECT_GT(checker.violations, 0u) << "inject " << flag;
    }
}

} // namespace
} // namespace fwtest
