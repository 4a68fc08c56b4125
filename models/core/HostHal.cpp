#include "core/HostHal.h"

#include <algorithm>
#include <sstream>

#include "cache/CacheSystem.h"
#include "hal.h"
#include "interconnect/InvalidationController.h"
#include "mmu/Tlb.h"

namespace tlmmu {

namespace {
// The HAL in use: the one of the core whose thread runs. Set by run() and again after every wait
// inside firmware (sync, wait for event), since other cores' firmware runs meanwhile.
HostHal* g_current = nullptr;

// The event of hal_send_event: one for the whole system (one simulation per process).
sc_core::sc_event& cpuEvent() {
    static sc_core::sc_event event("hal_cpu_event");
    return event;
}
// hal_send_event calls so far: a core whose count of them seen is behind has its event
// register set (ARM's SEV sets every core's; WFE then returns at once and clears it), so an
// event sent between a waiter's look at a lock and its sleep is not lost.
std::uint64_t& eventsSent() {
    static std::uint64_t sent = 0;
    return sent;
}
} // namespace

HostHal::HostHal(tlm::tlm_initiator_socket<>& memory, tlm::tlm_initiator_socket<>& mmu,
                 LocalTime& time, unsigned core_id)
    : memory_(memory), mmu_(mmu), time_(time), core_id_(core_id), events_seen_(eventsSent()) {}

HostHal& HostHal::current() {
    if (!g_current) throw FirmwarePanic("firmware called the HAL outside HostHal::run");
    return *g_current;
}

std::uint64_t HostHal::run(const std::function<void()>& fn, bool timed) {
    HostHal* saved = g_current;
    const bool saved_timed = timed_;
    g_current = this;
    timed_ = timed;
    // The firmware continues from the core's local time and hands it back (one local time).
    const sc_core::sc_time start = time_.now();
    if (timed) delay_ = time_.clock().cycles(time_.local());
    try {
        fn();
    } catch (...) {
        g_current = saved;
        timed_ = saved_timed;
        throw;
    }
    g_current = saved;
    timed_ = saved_timed;
    if (!timed) return 0;
    time_.setLocal(time_.clock().toCycles(delay_));
    return time_.clock().toCycles(time_.now() - start);
}

void HostHal::sync() {
    if (!timed_) return;
    time_.setLocal(time_.clock().toCycles(delay_));
    time_.sync();
    g_current = this; // other cores' firmware may have run during the wait
    delay_ = sc_core::SC_ZERO_TIME;
}

void HostHal::memory(tlm::tlm_command cmd, std::uint64_t pa, unsigned char* data,
                     std::uint64_t len) {
    tlm::tlm_generic_payload& trans = trans_;
    trans.set_command(cmd);
    trans.set_address(pa);
    trans.set_data_ptr(data);
    trans.set_data_length(static_cast<unsigned>(len));
    trans.set_streaming_width(static_cast<unsigned>(len));
    trans.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    if (timed_)
        memory_->b_transport(trans, delay_);
    else
        memory_->transport_dbg(trans);
    if (!trans.is_response_ok()) {
        std::ostringstream msg;
        msg << "core" << core_id_ << ": firmware "
            << (cmd == tlm::TLM_READ_COMMAND ? "read" : "write") << " of " << len
            << " bytes at PA 0x" << std::hex << pa << " failed: " << trans.get_response_string();
        throw FirmwarePanic(msg.str());
    }
}

std::uint64_t HostHal::readPhys(std::uint64_t pa, unsigned bytes) {
    std::uint64_t v = 0; // little-endian host, little-endian memory
    memory(tlm::TLM_READ_COMMAND, pa, reinterpret_cast<unsigned char*>(&v), bytes);
    return v;
}

void HostHal::writePhys(std::uint64_t pa, std::uint64_t value, unsigned bytes) {
    memory(tlm::TLM_WRITE_COMMAND, pa, reinterpret_cast<unsigned char*>(&value), bytes);
}

void HostHal::zeroFrame(std::uint64_t pa, std::uint64_t bytes) {
    buffer_.assign(bytes, 0);
    memory(tlm::TLM_WRITE_COMMAND, pa, buffer_.data(), bytes);
}

void HostHal::copyFrame(std::uint64_t dst, std::uint64_t src, std::uint64_t bytes) {
    buffer_.resize(bytes);
    memory(tlm::TLM_READ_COMMAND, src, buffer_.data(), bytes);
    memory(tlm::TLM_WRITE_COMMAND, dst, buffer_.data(), bytes);
}

void HostHal::mmu(TranslationExtension& ext) {
    tlm::tlm_generic_payload trans;
    trans.set_extension(&ext);
    trans.set_command(tlm::TLM_IGNORE_COMMAND);
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    mmu_->b_transport(trans, d);
    if (timed_) delay_ += d;
    trans.clear_extension(&ext);
}

void HostHal::tlbInvalidate(unsigned kind, std::uint64_t va, std::uint16_t asid) {
    TranslationExtension ext;
    ext.op = TranslationExtension::Op::Invalidate;
    ext.core_id = core_id_;
    ext.flush_kind = static_cast<std::uint8_t>(kind);
    ext.va = va;
    ext.asid = asid;
    mmu(ext);
}

void HostHal::tlbInvalidateCore(unsigned core, unsigned kind, std::uint64_t va,
                                std::uint16_t asid) {
    if (core == core_id_) return tlbInvalidate(kind, va, asid);
    invalidationCommand(core, kind, va, asid);
}

void HostHal::tlbInvalidateBroadcast(unsigned kind, std::uint64_t va, std::uint16_t asid) {
    invalidationCommand(INVAL_TARGET_ALL, kind, va, asid);
}

void HostHal::tlbSync() {
    controllerRegister(INVAL_REG_ISSUER, core_id_);
    controllerRegister(INVAL_REG_COMMAND, INVAL_CMD_SYNC);
}

void HostHal::invalidationCommand(std::uint64_t target, unsigned kind, std::uint64_t va,
                                  std::uint16_t asid) {
    controllerRegister(INVAL_REG_VA, va);
    controllerRegister(INVAL_REG_ASID, asid);
    controllerRegister(INVAL_REG_KIND, kind);
    controllerRegister(INVAL_REG_TARGET, target);
    // A broadcast is completed by this core's sync: the controller needs to know whose it is.
    if (target == INVAL_TARGET_ALL) controllerRegister(INVAL_REG_ISSUER, core_id_);
    controllerRegister(INVAL_REG_COMMAND, INVAL_CMD_INVALIDATE);
}

void HostHal::controllerRegister(std::uint64_t offset, std::uint64_t value) {
    if (!controller_)
        throw FirmwarePanic("remote TLB invalidation without an invalidation controller");
    writePhys(controller_ + offset, value, 8);
}

std::uint64_t HostHal::atomicCas(std::uint64_t pa, std::uint64_t expected, std::uint64_t desired,
                                 unsigned bytes) {
    return atomicUpdate(pa, bytes, "hal_atomic_cas", [&](std::uint64_t old) {
        return old == expected ? std::optional<std::uint64_t>(desired) : std::nullopt;
    });
}

std::uint64_t HostHal::atomicFetchAdd(std::uint64_t pa, std::uint64_t delta, unsigned bytes) {
    // The store writes the low `bytes` of the sum: modulo 2^(8 * bytes).
    return atomicUpdate(pa, bytes, "hal_atomic_fetch_add", [&](std::uint64_t old) {
        return std::optional<std::uint64_t>(old + delta);
    });
}

std::uint64_t
HostHal::atomicUpdate(std::uint64_t pa, unsigned bytes, const char* call,
                      const std::function<std::optional<std::uint64_t>(std::uint64_t)>& update) {
    if (bytes != 4 && bytes != 8) throw FirmwarePanic(std::string(call) + ": size must be 4 or 8");
    sync(); // atomics between cores happen in simulated-time order
    // One read-modify-write transaction: its time is that of the read; the store is part of it.
    std::uint64_t old = 0;
    // To the caches it is a write whatever the outcome: the line is taken Modified (x86's
    // LOCK CMPXCHG / XADD, a RISC-V AMO), so a contended lock word moves between cores.
    CacheAccessExtension atomic(CacheAccessKind::Atomic);
    trans_.set_extension(&atomic);
    try {
        memory(tlm::TLM_READ_COMMAND, pa, reinterpret_cast<unsigned char*>(&old), bytes);
    } catch (...) {
        trans_.clear_extension(&atomic);
        throw;
    }
    trans_.clear_extension(&atomic);
    if (std::optional<std::uint64_t> stored = update(old)) {
        const bool was = timed_;
        timed_ = false;
        memory(tlm::TLM_WRITE_COMMAND, pa, reinterpret_cast<unsigned char*>(&*stored), bytes);
        timed_ = was;
    }
    return old;
}

std::uint64_t HostHal::nowCycles() const {
    if (!timed_) return time_.clock().toCycles(sc_core::sc_time_stamp());
    return time_.clock().toCycles(sc_core::sc_time_stamp() + delay_);
}

void HostHal::relax(std::uint64_t cycles) {
    const std::uint64_t start = nowCycles();
    chargeCycles(std::max<std::uint64_t>(cycles, 1));
    sync();
    std::uint64_t handled = 0;
    if (irq_enabled_ && irq_entry_) handled = irq_entry_();
    irq_cycles_ += handled;
    wait_cycles_ += nowCycles() - start - handled;
}

void HostHal::waitForEvent(std::uint64_t max_cycles) {
    if (!timed_ || !sleep_) return relax(max_cycles);
    const std::uint64_t start = nowCycles();
    sync();
    if (events_seen_ == eventsSent())
        sleep_(time_.clock().cycles(std::max<std::uint64_t>(max_cycles, 1)), cpuEvent());
    events_seen_ = eventsSent();
    g_current = this;
    std::uint64_t handled = 0;
    if (irq_enabled_ && irq_entry_) handled = irq_entry_();
    irq_cycles_ += handled;
    wait_cycles_ += nowCycles() - start - handled;
}

void HostHal::sendEvent() {
    sync();
    ++eventsSent();
    cpuEvent().notify(sc_core::SC_ZERO_TIME);
}

void HostHal::setRoot(std::uint64_t root, std::uint16_t asid) {
    TranslationExtension ext;
    ext.op = TranslationExtension::Op::SetRoot;
    ext.core_id = core_id_;
    ext.root = root;
    ext.asid = asid;
    mmu(ext);
}

void HostHal::tlbWrite(std::uint64_t vpn, std::uint64_t ppn, std::uint16_t asid, std::uint8_t level,
                       std::uint8_t flags) {
    TranslationExtension ext;
    ext.op = TranslationExtension::Op::TlbWrite;
    ext.core_id = core_id_;
    ext.va = vpn;
    ext.ppn = ppn;
    ext.asid = asid;
    ext.level = level;
    ext.flags = flags;
    mmu(ext);
}

} // namespace tlmmu

// The C entry points the firmware links against.
extern "C" {
using tlmmu::HostHal;
uint64_t hal_read_phys(hal_paddr_t pa, unsigned bytes) {
    return HostHal::current().readPhys(pa, bytes);
}
void hal_write_phys(hal_paddr_t pa, uint64_t value, unsigned bytes) {
    HostHal::current().writePhys(pa, value, bytes);
}
void hal_zero_frame(hal_paddr_t pa, uint64_t bytes) {
    HostHal::current().zeroFrame(pa, bytes);
}
void hal_copy_frame(hal_paddr_t dst, hal_paddr_t src, uint64_t bytes) {
    HostHal::current().copyFrame(dst, src, bytes);
}
void hal_tlb_invalidate(enum hal_flush_kind kind, uint64_t va, uint16_t asid) {
    // hal_flush_kind and FlushKind list the same kinds in the same order.
    static_assert(HAL_FLUSH_ALL == static_cast<int>(tlmmu::FlushKind::All) &&
                      HAL_FLUSH_ASID == static_cast<int>(tlmmu::FlushKind::Asid) &&
                      HAL_FLUSH_VA == static_cast<int>(tlmmu::FlushKind::Va) &&
                      HAL_FLUSH_VA_ASID == static_cast<int>(tlmmu::FlushKind::VaAsid),
                  "hal_flush_kind must match FlushKind");
    HostHal::current().tlbInvalidate(kind, va, asid);
}
void hal_tlb_invalidate_core(unsigned core, enum hal_flush_kind kind, uint64_t va, uint16_t asid) {
    HostHal::current().tlbInvalidateCore(core, kind, va, asid);
}
void hal_tlb_invalidate_broadcast(enum hal_flush_kind kind, uint64_t va, uint16_t asid) {
    HostHal::current().tlbInvalidateBroadcast(kind, va, asid);
}
void hal_tlb_sync(void) {
    HostHal::current().tlbSync();
}
void hal_set_root(hal_paddr_t root, uint16_t asid) {
    HostHal::current().setRoot(root, asid);
}
void hal_tlb_write(const struct hal_tlb_entry* e) {
    HostHal::current().tlbWrite(e->vpn, e->ppn, e->asid, e->level, e->flags);
}
void hal_charge_cycles(uint64_t cycles) {
    HostHal::current().chargeCycles(cycles);
}
uint64_t hal_atomic_cas(hal_paddr_t pa, uint64_t expected, uint64_t desired, unsigned bytes) {
    return HostHal::current().atomicCas(pa, expected, desired, bytes);
}
uint64_t hal_atomic_fetch_add(hal_paddr_t pa, uint64_t delta, unsigned bytes) {
    return HostHal::current().atomicFetchAdd(pa, delta, bytes);
}
void hal_sync(void) {
    HostHal::current().sync();
}
uint64_t hal_now_cycles(void) {
    return HostHal::current().nowCycles();
}
void hal_relax(uint64_t cycles) {
    HostHal::current().relax(cycles);
}
void hal_wait_for_event(uint64_t max_cycles) {
    HostHal::current().waitForEvent(max_cycles);
}
void hal_send_event(void) {
    HostHal::current().sendEvent();
}
int hal_irq_enable(int enable) {
    return HostHal::current().irqEnable(enable != 0) ? 1 : 0;
}
void hal_trace(enum hal_trace_event event, uint64_t arg) {
    HostHal::current().trace(event, arg);
}
void hal_task_runnable(int tid) {
    HostHal::current().notifyOs(tlmmu::HostHal::OsNotice::TaskRunnable, tid);
}
void hal_mm_released(int pid) {
    HostHal::current().notifyOs(tlmmu::HostHal::OsNotice::MmReleased, pid);
}
void hal_panic(const char* message) {
    throw tlmmu::FirmwarePanic(message);
}
}
