// A host implementation of abi/hal.h for tests: sparse little-endian physical
// memory (4 KiB chunks, absent = zero, so frames of a 1 GiB superpage cost nothing until
// written) and counters for every call. hal_panic throws FakeHalPanic.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "hal.h"
#include "mmu/PageTableWalk.h"

namespace fakehal {

struct FakeHalPanic : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// One HAL call, in the order the firmware made it (FakeHal::events, when record_events is set).
struct HalEvent {
    enum Kind {
        Read,
        Write,
        Zero,
        Copy,
        Invalidate,
        InvalidateCore,
        SetRoot,
        TlbWrite,
        // the SMP calls (issue 8)
        Cas,
        Sync,
        Relax,
        IrqEnable,
        Trace,
        // broadcast invalidation (issue 9)
        InvalidateBroadcast,
        TlbSync,
        FetchAdd // hal_atomic_fetch_add: value is the delta, old the value before
    } kind;
    std::uint64_t addr = 0;  // pa (Read/Write/Zero/Copy dst/Cas), va (invalidations), root;
                             // Trace: hal_trace_event
    std::uint64_t value = 0; // value read or written, bytes zeroed or copied, asid; Cas: desired;
                             // Relax: cycles; IrqEnable: enable; Trace: arg
    unsigned core = 0;       // target core of InvalidateCore
    int flush = 0;           // hal_flush_kind of invalidations
    unsigned by = 0;         // the core that made the call (FakeHal::current_core)
    std::uint64_t expected = 0; // Cas: expected
    std::uint64_t old = 0;      // Cas: the old value returned
};

// An IPI controller at mmio (0 = none): the registers of ipi_controller.h. SEND makes the vector
// pending at each target `latency` cycles after the sender's time (at once by default: a
// delivery is due when the clock of the core that looks, FakeHal::core_cycles, reaches it),
// unless a delivery is to be dropped.
struct FakeIpi {
    std::uint64_t mmio = 0;
    unsigned cores = 0;
    std::array<std::uint64_t, 64> targets{};
    std::array<std::uint64_t, 64> pending{};
    struct Send {
        unsigned from;
        std::uint64_t mask;
        std::uint64_t vector;
    };
    std::vector<Send> sends;
    unsigned drop_next = 0; // deliveries to lose (one per target of a send, in core order)
    std::uint64_t latency = 0;
    struct Delivery {
        unsigned target;
        std::uint64_t vector;
        std::uint64_t due;
    };
    std::vector<Delivery> in_flight;
    // Moves the deliveries to `target` due at `now` into pending.
    void arrive(unsigned target, std::uint64_t now);
    std::uint64_t dropped = 0;
    std::uint64_t clears = 0;
};

struct Invalidation {
    hal_flush_kind kind;
    std::uint64_t va;
    std::uint16_t asid;
};

// A swap device at swap_mmio (0 = none): the registers of abi/swap_device.h, backed by
// its own store (a slot never written reads as zeros).
struct FakeSwap {
    std::uint64_t mmio = 0;
    std::uint64_t slots = 0;
    std::uint64_t slot = 0, frame = 0, length = 0, status = 0;
    std::map<std::uint64_t, std::vector<std::uint8_t>> store;
    std::uint64_t writes = 0, reads = 0, errors = 0;
};

class FakeHal {
  public:
    static constexpr std::uint64_t kChunkBytes = 4096;

    // Physical memory is [0, phys_bytes); any access outside it panics.
    void reset(std::uint64_t phys_bytes);

    std::uint64_t read(std::uint64_t pa, unsigned bytes) const;
    void write(std::uint64_t pa, std::uint64_t value, unsigned bytes);
    void zero(std::uint64_t pa, std::uint64_t bytes);
    void copy(std::uint64_t dst, std::uint64_t src, std::uint64_t bytes);
    // Chunks that hold data (not all zero, as far as the fake knows).
    std::size_t residentChunks() const { return chunks_.size(); }

    std::uint64_t phys_bytes = 0;
    std::uint64_t reads = 0;
    std::uint64_t writes = 0;
    std::uint64_t zeroed_bytes = 0;
    std::uint64_t copied_bytes = 0;
    std::uint64_t cycles = 0;
    std::uint64_t root = 0;
    std::uint16_t root_asid = 0;
    unsigned set_root_calls = 0;
    std::vector<Invalidation> invalidations;
    // hal_tlb_invalidate_core: (target core, invalidation)
    std::vector<std::pair<unsigned, Invalidation>> remote_invalidations;
    // hal_tlb_invalidate_broadcast: (issuing core, invalidation); hal_tlb_sync calls.
    std::vector<std::pair<unsigned, Invalidation>> broadcasts;
    unsigned tlb_syncs = 0;
    std::vector<hal_tlb_entry> tlb_writes;
    bool record_events = false;
    std::vector<HalEvent> events;
    // Called at every local or remote invalidation, after it is recorded (tests check what is
    // still allocated at that moment).
    std::function<void()> on_invalidate;
    void event(HalEvent e) {
        e.by = current_core;
        if (record_events) events.push_back(e);
        if (on_event) on_event(e);
    }
    FakeSwap swap;

    // ---- several cores in one process (issue 8) ---------------------------------------------
    // The core that makes the HAL calls now (tests set it before calling the firmware for a
    // core; FakeCores sets it for its threads; interrupts emulated below switch it).
    unsigned current_core = 0;
    std::array<std::uint64_t, 64> core_cycles{}; // per core: charges, relax steps, costs below
    std::array<int, 64> irq_enabled{};
    // Per-call costs added to core_cycles (not to `cycles`), 0 by default.
    std::uint64_t read_cost = 0, write_cost = 0, cas_cost = 0,
                  invalidate_cost = 0; // cas_cost: every atomic
    // Cores that "run user code": a pending IPI of theirs is taken (on_interrupt runs as that
    // core) whenever any core takes a relax step. Cores with a FakeCores thread are excluded
    // while it runs (they take theirs in their own relax steps, with interrupts enabled).
    std::uint64_t idle_cores = ~std::uint64_t{0};
    std::function<void(unsigned core)> on_interrupt; // the firmware's fw_interrupt
    std::function<void(unsigned core)> on_relax;     // test hook, at each relax step
    std::function<void(const HalEvent&)> on_event;   // test hook, at each recorded event
    std::uint64_t relax_calls = 0, cas_calls = 0, sync_calls = 0; // cas_calls: every atomic
    bool untimed = false; // hal_relax lets no time pass (as a host's untimed boot context)
    struct TraceRecord {
        unsigned core;
        hal_trace_event event;
        std::uint64_t arg;
    };
    std::vector<TraceRecord> traces;
    FakeIpi ipi;
    // Runs on_interrupt as `core` (interrupts masked meanwhile, time at least `now`).
    void takeInterrupt(unsigned core, std::uint64_t now);
    // Every pending interrupt that may be taken at a relax step of current_core.
    void deliverInterrupts();
    // A step of user code on current_core: `cycles` pass, the other jobs run, and a pending
    // interrupt of this core is taken (user code runs with interrupts enabled).
    void userStep(std::uint64_t cycles);

    // MMIO of the fake devices: true when pa belongs to one (value read or written).
    bool mmioRead(std::uint64_t pa, unsigned bytes, std::uint64_t& value);
    bool mmioWrite(std::uint64_t pa, std::uint64_t value, unsigned bytes);

  private:
    void check(std::uint64_t pa, std::uint64_t bytes) const;
    std::uint8_t byteAt(std::uint64_t pa) const;
    void setByte(std::uint64_t pa, std::uint8_t value);

    std::unordered_map<std::uint64_t, std::array<std::uint8_t, kChunkBytes>> chunks_;
};

// The one instance the C entry points of hal.h use.
FakeHal& hal();

// Several cores at once: each job runs on its own thread as core `core`, one thread at a time
// (a baton): the running one passes it on at every hal_relax (and FakeHal::userStep) and when
// its job ends, to the job whose core's clock is the earliest (ties: round robin). A job's core
// does not take interrupts from other cores' relax steps while the job runs (FakeHal::idle_cores);
// it takes its own in its relax steps when the firmware enabled them. Rethrows the first exception
// of a job.
struct CoreJob {
    unsigned core;
    std::function<void()> run;
};
void runCores(const std::vector<CoreJob>& jobs);
// Cores with a running job (0 outside runCores).
std::uint64_t busyCores();
// Called by hal_relax: passes the baton (no-op outside runCores).
void yieldCore();

// The walker reads what the firmware wrote, straight from the fake's memory (not counted as
// firmware HAL traffic).
class HalPteMemory : public tlmmu::PteMemory {
  public:
    bool readPte(tlmmu::Addr pa, unsigned bytes, std::uint64_t& value) override {
        value = hal().read(pa, bytes);
        return true;
    }
    bool writePte(tlmmu::Addr pa, unsigned bytes, std::uint64_t value) override {
        hal().write(pa, value, bytes);
        return true;
    }
};

} // namespace fakehal
