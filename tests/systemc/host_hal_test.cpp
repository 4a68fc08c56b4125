// HostHal's wait for event and send event (hal_wait_for_event / hal_send_event) between two
// cores, to the cycle: ARM's WFE and SEV, with the event register, so that an event sent after a
// waiter looked at a lock word and before it went to sleep is not lost (the waiter's wait then
// returns at once instead of sleeping until its limit). One TEST per process (ScTest).
#include <memory>

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "ScTest.h"
#include "core/HostHal.h"
#include "core/LocalTime.h"

namespace tlmmu::test {
namespace {

// A target that answers every transaction at once (the HAL under test makes none here; its
// sockets must be bound).
struct NullTarget : sc_core::sc_module {
    tlm_utils::simple_target_socket<NullTarget> socket;
    explicit NullTarget(sc_core::sc_module_name n) : sc_module(n), socket("socket") {
        socket.register_b_transport(this, &NullTarget::b_transport);
    }
    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time&) {
        t.set_response_status(tlm::TLM_OK_RESPONSE);
    }
};

// One core's HAL: its sockets, its local time, and the core's sleep (as Core's: until the
// limit or the event).
struct HalCore : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<HalCore> memory_socket, mmu_socket;
    NullTarget memory, mmu;
    LocalTime time;
    HostHal hal;
    HalCore(sc_core::sc_module_name n, const Clock& clock, unsigned id)
        : sc_module(n), memory_socket("memory_socket"), mmu_socket("mmu_socket"), memory("memory"),
          mmu("mmu"), time(clock), hal(memory_socket, mmu_socket, time, id) {
        memory_socket.bind(memory.socket);
        mmu_socket.bind(mmu.socket);
        hal.setSleep([](const sc_core::sc_time& max, const sc_core::sc_event& wake) {
            sc_core::wait(max, wake);
        });
    }
    // Cycles of simulated time (1 GHz: ns).
    static std::uint64_t now() { return sc_core::sc_time_stamp().value() / 1000; }
};

struct Bench {
    Clock clock{1.0};
    HalCore a{"a", clock, 0}, b{"b", clock, 1};
};

// Core b sends an event at cycle 300; core a, after `busy` cycles of its own, waits twice with a
// limit of 1000 cycles. The cycles at which its two waits end.
class HostHalTest : public ScTest {
  protected:
    std::pair<std::uint64_t, std::uint64_t> twoWaitsAfterAnEventAt300(std::uint64_t busy) {
        Bench bench;
        std::uint64_t first = 0, second = 0;
        run([&] {
            bench.a.time.reset();
            bench.b.time.reset();
            sc_core::sc_spawn([&] {
                sc_core::wait(300, sc_core::SC_NS);
                bench.b.hal.sendEvent();
            });
            if (busy) bench.a.hal.chargeCycles(busy); // on a's local time
            bench.a.hal.waitForEvent(1000);
            first = HalCore::now();
            bench.a.hal.waitForEvent(1000);
            second = HalCore::now();
        });
        return {first, second};
    }
};

// Core a waits from cycle 0: it wakes at the event; its next wait, with no event since, lasts
// the full limit.
TEST_F(HostHalTest, WaitForEventEndsAtTheEvent) {
    EXPECT_EQ(twoWaitsAfterAnEventAt300(0), (std::pair<std::uint64_t, std::uint64_t>{300, 1300}));
}

// Core a is still busy when the event comes (it looked at a lock word at cycle 0 and its look
// takes until 500): its wait at 500 returns at once, because the event register was set at 300;
// the next one sleeps the full limit. (Without the register, the first wait would have slept
// until 1500: a lost wake-up.)
TEST_F(HostHalTest, AnEventSentBeforeTheWaitIsNotLost) {
    EXPECT_EQ(twoWaitsAfterAnEventAt300(500), (std::pair<std::uint64_t, std::uint64_t>{500, 1500}));
}

} // namespace
} // namespace tlmmu::test
