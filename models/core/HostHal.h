// The simulator's implementation of abi/hal.h: each call the firmware makes is
// TLM traffic from the core that runs it (data_socket for memory, translate_socket for the
// Mmu's invalidations and root register). Timed while the core runs: the firmware's time is the
// core's own local time (LocalTime), so firmware can synchronise with the other cores (sync())
// and wait in simulated time. Untimed (debug transport, no time) for boot-time work such as
// prefaulting.
#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include <systemc>
#include <tlm>

#include "common/Clock.h"
#include "common/TranslationExtension.h"
#include "core/LocalTime.h"

namespace tlmmu {

struct FirmwarePanic : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class HostHal {
  public:
    // The sockets are used only once bound (at simulation time).
    HostHal(tlm::tlm_initiator_socket<>& memory, tlm::tlm_initiator_socket<>& mmu, LocalTime& time,
            unsigned core_id);

    // Runs fn with this HAL as the one the firmware's hal_* calls reach. Timed: the firmware's
    // traffic advances the core's local time; returns the cycles it took (synchronisations
    // included). Untimed: no time passes, returns 0. hal_panic surfaces as FirmwarePanic.
    std::uint64_t run(const std::function<void()>& fn, bool timed);
    // Inside a timed run: lets simulated time catch up with this core (the other cores see
    // what the firmware did so far, e.g. before it wakes a task on another core).
    void sync();
    unsigned coreId() const { return core_id_; }

    std::uint64_t readPhys(std::uint64_t pa, unsigned bytes);
    void writePhys(std::uint64_t pa, std::uint64_t value, unsigned bytes);
    void zeroFrame(std::uint64_t pa, std::uint64_t bytes);
    void copyFrame(std::uint64_t dst, std::uint64_t src, std::uint64_t bytes);
    void tlbInvalidate(unsigned kind, std::uint64_t va, std::uint16_t asid);
    // Through the InvalidationController at `controller` (its MMIO base; 0: none present).
    void tlbInvalidateCore(unsigned core, unsigned kind, std::uint64_t va, std::uint16_t asid);
    // Posted to every core's Mmu (this one's included); complete after the next tlbSync().
    void tlbInvalidateBroadcast(unsigned kind, std::uint64_t va, std::uint16_t asid);
    // Returns when every broadcast this core issued has reached every Mmu.
    void tlbSync();
    void setInvalidationController(std::uint64_t base) { controller_ = base; }
    void setRoot(std::uint64_t root, std::uint16_t asid);
    void tlbWrite(std::uint64_t vpn, std::uint64_t ppn, std::uint16_t asid, std::uint8_t level,
                  std::uint8_t flags);
    void chargeCycles(std::uint64_t cycles) {
        if (timed_) delay_ += time_.clock().cycles(cycles);
    }
    // Cores that wait on each other (hal.h): atomics, sync, the cycle counter, polling steps.
    std::uint64_t atomicCas(std::uint64_t pa, std::uint64_t expected, std::uint64_t desired,
                            unsigned bytes);
    std::uint64_t atomicFetchAdd(std::uint64_t pa, std::uint64_t delta, unsigned bytes);
    std::uint64_t nowCycles() const;
    std::uint64_t nowPs() const { return time_.clock().cycles(nowCycles()).value(); }
    void relax(std::uint64_t cycles);
    void waitForEvent(std::uint64_t max_cycles);
    void sendEvent();
    // How the core sleeps in waitForEvent: until `max`, the HAL's event, or its interrupt.
    void
    setSleep(std::function<void(const sc_core::sc_time& max, const sc_core::sc_event& wake)> f) {
        sleep_ = std::move(f);
    }
    bool irqEnable(bool enable) {
        const bool was = irq_enabled_;
        irq_enabled_ = enable;
        return was;
    }
    // The core's interrupt entry, called from relax() when an interrupt may be due; it returns
    // the cycles the handler took (0 when none was due).
    void setInterruptEntry(std::function<std::uint64_t()> entry) { irq_entry_ = std::move(entry); }
    // Cycles spent waiting in relax() (interrupt handlers excluded) and in interrupt handlers
    // taken there, since the last call (which resets both): the core accounts them apart.
    std::pair<std::uint64_t, std::uint64_t> takeWaitAndIrqCycles() {
        const auto r = std::make_pair(wait_cycles_, irq_cycles_);
        wait_cycles_ = irq_cycles_ = 0;
        return r;
    }
    // Where hal_trace's marks go (the core's statistics and timeline), with the core's time.
    void setTraceHook(std::function<void(unsigned event, std::uint64_t arg, std::uint64_t now)> f) {
        trace_hook_ = std::move(f);
    }
    // What hal_task_runnable and hal_mm_released reach (the OS, through the core).
    enum class OsNotice { TaskRunnable, MmReleased };
    void setOsHook(std::function<void(OsNotice, int id)> f) { os_hook_ = std::move(f); }
    void notifyOs(OsNotice notice, int id) {
        if (os_hook_) os_hook_(notice, id);
    }
    void trace(unsigned event, std::uint64_t arg) {
        if (trace_hook_) trace_hook_(event, arg, nowCycles());
    }
    // The core's local time while firmware runs (timed), for a nested handler.
    sc_core::sc_time& delay() { return delay_; }
    static HostHal& current();

  private:
    void memory(tlm::tlm_command cmd, std::uint64_t pa, unsigned char* data, std::uint64_t len);
    void mmu(TranslationExtension& ext);
    // The operands and COMMAND of one invalidation controller operation (target: a core or
    // INVAL_TARGET_ALL), and one register write to the controller.
    void invalidationCommand(std::uint64_t target, unsigned kind, std::uint64_t va,
                             std::uint16_t asid);
    void controllerRegister(std::uint64_t offset, std::uint64_t value);
    // One atomic read-modify-write at pa: update(old) is the value to store, or none (a CAS
    // that failed). Returns the old value.
    std::uint64_t
    atomicUpdate(std::uint64_t pa, unsigned bytes, const char* call,
                 const std::function<std::optional<std::uint64_t>(std::uint64_t)>& update);

    tlm::tlm_initiator_socket<>& memory_;
    tlm::tlm_initiator_socket<>& mmu_;
    LocalTime& time_;
    unsigned core_id_;
    bool timed_ = true;
    bool irq_enabled_ = false; // firmware runs masked unless it unmasks (hal_irq_enable)
    std::function<std::uint64_t()> irq_entry_;
    std::function<void(unsigned, std::uint64_t, std::uint64_t)> trace_hook_;
    std::function<void(const sc_core::sc_time&, const sc_core::sc_event&)> sleep_;
    std::function<void(OsNotice, int)> os_hook_;
    std::uint64_t wait_cycles_ = 0, irq_cycles_ = 0;
    std::uint64_t events_seen_ =
        0;                   // hal_send_event calls this core's WFE has seen (its event register)
    sc_core::sc_time delay_; // the core's local time while firmware runs (timed)
    std::vector<unsigned char> buffer_;
    std::uint64_t controller_ = 0;   // InvalidationController's MMIO base, 0 = none
    tlm::tlm_generic_payload trans_; // reused: a payload allocates its extension array
};

} // namespace tlmmu
