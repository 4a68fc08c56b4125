// SystemC modules on their own: Interconnect routing/latency/errors, Memory timing and DMI.
#include <gtest/gtest.h>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "interconnect/Interconnect.h"
#include "memory/Memory.h"

namespace tlmmu {
namespace {

struct Initiator : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<Initiator> socket{"socket"};
    explicit Initiator(sc_core::sc_module_name n) : sc_module(n) {}
    tlm::tlm_response_status access(tlm::tlm_command cmd, Addr addr, std::uint64_t& data,
                                    unsigned len, sc_core::sc_time& delay) {
        tlm::tlm_generic_payload t;
        t.set_command(cmd);
        t.set_address(addr);
        t.set_data_ptr(reinterpret_cast<unsigned char*>(&data));
        t.set_data_length(len);
        t.set_streaming_width(len);
        t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
        socket->b_transport(t, delay);
        return t.get_response_status();
    }
};

struct Bench {
    Clock clock{2.0}; // 500 ps
    MemoryConfig mc{std::uint64_t{64} << 30, 100, 64};
    Initiator cpu{"cpu"};
    Interconnect ic{"ic", 10, clock};
    Memory mem{"mem", mc, clock};
    Bench() {
        cpu.socket.bind(ic.target_socket);
        ic.initiator_socket.bind(mem.target_socket);
        ic.map(0x1000'0000, mc.size, 0, "memory");
        // Multi-sockets hook up their callbacks at the end of elaboration.
        sc_core::sc_start(sc_core::SC_ZERO_TIME);
    }
};

TEST(Interconnect, RoutesWithBaseOffsetAndAddsLatency) {
    Bench b;
    sc_core::sc_time delay = sc_core::sc_time(1, sc_core::SC_NS); // annotation is added to
    std::uint64_t v = 0x1122334455667788;
    EXPECT_EQ(b.cpu.access(tlm::TLM_WRITE_COMMAND, 0x1000'0000 + 0x2000, v, 8, delay),
              tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(delay, sc_core::sc_time(1, sc_core::SC_NS) + b.clock.cycles(110));
    std::uint64_t r = 0;
    delay = sc_core::SC_ZERO_TIME;
    EXPECT_EQ(b.cpu.access(tlm::TLM_READ_COMMAND, 0x1000'2000, r, 8, delay), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(r, v);
    std::uint8_t byte = 0;
    b.mem.storage().read(0x2000, &byte, 1); // the memory saw the offset within its region
    EXPECT_EQ(byte, 0x88);
}

TEST(Interconnect, OutOfMapIsAddressError) {
    Bench b;
    sc_core::sc_time delay;
    std::uint64_t v = 0;
    EXPECT_EQ(b.cpu.access(tlm::TLM_READ_COMMAND, 0x0fff'fff8, v, 8, delay),
              tlm::TLM_ADDRESS_ERROR_RESPONSE);
    // Straddling the end of the region is an error too.
    EXPECT_EQ(b.cpu.access(tlm::TLM_READ_COMMAND, 0x1000'0000 + b.mc.size - 4, v, 8, delay),
              tlm::TLM_ADDRESS_ERROR_RESPONSE);
}

TEST(Interconnect, OverlappingRegionsAreRejected) {
    Bench b;
    EXPECT_THROW(b.ic.map(0x1000'0000 + 4096, 4096, 0, "other"), InputError);
}

TEST(Memory, TransferTimeGrowsWithLength) {
    Bench b;
    std::vector<std::uint8_t> page(4096);
    tlm::tlm_generic_payload t;
    t.set_command(tlm::TLM_WRITE_COMMAND);
    t.set_address(0x1000'0000);
    t.set_data_ptr(page.data());
    t.set_data_length(4096);
    t.set_streaming_width(4096);
    sc_core::sc_time delay;
    b.cpu.socket->b_transport(t, delay);
    EXPECT_TRUE(t.is_response_ok());
    EXPECT_EQ(delay, b.clock.cycles(10 + 100 + 4095 / 64));
}

TEST(Memory, SixtyFourGiBCostsOnlyTouchedPages) {
    Bench b;
    sc_core::sc_time delay;
    std::uint64_t v = 7;
    for (Addr a : {Addr{0}, Addr{1} << 30, (Addr{63} << 30) + 4088})
        EXPECT_EQ(b.cpu.access(tlm::TLM_WRITE_COMMAND, 0x1000'0000 + a, v, 8, delay),
                  tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b.mem.storage().pagesAllocated(), 3u);
    std::uint64_t r = 1;
    EXPECT_EQ(b.cpu.access(tlm::TLM_READ_COMMAND, 0x1000'0000 + (Addr{5} << 30), r, 8, delay),
              tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(r, 0u); // untouched memory reads as zero and allocates nothing
    EXPECT_EQ(b.mem.storage().pagesAllocated(), 3u);
}

TEST(Memory, DmiGrantsOnePageInGlobalAddresses) {
    Bench b;
    tlm::tlm_generic_payload t;
    tlm::tlm_dmi dmi;
    t.set_address(0x1000'0000 + 0x5123);
    t.set_command(tlm::TLM_READ_COMMAND);
    ASSERT_TRUE(b.cpu.socket->get_direct_mem_ptr(t, dmi));
    EXPECT_EQ(dmi.get_start_address(), 0x1000'5000u);
    EXPECT_EQ(dmi.get_end_address(), 0x1000'5fffu);
    EXPECT_TRUE(dmi.is_read_write_allowed());
    dmi.get_dmi_ptr()[0x123] = 0x5a;
    std::uint8_t byte = 0;
    b.mem.storage().read(0x5123, &byte, 1);
    EXPECT_EQ(byte, 0x5a);
}

TEST(Memory, DebugTransportTakesNoTime) {
    Bench b;
    std::uint64_t v = 42;
    tlm::tlm_generic_payload t;
    t.set_command(tlm::TLM_WRITE_COMMAND);
    t.set_address(0x1000'0040);
    t.set_data_ptr(reinterpret_cast<unsigned char*>(&v));
    t.set_data_length(8);
    EXPECT_EQ(b.cpu.socket->transport_dbg(t), 8u);
    EXPECT_EQ(sc_core::sc_time_stamp(), sc_core::SC_ZERO_TIME);
}

} // namespace
} // namespace tlmmu
