// Interconnect (models/interconnect): routing by address map with the offset relative to the
// target's base, latency added to the annotation, errors outside the map, debug and DMI paths.
#include <gtest/gtest.h>
#include <systemc>
#include <tlm>

#include "interconnect/Interconnect.h"
#include "memory/Memory.h"
#include "systemc/ScTest.h"
#include "systemc/TlmTestUtil.h"

namespace tlmmu::test {
namespace {

using InterconnectTest = ScTest;

// cpu -> ic (10 cycles) -> mem (100 cycles + 1 per 64 bytes) at 0x1000'0000, and a second,
// small memory (a stand-in for any other target) on port 1 at 0x20'0000'0000.
struct Bench {
    Clock clock{2.0}; // 500 ps
    MemoryConfig mc{std::uint64_t{64} << 30, 100, 64};
    MemoryConfig small_mc{4096, 3, 8};
    Initiator cpu{"cpu"};
    Interconnect ic{"ic", 10, clock};
    Memory mem{"mem", mc, clock};
    Memory small{"small", small_mc, clock};
    Stats stats;
    Bench() {
        cpu.socket.bind(ic.target_socket);
        ic.initiator_socket.bind(mem.target_socket);
        ic.initiator_socket.bind(small.target_socket);
        ic.map(0x1000'0000, mc.size, 0, "memory");
        ic.map(0x20'0000'0000, small_mc.size, 1, "small");
        ic.registerStats(stats, "ic");
    }
    std::uint64_t stat(const char* path) { return stats.toJson().at(Stats::pointer(path)); }
};

TEST_F(InterconnectTest, RoutesWithBaseOffsetAndAddsLatency) {
    Bench b;
    run([&] {
        sc_core::sc_time delay = sc_core::sc_time(1, sc_core::SC_NS); // annotation is added to
        std::uint64_t v = 0x1122334455667788;
        EXPECT_EQ(b.cpu.access(tlm::TLM_WRITE_COMMAND, 0x1000'0000 + 0x2000, v, 8, delay),
                  tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(delay, sc_core::sc_time(1, sc_core::SC_NS) + b.clock.cycles(110));
        std::uint64_t r = 0;
        delay = sc_core::SC_ZERO_TIME;
        EXPECT_EQ(b.cpu.access(tlm::TLM_READ_COMMAND, 0x1000'2000, r, 8, delay),
                  tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(r, v);
        EXPECT_EQ(delay, b.clock.cycles(110));
        std::uint8_t byte = 0;
        b.mem.storage().read(0x2000, &byte, 1); // the memory saw the offset within its region
        EXPECT_EQ(byte, 0x88);
        // The original address is restored for the initiator.
        tlm::tlm_generic_payload t;
        Initiator::prepare(t, tlm::TLM_READ_COMMAND, 0x1000'2000, &r, 8);
        b.cpu.socket->b_transport(t, delay);
        EXPECT_EQ(t.get_address(), 0x1000'2000u);
    });
}

TEST_F(InterconnectTest, EachRegionReachesItsOwnTargetAndIsCounted) {
    Bench b;
    run([&] {
        sc_core::sc_time delay;
        EXPECT_EQ(b.cpu.write(0x20'0000'0ff8, 0xabcdef, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(delay, b.clock.cycles(10 + 3)); // the small memory's own latency
        std::uint64_t v = 0;
        b.small.storage().read(0xff8, reinterpret_cast<std::uint8_t*>(&v), 8);
        EXPECT_EQ(v, 0xabcdefu);
        EXPECT_EQ(b.mem.storage().pagesAllocated(), 0u);
        EXPECT_EQ(b.cpu.read64(0x1000'0000), 0u);
        EXPECT_EQ(b.stat("ic.transactions"), 2u);
        EXPECT_EQ(b.stat("ic.targets.small"), 1u);
        EXPECT_EQ(b.stat("ic.targets.memory"), 1u);
        EXPECT_EQ(b.stat("ic.address_errors"), 0u);
    });
}

TEST_F(InterconnectTest, OutOfMapIsAddressError) {
    Bench b;
    run([&] {
        sc_core::sc_time delay;
        std::uint64_t v = 0;
        EXPECT_EQ(b.cpu.access(tlm::TLM_READ_COMMAND, 0x0fff'fff8, v, 8, delay),
                  tlm::TLM_ADDRESS_ERROR_RESPONSE);
        // Straddling the end of the region is an error too.
        EXPECT_EQ(b.cpu.access(tlm::TLM_READ_COMMAND, 0x1000'0000 + b.mc.size - 4, v, 8, delay),
                  tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(b.cpu.access(tlm::TLM_WRITE_COMMAND, 0x20'0000'1000, v, 8, delay),
                  tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(delay, b.clock.cycles(3 * 10)); // the hop is paid even for an error
        EXPECT_EQ(b.stat("ic.address_errors"), 3u);
        EXPECT_EQ(b.stat("ic.targets.memory"), 0u);
        EXPECT_EQ(b.stat("ic.targets.small"), 0u);
        std::uint64_t d = 0;
        tlm::tlm_response_status status = tlm::TLM_INCOMPLETE_RESPONSE;
        EXPECT_EQ(b.cpu.debug(tlm::TLM_READ_COMMAND, 0x30'0000'0000, d, 8, &status), 0u);
        EXPECT_EQ(status, tlm::TLM_ADDRESS_ERROR_RESPONSE);
    });
}

TEST_F(InterconnectTest, OverlappingRegionsAreRejected) {
    Bench b;
    EXPECT_THROW(b.ic.map(0x1000'0000 + 4096, 4096, 0, "other"), InputError);
    EXPECT_THROW(b.ic.map(0x20'0000'0000 - 8, 16, 1, "other"), InputError);
    run([] {});
}

TEST_F(InterconnectTest, DebugTransportRoutesAndTakesNoTime) {
    Bench b;
    run([&] {
        std::uint64_t v = 42;
        EXPECT_EQ(b.cpu.debug(tlm::TLM_WRITE_COMMAND, 0x20'0000'0010, v), 8u);
        std::uint64_t r = 0;
        b.small.storage().read(0x10, reinterpret_cast<std::uint8_t*>(&r), 8);
        EXPECT_EQ(r, 42u);
        EXPECT_EQ(sc_core::sc_time_stamp(), sc_core::SC_ZERO_TIME);
        EXPECT_EQ(b.stat("ic.transactions"), 0u); // debug traffic is not traffic
    });
}

TEST_F(InterconnectTest, DmiIsInGlobalAddressesClippedToTheRegionWithTheHopLatency) {
    Bench b;
    run([&] {
        tlm::tlm_generic_payload t;
        tlm::tlm_dmi dmi;
        t.set_address(0x20'0000'0123);
        t.set_command(tlm::TLM_READ_COMMAND);
        ASSERT_TRUE(b.cpu.socket->get_direct_mem_ptr(t, dmi));
        EXPECT_EQ(t.get_address(), 0x20'0000'0123u);
        EXPECT_EQ(dmi.get_start_address(), 0x20'0000'0000u);
        EXPECT_EQ(dmi.get_end_address(), 0x20'0000'0fffu);
        EXPECT_EQ(dmi.get_read_latency(), b.clock.cycles(3 + 10));
        EXPECT_EQ(dmi.get_write_latency(), b.clock.cycles(3 + 10));
        tlm::tlm_dmi none;
        t.set_address(0x30'0000'0000);
        EXPECT_FALSE(b.cpu.socket->get_direct_mem_ptr(t, none));
    });
}

} // namespace
} // namespace tlmmu::test
