#include "fake_hal.h"

#include <condition_variable>
#include <exception>
#include <mutex>
#include <string>
#include <thread>

#include "ipi_controller.h"
#include "swap_device.h"

namespace fakehal {

FakeHal& hal() {
    static FakeHal instance;
    return instance;
}

void FakeHal::reset(std::uint64_t bytes) {
    *this = FakeHal();
    phys_bytes = bytes;
}

void FakeHal::check(std::uint64_t pa, std::uint64_t bytes) const {
    if (pa > phys_bytes || bytes > phys_bytes - pa)
        throw FakeHalPanic("fake HAL: access [" + std::to_string(pa) + ", +" +
                           std::to_string(bytes) + ") outside physical memory");
}

std::uint8_t FakeHal::byteAt(std::uint64_t pa) const {
    const auto it = chunks_.find(pa / kChunkBytes);
    return it == chunks_.end() ? 0 : it->second[pa % kChunkBytes];
}

void FakeHal::setByte(std::uint64_t pa, std::uint8_t value) {
    auto it = chunks_.find(pa / kChunkBytes);
    if (it == chunks_.end()) {
        if (value == 0) return;
        it = chunks_.emplace(pa / kChunkBytes, std::array<std::uint8_t, kChunkBytes>{}).first;
    }
    it->second[pa % kChunkBytes] = value;
}

std::uint64_t FakeHal::read(std::uint64_t pa, unsigned bytes) const {
    check(pa, bytes);
    std::uint64_t value = 0;
    for (unsigned i = 0; i < bytes; ++i)
        value |= std::uint64_t{byteAt(pa + i)} << (8 * i);
    return value;
}

void FakeHal::write(std::uint64_t pa, std::uint64_t value, unsigned bytes) {
    check(pa, bytes);
    for (unsigned i = 0; i < bytes; ++i)
        setByte(pa + i, static_cast<std::uint8_t>(value >> (8 * i)));
}

void FakeHal::zero(std::uint64_t pa, std::uint64_t bytes) {
    check(pa, bytes);
    const std::uint64_t end = pa + bytes;
    while (pa < end) {
        const std::uint64_t chunk = pa / kChunkBytes;
        const std::uint64_t chunk_end = (chunk + 1) * kChunkBytes;
        if (pa % kChunkBytes == 0 && chunk_end <= end) {
            chunks_.erase(chunk); // whole chunk: absent means zero
            pa = chunk_end;
        } else {
            setByte(pa++, 0);
        }
    }
}

void FakeHal::copy(std::uint64_t dst, std::uint64_t src, std::uint64_t bytes) {
    check(dst, bytes);
    check(src, bytes);
    for (std::uint64_t i = 0; i < bytes; ++i)
        setByte(dst + i, byteAt(src + i));
}

static bool ipiWindow(const FakeIpi& ipi, std::uint64_t pa, unsigned bytes) {
    if (ipi.mmio == 0 || pa < ipi.mmio || pa >= ipi.mmio + IPI_REG_BYTES) return false;
    if (bytes != 8)
        throw FakeHalPanic("IPI register access of " + std::to_string(bytes) + " bytes");
    return true;
}

static unsigned ipiCore(const FakeIpi& ipi, std::uint64_t offset) {
    const unsigned c = static_cast<unsigned>((offset % 0x200) / 8);
    if (c >= ipi.cores) throw FakeHalPanic("IPI register of core " + std::to_string(c));
    return c;
}

bool FakeHal::mmioRead(std::uint64_t pa, unsigned bytes, std::uint64_t& value) {
    if (ipiWindow(ipi, pa, bytes)) {
        const std::uint64_t offset = pa - ipi.mmio;
        const unsigned c = ipiCore(ipi, offset);
        if (offset >= 0x400 && offset < 0x600) ipi.arrive(c, core_cycles[current_core]);
        value = offset < 0x200                      ? ipi.targets[c]
                : offset >= 0x400 && offset < 0x600 ? ipi.pending[c]
                                                    : 0;
        return true;
    }
    if (swap.mmio == 0 || pa < swap.mmio || pa >= swap.mmio + SWAP_REG_BYTES) return false;
    if (bytes != 8)
        throw FakeHalPanic("swap register access of " + std::to_string(bytes) + " bytes");
    switch (pa - swap.mmio) {
    case SWAP_REG_SLOT:
        value = swap.slot;
        break;
    case SWAP_REG_FRAME:
        value = swap.frame;
        break;
    case SWAP_REG_LENGTH:
        value = swap.length;
        break;
    case SWAP_REG_STATUS:
        value = swap.status;
        break;
    default:
        value = 0;
        break;
    }
    return true;
}

bool FakeHal::mmioWrite(std::uint64_t pa, std::uint64_t value, unsigned bytes) {
    if (ipiWindow(ipi, pa, bytes)) {
        const std::uint64_t offset = pa - ipi.mmio;
        const unsigned c = ipiCore(ipi, offset);
        if (offset < 0x200) {
            if (ipi.cores < 64 && (value >> ipi.cores) != 0)
                throw FakeHalPanic("IPI to a core that does not exist");
            ipi.targets[c] = value;
        } else if (offset < 0x400) {
            if (value > 63) throw FakeHalPanic("IPI vector above 63");
            ipi.sends.push_back({c, ipi.targets[c], value});
            for (unsigned t = 0; t < ipi.cores; ++t) {
                if (!((ipi.targets[c] >> t) & 1u)) continue;
                if (ipi.drop_next > 0) {
                    --ipi.drop_next;
                    ++ipi.dropped;
                    continue;
                }
                if (ipi.latency == 0)
                    ipi.pending[t] |= std::uint64_t{1} << value;
                else
                    ipi.in_flight.push_back({t, value, core_cycles[current_core] + ipi.latency});
            }
        } else if (offset >= 0x600) {
            ipi.pending[c] &= ~value;
            ++ipi.clears;
        }
        return true;
    }
    if (swap.mmio == 0 || pa < swap.mmio || pa >= swap.mmio + SWAP_REG_BYTES) return false;
    if (bytes != 8)
        throw FakeHalPanic("swap register access of " + std::to_string(bytes) + " bytes");
    switch (pa - swap.mmio) {
    case SWAP_REG_SLOT:
        swap.slot = value;
        break;
    case SWAP_REG_FRAME:
        swap.frame = value;
        break;
    case SWAP_REG_LENGTH:
        swap.length = value;
        break;
    case SWAP_REG_COMMAND: {
        if ((value != SWAP_CMD_WRITE && value != SWAP_CMD_READ) || swap.slot >= swap.slots ||
            swap.length == 0) {
            swap.status = 1;
            ++swap.errors;
            break;
        }
        auto& data = swap.store[swap.slot];
        data.resize(swap.length, 0);
        if (value == SWAP_CMD_WRITE) {
            for (std::uint64_t i = 0; i < swap.length; ++i)
                data[i] = byteAt(swap.frame + i);
            ++swap.writes;
        } else {
            for (std::uint64_t i = 0; i < swap.length; ++i)
                setByte(swap.frame + i, data[i]);
            ++swap.reads;
        }
        swap.status = 0;
        break;
    }
    default:
        break;
    }
    return true;
}

void FakeIpi::arrive(unsigned target, std::uint64_t now) {
    for (std::size_t i = 0; i < in_flight.size();) {
        if (in_flight[i].target == target && in_flight[i].due <= now) {
            pending[target] |= std::uint64_t{1} << in_flight[i].vector;
            in_flight.erase(in_flight.begin() + static_cast<std::ptrdiff_t>(i));
        } else {
            ++i;
        }
    }
}

void FakeHal::userStep(std::uint64_t cycles) {
    const unsigned self = current_core;
    core_cycles[self] += cycles;
    yieldCore();
    const int was = irq_enabled[self];
    irq_enabled[self] = 1;
    deliverInterrupts();
    irq_enabled[self] = was;
}

void FakeHal::takeInterrupt(unsigned core, std::uint64_t now) {
    const unsigned saved = current_core;
    const int was = irq_enabled[core];
    current_core = core;
    irq_enabled[core] = 0; // the host masks them around the handler
    if (core_cycles[core] < now) core_cycles[core] = now;
    on_interrupt(core);
    irq_enabled[core] = was;
    current_core = saved;
}

void FakeHal::deliverInterrupts() {
    if (!on_interrupt) return;
    const unsigned self = current_core;
    const std::uint64_t idle = idle_cores & ~busyCores();
    for (unsigned t = 0; t < ipi.cores && t < 64; ++t) {
        if (t == self || !((idle >> t) & 1u)) continue;
        ipi.arrive(t, core_cycles[self]);
        if (ipi.pending[t] != 0) takeInterrupt(t, core_cycles[self]);
    }
    if (self >= 64 || !irq_enabled[self]) return;
    ipi.arrive(self, core_cycles[self]);
    if (ipi.pending[self] != 0) takeInterrupt(self, core_cycles[self]);
}

// ---- the baton of runCores ------------------------------------------------------------------

namespace {
struct Baton {
    std::mutex m;
    std::condition_variable cv;
    std::vector<unsigned> cores;
    std::vector<bool> done;
    int turn = -1;
    std::uint64_t busy = 0;
};
Baton& baton() {
    static Baton b;
    return b;
}
thread_local int tl_index = -1;

// With the lock held: the job still running whose core's clock is the earliest (ties: the
// first after i, i itself last), or -1. Cores thus see each other at about the right time.
int nextTurn(const Baton& b, int i) {
    const int n = static_cast<int>(b.cores.size());
    int best = -1;
    for (int d = 1; d <= n; ++d) {
        const int j = (i + d) % n;
        if (b.done[j]) continue;
        if (best < 0 || hal().core_cycles[b.cores[j]] < hal().core_cycles[b.cores[best]]) best = j;
    }
    return best;
}
} // namespace

std::uint64_t busyCores() {
    return baton().busy;
}

void yieldCore() {
    Baton& b = baton();
    if (tl_index < 0) return;
    std::unique_lock<std::mutex> lock(b.m);
    b.turn = nextTurn(b, tl_index);
    b.cv.notify_all();
    b.cv.wait(lock, [&] { return b.turn == tl_index; });
    hal().current_core = b.cores[tl_index];
}

void runCores(const std::vector<CoreJob>& jobs) {
    Baton& b = baton();
    {
        std::lock_guard<std::mutex> lock(b.m);
        b.cores.clear();
        b.done.assign(jobs.size(), false);
        b.busy = 0;
        for (const CoreJob& j : jobs) {
            b.cores.push_back(j.core);
            b.busy |= std::uint64_t{1} << j.core;
        }
        b.turn = jobs.empty() ? -1 : 0;
    }
    const unsigned saved = hal().current_core;
    std::exception_ptr error;
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        threads.emplace_back([&, i] {
            tl_index = static_cast<int>(i);
            {
                std::unique_lock<std::mutex> lock(b.m);
                b.cv.wait(lock, [&] { return b.turn == static_cast<int>(i); });
            }
            hal().current_core = jobs[i].core;
            try {
                jobs[i].run();
            } catch (...) {
                std::lock_guard<std::mutex> lock(b.m);
                if (!error) error = std::current_exception();
            }
            std::lock_guard<std::mutex> lock(b.m);
            b.done[i] = true;
            b.busy &= ~(std::uint64_t{1} << jobs[i].core);
            b.turn = nextTurn(b, static_cast<int>(i));
            b.cv.notify_all();
        });
    }
    for (std::thread& t : threads)
        t.join();
    b.busy = 0;
    b.cores.clear();
    hal().current_core = saved;
    if (error) std::rethrow_exception(error);
}

} // namespace fakehal

using fakehal::hal;

extern "C" {

uint64_t hal_read_phys(hal_paddr_t pa, unsigned bytes) {
    if (bytes != 1 && bytes != 2 && bytes != 4 && bytes != 8)
        throw fakehal::FakeHalPanic("hal_read_phys: bad size " + std::to_string(bytes));
    ++hal().reads;
    hal().core_cycles[hal().current_core] += hal().read_cost;
    std::uint64_t value = 0;
    if (!hal().mmioRead(pa, bytes, value)) value = hal().read(pa, bytes);
    hal().event({fakehal::HalEvent::Read, pa, value, 0, 0});
    return value;
}

void hal_write_phys(hal_paddr_t pa, uint64_t value, unsigned bytes) {
    if (bytes != 1 && bytes != 2 && bytes != 4 && bytes != 8)
        throw fakehal::FakeHalPanic("hal_write_phys: bad size " + std::to_string(bytes));
    ++hal().writes;
    hal().core_cycles[hal().current_core] += hal().write_cost;
    if (!hal().mmioWrite(pa, value, bytes)) hal().write(pa, value, bytes);
    hal().event({fakehal::HalEvent::Write, pa, value, 0, 0});
}

void hal_zero_frame(hal_paddr_t pa, uint64_t bytes) {
    hal().zeroed_bytes += bytes;
    hal().event({fakehal::HalEvent::Zero, pa, bytes, 0, 0});
    hal().zero(pa, bytes);
}

void hal_copy_frame(hal_paddr_t dst, hal_paddr_t src, uint64_t bytes) {
    hal().copied_bytes += bytes;
    hal().event({fakehal::HalEvent::Copy, dst, bytes, 0, 0});
    hal().copy(dst, src, bytes);
}

void hal_tlb_invalidate(enum hal_flush_kind kind, uint64_t va, uint16_t asid) {
    hal().invalidations.push_back({kind, va, asid});
    hal().core_cycles[hal().current_core] += hal().invalidate_cost;
    hal().event({fakehal::HalEvent::Invalidate, va, asid, 0, kind});
    if (hal().on_invalidate) hal().on_invalidate();
}

void hal_tlb_invalidate_core(unsigned core, enum hal_flush_kind kind, uint64_t va, uint16_t asid) {
    hal().remote_invalidations.push_back({core, {kind, va, asid}});
    hal().core_cycles[hal().current_core] += hal().invalidate_cost;
    hal().event({fakehal::HalEvent::InvalidateCore, va, asid, core, kind});
    if (hal().on_invalidate) hal().on_invalidate();
}

void hal_tlb_invalidate_broadcast(enum hal_flush_kind kind, uint64_t va, uint16_t asid) {
    hal().broadcasts.push_back({hal().current_core, {kind, va, asid}});
    hal().core_cycles[hal().current_core] += hal().invalidate_cost;
    hal().event({fakehal::HalEvent::InvalidateBroadcast, va, asid, 0, kind});
    if (hal().on_invalidate) hal().on_invalidate();
}

void hal_tlb_sync(void) {
    ++hal().tlb_syncs;
    hal().event({fakehal::HalEvent::TlbSync, 0, 0, 0, 0});
}

void hal_tlb_write(const struct hal_tlb_entry* entry) {
    hal().tlb_writes.push_back(*entry);
    hal().event({fakehal::HalEvent::TlbWrite, entry->vpn, entry->ppn, 0, 0});
}

void hal_set_root(hal_paddr_t root, uint16_t asid) {
    hal().root = root;
    hal().root_asid = asid;
    ++hal().set_root_calls;
    hal().event({fakehal::HalEvent::SetRoot, root, asid, 0, 0});
}

void hal_charge_cycles(uint64_t cycles) {
    hal().cycles += cycles;
    hal().core_cycles[hal().current_core] += cycles;
}

namespace {
// An atomic's common part: the size check, its count and cost; the old value.
std::uint64_t atomicOld(const char* call, hal_paddr_t pa, unsigned bytes) {
    if (bytes != 4 && bytes != 8)
        throw fakehal::FakeHalPanic(std::string(call) + ": bad size " + std::to_string(bytes));
    ++hal().cas_calls;
    hal().core_cycles[hal().current_core] += hal().cas_cost;
    return hal().read(pa, bytes);
}
} // namespace

uint64_t hal_atomic_cas(hal_paddr_t pa, uint64_t expected, uint64_t desired, unsigned bytes) {
    const std::uint64_t old = atomicOld("hal_atomic_cas", pa, bytes);
    if (old == expected) hal().write(pa, desired, bytes);
    fakehal::HalEvent e{fakehal::HalEvent::Cas, pa, desired, 0, 0};
    e.expected = expected;
    e.old = old;
    hal().event(e);
    return old;
}

uint64_t hal_atomic_fetch_add(hal_paddr_t pa, uint64_t delta, unsigned bytes) {
    const std::uint64_t old = atomicOld("hal_atomic_fetch_add", pa, bytes);
    hal().write(pa, old + delta, bytes); // the low `bytes`: modulo 2^(8 * bytes)
    fakehal::HalEvent e{fakehal::HalEvent::FetchAdd, pa, delta, 0, 0};
    e.old = old;
    hal().event(e);
    return old;
}

void hal_sync(void) {
    ++hal().sync_calls;
    hal().event({fakehal::HalEvent::Sync, 0, 0, 0, 0});
}

uint64_t hal_now_cycles(void) {
    return hal().core_cycles[hal().current_core];
}

void hal_relax(uint64_t cycles) {
    ++hal().relax_calls;
    if (!hal().untimed) hal().core_cycles[hal().current_core] += cycles == 0 ? 1 : cycles;
    hal().event({fakehal::HalEvent::Relax, 0, cycles, 0, 0});
    if (hal().on_relax) hal().on_relax(hal().current_core);
    // The other jobs run (their time passes too), then what became due is taken.
    fakehal::yieldCore();
    hal().deliverInterrupts();
}

// No events between the fake's cores: a wait for event is one relax step of at most 20 cycles
// (the firmware's default poll step), so lock waits look as they did with polling.
void hal_wait_for_event(uint64_t max_cycles) {
    hal_relax(max_cycles < 20 ? max_cycles : 20);
}

void hal_send_event(void) {}

int hal_irq_enable(int enable) {
    const int was = hal().irq_enabled[hal().current_core];
    hal().irq_enabled[hal().current_core] = enable != 0;
    hal().event({fakehal::HalEvent::IrqEnable, 0, static_cast<std::uint64_t>(enable), 0, 0});
    return was;
}

void hal_trace(enum hal_trace_event event, uint64_t arg) {
    // Frame frees are for the host's safety checker, IPI sends and serves for its timeline's
    // arrows; the protocol tests list the others.
    if (event == HAL_TRACE_FRAME_FREE || event == HAL_TRACE_IPI_SEND ||
        event == HAL_TRACE_IPI_SERVE)
        return;
    hal().traces.push_back({hal().current_core, event, arg});
    hal().event({fakehal::HalEvent::Trace, static_cast<std::uint64_t>(event), arg, 0, 0});
}

void hal_task_runnable(int) {}
void hal_mm_released(int) {}

void hal_panic(const char* message) {
    throw fakehal::FakeHalPanic(message);
}

} // extern "C"
