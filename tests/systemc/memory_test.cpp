// Memory (models/memory): timing (latency + transfer), sparse storage, DMI, debug access,
// errors and statistics; through an interconnect (as the platform wires it) and directly.
#include <gtest/gtest.h>
#include <systemc>
#include <tlm>

#include "interconnect/Interconnect.h"
#include "memory/Memory.h"
#include "systemc/ScTest.h"
#include "systemc/TlmTestUtil.h"

namespace tlmmu::test {
namespace {

using MemoryTest = ScTest;

// cpu -> ic (10 cycles) -> mem (64 GiB, 100 cycles, 64 bytes per cycle) at 0x1000'0000, and
// `direct` bound to a second memory with no interconnect in between.
struct Bench {
    Clock clock{2.0}; // 500 ps
    MemoryConfig mc{std::uint64_t{64} << 30, 100, 64};
    MemoryConfig dc{1 << 20, 40, 16};
    Initiator cpu{"cpu"};
    Initiator direct{"direct"};
    Interconnect ic{"ic", 10, clock};
    Memory mem{"mem", mc, clock};
    Memory dmem{"dmem", dc, clock};
    Stats stats;
    Bench() {
        cpu.socket.bind(ic.target_socket);
        ic.initiator_socket.bind(mem.target_socket);
        ic.map(0x1000'0000, mc.size, 0, "memory");
        direct.socket.bind(dmem.target_socket);
        dmem.registerStats(stats, "dmem");
    }
    std::uint64_t stat(const char* path) { return stats.toJson().at(Stats::pointer(path)); }
};

TEST_F(MemoryTest, TransferTimeGrowsWithLength) {
    Bench b;
    run([&] {
        std::vector<std::uint8_t> page(4096);
        tlm::tlm_generic_payload t;
        Initiator::prepare(t, tlm::TLM_WRITE_COMMAND, 0x1000'0000, page.data(), 4096);
        sc_core::sc_time delay;
        b.cpu.socket->b_transport(t, delay);
        EXPECT_TRUE(t.is_response_ok());
        EXPECT_EQ(delay, b.clock.cycles(10 + 100 + 4095 / 64));
    });
}

TEST_F(MemoryTest, AccessCyclesAreLatencyPlusOneCyclePerBeatAfterTheFirst) {
    Bench b;
    run([&] {
        std::vector<std::uint8_t> buf(4096, 0x5a);
        for (unsigned len : {1u, 8u, 16u, 17u, 64u, 4096u}) {
            tlm::tlm_generic_payload t;
            Initiator::prepare(t, tlm::TLM_WRITE_COMMAND, 0x100, buf.data(), len);
            sc_core::sc_time delay = b.clock.cycles(1); // added to, never replaced
            b.direct.socket->b_transport(t, delay);
            EXPECT_TRUE(t.is_response_ok());
            EXPECT_EQ(b.clock.toCycles(delay), 1 + 40 + (len - 1) / 16) << len << " bytes";
            EXPECT_EQ(b.dmem.accessCycles(len), 40 + (len - 1) / 16);
            EXPECT_TRUE(t.is_dmi_allowed());
        }
        EXPECT_EQ(b.stat("dmem.writes"), 6u);
        EXPECT_EQ(b.stat("dmem.bytes_written"), 1u + 8 + 16 + 17 + 64 + 4096);
        EXPECT_EQ(b.stat("dmem.reads"), 0u);
        std::uint64_t v = 0;
        sc_core::sc_time delay;
        EXPECT_EQ(b.direct.read(0x100, v, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(v, 0x5a5a5a5a5a5a5a5au);
        EXPECT_EQ(b.stat("dmem.reads"), 1u);
        EXPECT_EQ(b.stat("dmem.bytes_read"), 8u);
    });
}

TEST_F(MemoryTest, SixtyFourGiBCostsOnlyTouchedPages) {
    Bench b;
    run([&] {
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
    });
}

TEST_F(MemoryTest, DmiGrantsOnePageInGlobalAddresses) {
    Bench b;
    run([&] {
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
    });
}

TEST_F(MemoryTest, DmiDirectHasTheMemoryLatencyAndStopsAtItsEnd) {
    Bench b;
    run([&] {
        tlm::tlm_generic_payload t;
        tlm::tlm_dmi dmi;
        t.set_command(tlm::TLM_WRITE_COMMAND);
        t.set_address(b.dc.size - 1);
        ASSERT_TRUE(b.direct.socket->get_direct_mem_ptr(t, dmi));
        EXPECT_EQ(dmi.get_start_address(), b.dc.size - 4096);
        EXPECT_EQ(dmi.get_end_address(), b.dc.size - 1);
        EXPECT_EQ(dmi.get_read_latency(), b.clock.cycles(40));
        EXPECT_EQ(dmi.get_write_latency(), b.clock.cycles(40));
        tlm::tlm_dmi none;
        t.set_address(b.dc.size);
        EXPECT_FALSE(b.direct.socket->get_direct_mem_ptr(t, none));
    });
}

TEST_F(MemoryTest, DebugTransportTakesNoTime) {
    Bench b;
    run([&] {
        std::uint64_t v = 42;
        tlm::tlm_generic_payload t;
        t.set_command(tlm::TLM_WRITE_COMMAND);
        t.set_address(0x1000'0040);
        t.set_data_ptr(reinterpret_cast<unsigned char*>(&v));
        t.set_data_length(8);
        EXPECT_EQ(b.cpu.socket->transport_dbg(t), 8u);
        EXPECT_EQ(sc_core::sc_time_stamp(), sc_core::SC_ZERO_TIME);
        std::uint64_t r = 0;
        EXPECT_EQ(b.direct.debug(tlm::TLM_WRITE_COMMAND, 0x40, v), 8u);
        EXPECT_EQ(b.direct.debug(tlm::TLM_READ_COMMAND, 0x40, r), 8u);
        EXPECT_EQ(r, 42u);
        EXPECT_EQ(b.stat("dmem.writes") + b.stat("dmem.reads"), 0u); // not counted as traffic
    });
}

TEST_F(MemoryTest, OutOfRangeAndByteEnablesAreErrors) {
    Bench b;
    run([&] {
        sc_core::sc_time delay;
        std::uint64_t v = 1;
        EXPECT_EQ(b.direct.write(b.dc.size - 4, v, delay), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(b.direct.write(b.dc.size, v, delay), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        unsigned char be[8] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
        tlm::tlm_generic_payload t;
        Initiator::prepare(t, tlm::TLM_WRITE_COMMAND, 0x0, &v, 8);
        t.set_byte_enable_ptr(be);
        t.set_byte_enable_length(8);
        b.direct.socket->b_transport(t, delay);
        EXPECT_EQ(t.get_response_status(), tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
        EXPECT_EQ(delay, sc_core::SC_ZERO_TIME); // an error takes no memory time
        EXPECT_EQ(b.stat("dmem.writes"), 0u);
        EXPECT_EQ(b.dmem.storage().pagesAllocated(), 0u);
    });
}

} // namespace
} // namespace tlmmu::test
