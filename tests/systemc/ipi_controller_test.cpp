// IpiController (models/irq): the registers of abi/ipi_controller.h behind an
// interconnect, with fake interrupt inputs that record every raise(). Times are checked to the
// picosecond: a SEND reaching the controller at T raises exactly the cores of TARGETS at
// T + latency, PENDING shows a vector from its delivery time on (the reader's local time, not
// simulated time), CLEAR acknowledges and raises again for what is left, bad accesses are TLM
// errors that are counted and send nothing, fault injection drops deliveries deterministically.
#include <gtest/gtest.h>
#include <systemc>
#include <tlm>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "interconnect/Interconnect.h"
#include "ipi_controller.h"
#include "irq/IpiController.h"
#include "systemc/ScTest.h"
#include "systemc/TlmTestUtil.h"
#include "workload/Random.h"

namespace tlmmu::test {
namespace {

using IpiControllerTest = ScTest;

constexpr unsigned kCores = 4, kIc = 5, kLatency = 40;
constexpr std::uint64_t kPs = 1000; // ps per cycle at 1 GHz
constexpr std::uint64_t kHopPs = kIc * kPs, kLatencyPs = kLatency * kPs;
constexpr Addr kIpi = 0x2'0000'0000;

sc_core::sc_time ps(std::uint64_t v) {
    return sc_core::sc_time::from_value(v);
}

// An interrupt input that records the time of every raise(), in ps.
struct FakeInput : InterruptInput {
    std::vector<std::uint64_t> raises;
    void raise(const sc_core::sc_time& at) override { raises.push_back(at.value()); }
};

using Times = std::vector<std::uint64_t>;

// cpu -> ic (kIc cycles) -> ipi registers at kIpi; core i's input is inputs[i]. 1 GHz clock.
struct Bench {
    Clock clock{1.0};
    Initiator cpu{"cpu"};
    Interconnect ic{"ic", kIc, clock};
    IpiController ipi;
    std::vector<FakeInput> inputs;
    Stats stats;
    explicit Bench(unsigned cores = kCores, double drop = 0.0, std::uint64_t seed = 1)
        : ipi("ipi", cores, kLatency, drop, seed, clock), inputs(cores) {
        cpu.socket.bind(ic.target_socket);
        ic.initiator_socket.bind(ipi.register_socket);
        ic.map(kIpi, IPI_REG_BYTES, 0, "ipi");
        for (unsigned c = 0; c < cores; ++c)
            ipi.connect(c, inputs[c]);
        ipi.registerStats(stats, "ipi");
    }
    nlohmann::json stat(const std::string& path) { return stats.toJson().at(Stats::pointer(path)); }
    std::uint64_t counter(const std::string& path) { return stat(path).get<std::uint64_t>(); }
    // The initiator's delay that makes an access reach the controller at `at_ps` (after the hop).
    sc_core::sc_time delayFor(std::uint64_t at_ps) {
        const std::uint64_t now = sc_core::sc_time_stamp().value();
        EXPECT_GE(at_ps, now + kHopPs) << "the access cannot reach the controller that early";
        return ps(at_ps - now - kHopPs);
    }
    // A write reaching the controller at at_ps; `added` gets what the access added to the delay.
    tlm::tlm_response_status write(std::uint64_t reg, std::uint64_t value, std::uint64_t at_ps,
                                   unsigned len = 8, sc_core::sc_time* added = nullptr) {
        sc_core::sc_time delay = delayFor(at_ps);
        const sc_core::sc_time before = delay;
        const tlm::tlm_response_status s = cpu.write(kIpi + reg, value, delay, len);
        if (added) *added = delay - before;
        return s;
    }
    void ok(std::uint64_t reg, std::uint64_t value, std::uint64_t at_ps) {
        EXPECT_EQ(write(reg, value, at_ps), tlm::TLM_OK_RESPONSE)
            << "register 0x" << std::hex << reg << " value 0x" << value;
    }
    // TARGETS(from) = mask and SEND(from) = vector, the SEND reaching the controller at at_ps.
    void send(unsigned from, std::uint64_t mask, unsigned vector, std::uint64_t at_ps) {
        ok(IPI_REG_TARGETS(from), mask, at_ps);
        ok(IPI_REG_SEND(from), vector, at_ps);
    }
    tlm::tlm_response_status read(std::uint64_t reg, std::uint64_t& value, std::uint64_t at_ps,
                                  unsigned len = 8) {
        sc_core::sc_time delay = delayFor(at_ps);
        return cpu.read(kIpi + reg, value, delay, len);
    }
    // PENDING(core) as read by an access reaching the controller at at_ps.
    std::uint64_t pendingAt(unsigned core, std::uint64_t at_ps) {
        std::uint64_t v = 0;
        EXPECT_EQ(read(IPI_REG_PENDING(core), v, at_ps), tlm::TLM_OK_RESPONSE);
        return v;
    }
    std::uint64_t totalRaises() {
        std::uint64_t n = 0;
        for (const FakeInput& in : inputs)
            n += in.raises.size();
        return n;
    }
};

TEST_F(IpiControllerTest, RegistersResetReadBackAndCostOnlyTheHop) {
    Bench b;
    run([&] {
        for (unsigned c = 0; c < kCores; ++c) {
            EXPECT_EQ(b.cpu.read64(kIpi + IPI_REG_TARGETS(c)), 0u);
            EXPECT_EQ(b.cpu.read64(kIpi + IPI_REG_SEND(c)), 0u);
            EXPECT_EQ(b.cpu.read64(kIpi + IPI_REG_PENDING(c)), 0u);
        }
        sc_core::sc_time added;
        EXPECT_EQ(b.write(IPI_REG_TARGETS(2), 0b1011, 10 * kPs, 8, &added), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(added, ps(kHopPs));
        EXPECT_EQ(b.cpu.read64(kIpi + IPI_REG_TARGETS(2)), 0b1011u);
        EXPECT_EQ(b.cpu.read64(kIpi + IPI_REG_TARGETS(1)), 0u);
        // SEND is posted: the write costs the interconnect's hop and nothing more; it reads 0.
        EXPECT_EQ(b.write(IPI_REG_SEND(2), 5, 20 * kPs, 8, &added), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(added, ps(kHopPs));
        EXPECT_EQ(b.cpu.read64(kIpi + IPI_REG_SEND(2)), 0u);
        EXPECT_EQ(b.write(IPI_REG_CLEAR(0), ~0ull, 30 * kPs, 8, &added), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(added, ps(kHopPs));
        // Debug access: TARGETS and PENDING read; a debug write to an acting register is refused.
        std::uint64_t v = 0;
        EXPECT_EQ(b.cpu.debug(tlm::TLM_READ_COMMAND, kIpi + IPI_REG_TARGETS(2), v), 8u);
        EXPECT_EQ(v, 0b1011u);
        v = 1;
        EXPECT_EQ(b.cpu.debug(tlm::TLM_WRITE_COMMAND, kIpi + IPI_REG_SEND(2), v), 0u);
        EXPECT_EQ(b.ipi.registers().errors(), 1u);
        EXPECT_EQ(b.counter("ipi.sent"), 3u); // the timed SEND only
    });
}

TEST_F(IpiControllerTest, SendRaisesExactlyTheMaskAtSendTimePlusLatency) {
    Bench b;
    run([&] {
        // Core 0 sends to cores 1 and 3; the SEND reaches the controller at a local time that
        // is not a whole cycle, ahead of simulated time (temporal decoupling).
        const std::uint64_t t1 = 100'123;
        b.send(0, 0b1010, IPI_VECTOR_SHOOTDOWN, t1);
        EXPECT_EQ(b.inputs[1].raises, (Times{t1 + kLatencyPs}));
        EXPECT_EQ(b.inputs[3].raises, (Times{t1 + kLatencyPs}));
        EXPECT_TRUE(b.inputs[0].raises.empty());
        EXPECT_TRUE(b.inputs[2].raises.empty());
        EXPECT_EQ(sc_core::sc_time_stamp(), sc_core::SC_ZERO_TIME); // raised at once, no wait
        EXPECT_EQ(b.ipi.latency(), ps(kLatencyPs));
        // Later in simulated time, from core 3 to core 2 only, with another vector.
        sc_core::wait(sc_core::sc_time(1, sc_core::SC_US));
        const std::uint64_t t2 = 1'000'000 + kHopPs + 777;
        b.send(3, 0b0100, IPI_VECTOR_RESCHEDULE, t2);
        EXPECT_EQ(b.inputs[2].raises, (Times{t2 + kLatencyPs}));
        EXPECT_EQ(b.inputs[1].raises.size(), 1u);
        EXPECT_EQ(b.inputs[3].raises.size(), 1u);
        EXPECT_TRUE(b.inputs[0].raises.empty());
        // A core may send to itself.
        const std::uint64_t t3 = 2'000'000;
        b.send(2, 0b0100, 9, t3);
        EXPECT_EQ(b.inputs[2].raises, (Times{t2 + kLatencyPs, t3 + kLatencyPs}));
        EXPECT_EQ(b.pendingAt(2, t3 + kLatencyPs), (1u << IPI_VECTOR_RESCHEDULE) | (1u << 9));
        EXPECT_EQ(b.pendingAt(1, t3), 1u << IPI_VECTOR_SHOOTDOWN);
        EXPECT_EQ(b.pendingAt(3, t3), 1u << IPI_VECTOR_SHOOTDOWN);
        EXPECT_EQ(b.pendingAt(0, t3), 0u);
    });
}

TEST_F(IpiControllerTest, PendingShowsOnlyWhatIsDeliveredByTheReadersLocalTime) {
    Bench b;
    run([&] {
        const std::uint64_t t = 10'000, d = t + kLatencyPs;
        b.send(0, 0b0100, IPI_VECTOR_RESCHEDULE, t);
        EXPECT_EQ(b.pendingAt(2, d - 1), 0u); // one ps early: not yet
        EXPECT_EQ(b.pendingAt(2, d), 1u << IPI_VECTOR_RESCHEDULE);
        EXPECT_EQ(b.pendingAt(2, d + 1'000'000), 1u << IPI_VECTOR_RESCHEDULE);
        EXPECT_EQ(b.pendingAt(2, d - 1), 0u); // reads have no side effect, in any order
        for (unsigned c : {0u, 1u, 3u})
            EXPECT_EQ(b.pendingAt(c, d + 1'000'000), 0u) << "core " << c;
        EXPECT_EQ(b.ipi.pending(2, ps(d)), 1u << IPI_VECTOR_RESCHEDULE);
        EXPECT_EQ(b.ipi.pending(2, ps(d - 1)), 0u);
        // Debug reads see simulated time.
        std::uint64_t v = 7;
        EXPECT_EQ(b.cpu.debug(tlm::TLM_READ_COMMAND, kIpi + IPI_REG_PENDING(2), v), 8u);
        EXPECT_EQ(v, 0u);
        sc_core::wait(ps(d));
        EXPECT_EQ(b.cpu.debug(tlm::TLM_READ_COMMAND, kIpi + IPI_REG_PENDING(2), v), 8u);
        EXPECT_EQ(v, 1u << IPI_VECTOR_RESCHEDULE);
        EXPECT_EQ(b.ipi.registers().errors(), 0u);
    });
}

TEST_F(IpiControllerTest, ClearAcknowledgesAndRaisesAgainForWhatIsLeft) {
    Bench b;
    run([&] {
        // Three deliveries to core 2: vector 0 at 50 ns (from core 0), vector 0 again at 70 ns
        // and vector 1 at 75 ns (from core 1).
        b.send(0, 0b0100, 0, 10'000);
        b.send(1, 0b0100, 0, 30'000);
        b.ok(IPI_REG_SEND(1), 1, 35'000);
        EXPECT_EQ(b.inputs[2].raises, (Times{50'000, 70'000, 75'000}));
        EXPECT_EQ(b.pendingAt(2, 60'000), 1u);
        // The handler acknowledges vector 0 at 60 ns: the delivery at 50 ns goes; the one at
        // 70 ns is still to come, so the input is raised again for it.
        b.ok(IPI_REG_CLEAR(2), 1, 60'000);
        EXPECT_EQ(b.inputs[2].raises, (Times{50'000, 70'000, 75'000, 70'000}));
        EXPECT_EQ(b.pendingAt(2, 65'000), 0u);
        EXPECT_EQ(b.pendingAt(2, 70'000), 1u);
        EXPECT_EQ(b.pendingAt(2, 75'000), 3u);
        // Clearing vector 1 only at 80 ns leaves vector 0 pending: raised again at once.
        b.ok(IPI_REG_CLEAR(2), 2, 80'000);
        EXPECT_EQ(b.inputs[2].raises, (Times{50'000, 70'000, 75'000, 70'000, 80'000}));
        EXPECT_EQ(b.pendingAt(2, 80'000), 1u);
        // Clearing the rest: nothing left, no raise.
        b.ok(IPI_REG_CLEAR(2), 1, 90'000);
        EXPECT_EQ(b.inputs[2].raises.size(), 5u);
        EXPECT_EQ(b.pendingAt(2, 90'000), 0u);
        EXPECT_EQ(b.pendingAt(2, 10'000'000), 0u);
        // A CLEAR with nothing pending, or of another core's bits, does nothing.
        b.ok(IPI_REG_CLEAR(3), ~0ull, 100'000);
        EXPECT_EQ(b.totalRaises(), 5u);
        EXPECT_EQ(b.counter("cores[2].ipi.received"), 3u);
    });
}

TEST_F(IpiControllerTest, TwoSendersToOneTarget) {
    Bench b;
    run([&] {
        // Core 3 sends vector 1 at 20 ns; then core 0, which is behind in simulated time,
        // sends vector 0 at 12.345 ns. Both are delivered at their own times.
        b.send(3, 0b0010, 1, 20'000);
        b.send(0, 0b0010, 0, 12'345);
        EXPECT_EQ(b.inputs[1].raises, (Times{60'000, 52'345}));
        EXPECT_EQ(b.pendingAt(1, 52'344), 0u);
        EXPECT_EQ(b.pendingAt(1, 52'345), 1u);
        EXPECT_EQ(b.pendingAt(1, 59'999), 1u);
        EXPECT_EQ(b.pendingAt(1, 60'000), 3u);
        // The same vector from both at the same time: one bit, two deliveries.
        b.ok(IPI_REG_SEND(0), 5, 100'000);
        b.ok(IPI_REG_SEND(3), 5, 100'000);
        EXPECT_EQ(b.inputs[1].raises, (Times{60'000, 52'345, 140'000, 140'000}));
        EXPECT_EQ(b.pendingAt(1, 140'000), 3u | (1u << 5));
        b.ok(IPI_REG_CLEAR(1), 3u | (1u << 5), 200'000);
        EXPECT_EQ(b.pendingAt(1, 200'000), 0u);
        EXPECT_EQ(b.inputs[1].raises.size(), 4u); // nothing left: no raise
        EXPECT_EQ(b.totalRaises(), 4u);
        EXPECT_EQ(b.counter("cores[0].ipi.sent"), 2u);
        EXPECT_EQ(b.counter("cores[3].ipi.sent"), 2u);
        EXPECT_EQ(b.counter("cores[1].ipi.sent"), 0u);
        EXPECT_EQ(b.counter("cores[1].ipi.received"), 4u);
        EXPECT_EQ(b.counter("cores[0].ipi.received"), 0u);
        EXPECT_EQ(b.counter("ipi.sent"), 4u);
        EXPECT_EQ(b.counter("ipi.delivered"), 4u);
    });
}

TEST_F(IpiControllerTest, BadAccessesAreTlmErrorsCountedAndSendNothing) {
    Bench b;
    run([&] {
        b.ok(IPI_REG_TARGETS(0), 0b0100, 10'000);
        // A mask naming core 4 of 4: refused, TARGETS keeps its value.
        EXPECT_EQ(b.write(IPI_REG_TARGETS(0), 0b1'0100, 10'000), tlm::TLM_GENERIC_ERROR_RESPONSE);
        EXPECT_EQ(b.stat("ipi.last_access_error"),
                  "ipi: write of 8 bytes at offset 0x0: register TARGETS[0] refused 0x14: core 4 "
                  "does not exist (4 cores) (TLM_GENERIC_ERROR_RESPONSE)");
        EXPECT_EQ(b.cpu.read64(kIpi + IPI_REG_TARGETS(0)), 0b0100u);
        EXPECT_EQ(b.write(IPI_REG_TARGETS(1), 1ull << 63, 10'000), tlm::TLM_GENERIC_ERROR_RESPONSE);
        // Vector 64.
        EXPECT_EQ(b.write(IPI_REG_SEND(0), 64, 10'000), tlm::TLM_GENERIC_ERROR_RESPONSE);
        EXPECT_EQ(b.stat("ipi.last_access_error"),
                  "ipi: write of 8 bytes at offset 0x200: register SEND[0] refused 0x40: vector 64 "
                  "(0 to 63) (TLM_GENERIC_ERROR_RESPONSE)");
        // A SEND with no target.
        EXPECT_EQ(b.write(IPI_REG_SEND(1), 0, 10'000), tlm::TLM_GENERIC_ERROR_RESPONSE);
        EXPECT_EQ(b.stat("ipi.last_access_error"),
                  "ipi: write of 8 bytes at offset 0x208: register SEND[1] refused 0x0: "
                  "TARGETS[1] is empty: no core to send to (TLM_GENERIC_ERROR_RESPONSE)");
        // Registers of a core that does not exist, holes, misaligned offsets.
        std::uint64_t v = 0;
        EXPECT_EQ(b.write(IPI_REG_TARGETS(4), 1, 10'000), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(b.stat("ipi.last_access_error"),
                  "ipi: write of 8 bytes at offset 0x20: no register at this offset "
                  "(TLM_ADDRESS_ERROR_RESPONSE)");
        EXPECT_EQ(b.write(IPI_REG_SEND(4), 0, 10'000), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(b.read(IPI_REG_PENDING(63), v, 10'000), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(b.write(IPI_REG_SEND(0) + 4, 0, 10'000, 4), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        // Not 8 bytes.
        EXPECT_EQ(b.write(IPI_REG_SEND(0), 0, 10'000, 4), tlm::TLM_BURST_ERROR_RESPONSE);
        EXPECT_EQ(b.stat("ipi.last_access_error"),
                  "ipi: write of 4 bytes at offset 0x200: register SEND[0] is 8 bytes "
                  "(TLM_BURST_ERROR_RESPONSE)");
        EXPECT_EQ(b.read(IPI_REG_PENDING(0), v, 10'000, 4), tlm::TLM_BURST_ERROR_RESPONSE);
        // PENDING is read-only, CLEAR write-only.
        EXPECT_EQ(b.write(IPI_REG_PENDING(2), 1, 10'000), tlm::TLM_COMMAND_ERROR_RESPONSE);
        EXPECT_EQ(b.read(IPI_REG_CLEAR(2), v, 10'000), tlm::TLM_COMMAND_ERROR_RESPONSE);
        EXPECT_EQ(b.counter("ipi.access_errors"), 12u);
        // Nothing was sent, nothing raised, nothing pending.
        EXPECT_EQ(b.totalRaises(), 0u);
        EXPECT_EQ(b.counter("ipi.sent"), 0u);
        EXPECT_EQ(b.counter("ipi.delivered"), 0u);
        for (unsigned c = 0; c < kCores; ++c) {
            EXPECT_EQ(b.pendingAt(c, 10'000'000), 0u) << "core " << c;
            EXPECT_EQ(b.counter("cores[" + std::to_string(c) + "].ipi.sent"), 0u);
        }
        // Past the window: the interconnect's error, not the controller's.
        EXPECT_EQ(b.read(IPI_REG_BYTES, v, 10'000), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(b.counter("ipi.access_errors"), 12u);
        // The boundary values work: vector 63 to the last core.
        b.send(0, 0b1000, 63, 20'000);
        EXPECT_EQ(b.inputs[3].raises, (Times{60'000}));
        EXPECT_EQ(b.pendingAt(3, 60'000), 1ull << 63);
        EXPECT_EQ(b.counter("ipi.access_errors"), 12u);
    });
}

TEST_F(IpiControllerTest, DropProbabilityOneDropsEverything) {
    Bench b(kCores, 1.0);
    run([&] {
        b.ok(IPI_REG_TARGETS(0), 0b1110, 10'000);
        for (unsigned i = 0; i < 10; ++i)
            b.ok(IPI_REG_SEND(0), i, 10'000 + i * 1000); // posted and OK: the loss is silent
        EXPECT_EQ(b.totalRaises(), 0u);
        for (unsigned c = 0; c < kCores; ++c)
            EXPECT_EQ(b.pendingAt(c, 10'000'000), 0u) << "core " << c;
        EXPECT_EQ(b.counter("ipi.sent"), 30u);
        EXPECT_EQ(b.counter("ipi.dropped"), 30u);
        EXPECT_EQ(b.counter("ipi.delivered"), 0u);
        EXPECT_EQ(b.counter("cores[0].ipi.sent"), 30u);
        EXPECT_EQ(b.counter("cores[1].ipi.received"), 0u);
        EXPECT_EQ(b.counter("ipi.access_errors"), 0u);
    });
}

TEST_F(IpiControllerTest, DropProbabilityZeroDropsNothing) {
    Bench b(kCores, 0.0);
    run([&] {
        b.ok(IPI_REG_TARGETS(0), 0b1110, 10'000);
        for (unsigned i = 0; i < 10; ++i)
            b.ok(IPI_REG_SEND(0), i, 10'000 + i * 1000);
        for (unsigned c = 1; c < kCores; ++c) {
            EXPECT_EQ(b.inputs[c].raises.size(), 10u) << "core " << c;
            EXPECT_EQ(b.pendingAt(c, 10'000'000), 0x3ffu) << "core " << c;
            EXPECT_EQ(b.counter("cores[" + std::to_string(c) + "].ipi.received"), 10u);
        }
        EXPECT_TRUE(b.inputs[0].raises.empty());
        EXPECT_EQ(b.counter("ipi.sent"), 30u);
        EXPECT_EQ(b.counter("ipi.dropped"), 0u);
        EXPECT_EQ(b.counter("ipi.delivered"), 30u);
    });
}

// Three controllers in one elaboration (seeds 42, 42, 43), each driven directly (no
// interconnect) with the same 100 SENDs to cores 1-3 at drop probability 0.5.
TEST_F(IpiControllerTest, HalfDropsAreDeterministicForASeed) {
    struct Unit {
        Initiator cpu;
        IpiController ipi;
        std::vector<FakeInput> inputs{kCores};
        Stats stats;
        Unit(const std::string& n, std::uint64_t seed, const Clock& clock)
            : cpu((n + "_cpu").c_str()),
              ipi((n + "_ipi").c_str(), kCores, kLatency, 0.5, seed, clock) {
            cpu.socket.bind(ipi.register_socket);
            for (unsigned c = 0; c < kCores; ++c)
                ipi.connect(c, inputs[c]);
            ipi.registerStats(stats, "ipi");
        }
        // Whether each (send, target) delivery arrived, in send order then target order.
        std::vector<bool> pattern(unsigned sends) const {
            std::vector<bool> p;
            for (unsigned i = 0; i < sends; ++i)
                for (unsigned t = 1; t < kCores; ++t) {
                    const std::uint64_t at = (i + 1) * 1000 + kLatencyPs;
                    unsigned n = 0;
                    for (std::uint64_t r : inputs[t].raises)
                        n += r == at;
                    p.push_back(n == 1);
                }
            return p;
        }
    };
    Clock clock{1.0};
    Unit a("a", 42, clock), b("b", 42, clock), c("c", 43, clock);
    constexpr unsigned kSends = 100;
    run([&] {
        for (Unit* u : {&a, &b, &c}) {
            sc_core::sc_time delay;
            ASSERT_EQ(u->cpu.write(IPI_REG_TARGETS(0), 0b1110, delay), tlm::TLM_OK_RESPONSE);
            for (unsigned i = 0; i < kSends; ++i) {
                delay = ps((i + 1) * 1000);
                ASSERT_EQ(u->cpu.write(IPI_REG_SEND(0), i % 64, delay), tlm::TLM_OK_RESPONSE);
            }
        }
        // One draw per delivery, in send order and then ascending target order.
        Xoshiro256ss rng(42);
        std::vector<bool> expected;
        unsigned kept = 0;
        for (unsigned i = 0; i < kSends * (kCores - 1); ++i) {
            expected.push_back(!(rng.nextDouble() < 0.5));
            kept += expected.back();
        }
        EXPECT_EQ(a.pattern(kSends), expected);
        EXPECT_EQ(b.pattern(kSends), expected);
        EXPECT_NE(c.pattern(kSends), expected);
        EXPECT_GT(kept, 120u); // about half of 300
        EXPECT_LT(kept, 180u);
        const auto count = [](Unit& u, const char* path) {
            return u.stats.toJson().at(Stats::pointer(path)).get<std::uint64_t>();
        };
        EXPECT_EQ(count(a, "ipi.delivered"), kept);
        EXPECT_EQ(count(a, "ipi.dropped"), kSends * (kCores - 1) - kept);
        EXPECT_EQ(count(b, "ipi.dropped"), count(a, "ipi.dropped"));
        EXPECT_EQ(count(c, "ipi.delivered") + count(c, "ipi.dropped"), kSends * (kCores - 1));
        EXPECT_EQ(count(a, "cores[0].ipi.sent"), kSends * (kCores - 1));
        EXPECT_EQ(count(a, "cores[1].ipi.received") + count(a, "cores[2].ipi.received") +
                      count(a, "cores[3].ipi.received"),
                  kept);
    });
}

TEST_F(IpiControllerTest, StatsUnderTheCallersCorePrefixes) {
    Clock clock{1.0};
    Initiator cpu{"cpu"};
    IpiController ipi{"irq", 2, kLatency, 0.0, 1, clock};
    FakeInput in0;
    Stats stats;
    cpu.socket.bind(ipi.register_socket);
    ipi.connect(0, in0); // core 1 left unconnected: its vectors are pending, nothing is raised
    ipi.registerStats(stats, "soc.ipi",
                      [](unsigned i) { return "soc.cpu[" + std::to_string(i) + "]"; });
    run([&] {
        const auto stat = [&](const char* path) { return stats.toJson().at(Stats::pointer(path)); };
        EXPECT_EQ(stat("soc.ipi.last_access_error"), "");
        sc_core::sc_time delay;
        EXPECT_EQ(cpu.write(IPI_REG_TARGETS(0), 0b11, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(cpu.write(IPI_REG_SEND(0), 3, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(delay, sc_core::SC_ZERO_TIME); // the controller itself adds nothing
        EXPECT_EQ(in0.raises, (Times{kLatencyPs}));
        EXPECT_EQ(ipi.pending(1, ps(kLatencyPs)), 1u << 3);
        EXPECT_EQ(cpu.write(IPI_REG_TARGETS(1), 0b100, delay), tlm::TLM_GENERIC_ERROR_RESPONSE);
        EXPECT_EQ(stat("soc.cpu[0].ipi.sent"), 2u);
        EXPECT_EQ(stat("soc.cpu[0].ipi.received"), 1u);
        EXPECT_EQ(stat("soc.cpu[1].ipi.sent"), 0u);
        EXPECT_EQ(stat("soc.cpu[1].ipi.received"), 1u);
        EXPECT_EQ(stat("soc.ipi.sent"), 2u);
        EXPECT_EQ(stat("soc.ipi.delivered"), 2u);
        EXPECT_EQ(stat("soc.ipi.dropped"), 0u);
        EXPECT_EQ(stat("soc.ipi.access_errors"), 1u);
        EXPECT_EQ(stat("soc.ipi.last_access_error"),
                  "irq: write of 8 bytes at offset 0x8: register TARGETS[1] refused 0x4: core 2 "
                  "does not exist (2 cores) (TLM_GENERIC_ERROR_RESPONSE)");
    });
}

TEST_F(IpiControllerTest, SixtyFourCores) {
    Bench b(IpiController::kMaxCores);
    run([&] {
        b.send(5, ~0ull, 7, 10'000); // every core, the sender included
        for (unsigned c = 0; c < 64; ++c) {
            EXPECT_EQ(b.inputs[c].raises, (Times{50'000})) << "core " << c;
            EXPECT_EQ(b.counter("cores[" + std::to_string(c) + "].ipi.received"), 1u);
        }
        EXPECT_EQ(b.pendingAt(63, 50'000), 1u << 7);
        EXPECT_EQ(b.counter("cores[5].ipi.sent"), 64u);
        EXPECT_EQ(b.counter("ipi.sent"), 64u);
        // The last core's registers are the last ones of the window.
        b.ok(IPI_REG_CLEAR(63), 1u << 7, 60'000);
        EXPECT_EQ(b.pendingAt(63, 60'000), 0u);
        EXPECT_EQ(IPI_REG_CLEAR(63) + 8, IPI_REG_BYTES);
    });
}

// A core that is sent IPIs and never acknowledges them: the deliveries that took place are
// folded (one per vector, the earliest), so the queue stays bounded and every read is the same.
TEST_F(IpiControllerTest, AnUnacknowledgedCoreKeepsABoundedQueue) {
    Bench b;
    run([&] {
        b.ok(IPI_REG_TARGETS(0), 0b0010, kHopPs);
        std::size_t most = 0;
        for (unsigned i = 0; i < 1000; ++i) {
            sc_core::wait(sc_core::sc_time(10, sc_core::SC_NS));
            const std::uint64_t now = sc_core::sc_time_stamp().value();
            b.ok(IPI_REG_SEND(0), i % 8, now + kHopPs);
            most = std::max(most, b.ipi.queued(1));
        }
        EXPECT_LE(most, 256u);
        EXPECT_EQ(b.inputs[1].raises.size(), 1000u);
        EXPECT_EQ(b.counter("cores[1].ipi.received"), 1000u);
        // First delivery (vector 0) at 10 + 5 + 40 ns, vector 1 ten ns later: still exact.
        EXPECT_EQ(b.ipi.pending(1, ps(55'000)), 1u);
        EXPECT_EQ(b.ipi.pending(1, ps(64'999)), 1u);
        EXPECT_EQ(b.ipi.pending(1, ps(65'000)), 3u);
        const std::uint64_t last = 10'000'000 + kHopPs + kLatencyPs; // vector 7
        EXPECT_EQ(b.pendingAt(1, last - 1), 0x7fu | 0x80u); // vector 7 was delivered before too
        b.ok(IPI_REG_CLEAR(1), 0x7f, last - 1);     // vector 7's last delivery is still to come
        EXPECT_EQ(b.pendingAt(1, last - 1), 0x80u); // its earlier ones were not cleared
        b.ok(IPI_REG_CLEAR(1), 0xff, last - 1);
        EXPECT_EQ(b.pendingAt(1, last - 1), 0u);
        EXPECT_EQ(b.pendingAt(1, last), 0x80u);
        EXPECT_EQ(b.ipi.queued(1), 1u);
        b.ok(IPI_REG_CLEAR(1), 0xff, last);
        EXPECT_EQ(b.ipi.queued(1), 0u);
    });
}

TEST_F(IpiControllerTest, ImpossibleParametersAreRefusedAtConstruction) {
    Clock clock{1.0};
    EXPECT_THROW(IpiController("none", 0, 1, 0.0, 1, clock), std::invalid_argument);
    EXPECT_THROW(IpiController("many", 65, 1, 0.0, 1, clock), std::invalid_argument);
    EXPECT_THROW(IpiController("above", 2, 1, 1.5, 1, clock), std::invalid_argument);
    EXPECT_THROW(IpiController("below", 2, 1, -0.1, 1, clock), std::invalid_argument);
    EXPECT_THROW(IpiController("nan", 2, 1, std::numeric_limits<double>::quiet_NaN(), 1, clock),
                 std::invalid_argument);
    Initiator cpu("cpu");
    IpiController ipi("ipi", 2, 1, 0.0, 1, clock);
    cpu.socket.bind(ipi.register_socket);
    FakeInput in;
    EXPECT_THROW(ipi.connect(2, in), std::out_of_range);
    EXPECT_NO_THROW(ipi.connect(1, in));
    run([&] {
        EXPECT_EQ(ipi.cores(), 2u);
        sc_core::sc_time delay;
        EXPECT_EQ(cpu.write(IPI_REG_TARGETS(0), 0b10, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(cpu.write(IPI_REG_SEND(0), 0, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(in.raises, (Times{kPs})); // 1 cycle
    });
}

} // namespace
} // namespace tlmmu::test
