// SwapDevice (models/swap): every register of abi/swap_device.h, the write/read
// round trip through the backing store with the exact time of the COMMAND write (interconnect
// hop + device latency + DMA hop + memory transfer), failed commands in STATUS, and bad
// accesses answered with TLM errors and counted.
#include <gtest/gtest.h>
#include <systemc>
#include <tlm>

#include <vector>

#include "interconnect/Interconnect.h"
#include "memory/Memory.h"
#include "swap/SwapDevice.h"
#include "swap_device.h"
#include "systemc/ScTest.h"
#include "systemc/TlmTestUtil.h"

namespace tlmmu::test {
namespace {

using SwapDeviceTest = ScTest;

constexpr unsigned kIc = 10, kMem = 100, kBytesPerCycle = 64, kLatency = 2000, kSlots = 8;
constexpr Addr kSwap = 0x1'0000'0000; // register window on the interconnect

// cpu -> ic -> {memory at 0, swap registers at kSwap}; swap.dma_socket -> ic.
struct Bench {
    Clock clock{2.0};
    MemoryConfig mc{std::uint64_t{1} << 30, kMem, kBytesPerCycle};
    Initiator cpu{"cpu"};
    Interconnect ic{"ic", kIc, clock};
    Memory mem{"mem", mc, clock};
    SwapDevice swap{"swap", kSlots, kLatency, clock};
    Stats stats;
    Bench() {
        cpu.socket.bind(ic.target_socket);
        ic.initiator_socket.bind(mem.target_socket);
        ic.initiator_socket.bind(swap.register_socket);
        swap.dma_socket.bind(ic.target_socket);
        ic.map(0, mc.size, 0, "memory");
        ic.map(kSwap, SWAP_REG_BYTES, 1, "swap");
        swap.registerStats(stats, "swap");
        ic.registerStats(stats, "ic");
    }
    nlohmann::json stat(const char* path) { return stats.toJson().at(Stats::pointer(path)); }
    // Writes a register; returns the cycles the write took.
    Cycles write(std::uint64_t reg, std::uint64_t value,
                 tlm::tlm_response_status expect = tlm::TLM_OK_RESPONSE) {
        sc_core::sc_time delay;
        EXPECT_EQ(cpu.write(kSwap + reg, value, delay), expect) << "register 0x" << std::hex << reg;
        return clock.toCycles(delay);
    }
    std::uint64_t read(std::uint64_t reg) { return cpu.read64(kSwap + reg); }
    // One whole command, as the firmware issues it; returns the cycles of the COMMAND write.
    Cycles command(std::uint64_t cmd, std::uint64_t slot, Addr frame, std::uint64_t length) {
        write(SWAP_REG_SLOT, slot);
        write(SWAP_REG_FRAME, frame);
        write(SWAP_REG_LENGTH, length);
        return write(SWAP_REG_COMMAND, cmd);
    }
    std::vector<std::uint8_t> bytes(Addr pa, std::size_t n) {
        std::vector<std::uint8_t> v(n);
        mem.storage().read(pa, v.data(), n);
        return v;
    }
    void fill(Addr pa, std::size_t n, std::uint8_t seed) {
        std::vector<std::uint8_t> v(n);
        for (std::size_t i = 0; i < n; ++i)
            v[i] = static_cast<std::uint8_t>(seed + i * 7);
        mem.storage().write(pa, v.data(), n);
    }
};

// Device latency, then the DMA: one interconnect hop and the memory's access time for LENGTH.
Cycles transferCycles(std::uint64_t length) {
    return kLatency + kIc + kMem + (length - 1) / kBytesPerCycle;
}

TEST_F(SwapDeviceTest, EveryRegisterResetsAndReadsBack) {
    Bench b;
    run([&] {
        EXPECT_EQ(b.read(SWAP_REG_SLOT), 0u);
        EXPECT_EQ(b.read(SWAP_REG_FRAME), 0u);
        EXPECT_EQ(b.read(SWAP_REG_LENGTH), 4096u); // a base page unless told otherwise
        EXPECT_EQ(b.read(SWAP_REG_COMMAND), 0u);
        EXPECT_EQ(b.read(SWAP_REG_STATUS), 0u);
        EXPECT_EQ(b.write(SWAP_REG_SLOT, 5), kIc); // a plain register costs the hop only
        EXPECT_EQ(b.write(SWAP_REG_FRAME, 0x12345000), kIc);
        EXPECT_EQ(b.write(SWAP_REG_LENGTH, 512), kIc);
        EXPECT_EQ(b.read(SWAP_REG_SLOT), 5u);
        EXPECT_EQ(b.read(SWAP_REG_FRAME), 0x12345000u);
        EXPECT_EQ(b.read(SWAP_REG_LENGTH), 512u);
        sc_core::sc_time delay;
        std::uint64_t v = 0;
        EXPECT_EQ(b.cpu.read(kSwap + SWAP_REG_STATUS, v, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(b.clock.toCycles(delay), kIc);
        EXPECT_EQ(b.swap.registers().errors(), 0u);
        EXPECT_EQ(b.stat("swap.slots"), kSlots);
    });
}

TEST_F(SwapDeviceTest, WriteThenReadRoundTripsWithTheExactTime) {
    Bench b;
    run([&] {
        b.fill(0x10000, 4096, 1);
        b.fill(0x11000, 4096, 99);
        const auto page_a = b.bytes(0x10000, 4096), page_b = b.bytes(0x11000, 4096);
        EXPECT_EQ(b.command(SWAP_CMD_WRITE, 3, 0x10000, 4096), kIc + transferCycles(4096));
        EXPECT_EQ(b.read(SWAP_REG_STATUS), 0u);
        EXPECT_EQ(b.command(SWAP_CMD_WRITE, 4, 0x11000, 4096), kIc + transferCycles(4096));
        b.mem.storage().fill(0x10000, 0, 8192); // the frames are reused
        EXPECT_EQ(b.command(SWAP_CMD_READ, 4, 0x20000, 4096), kIc + transferCycles(4096));
        EXPECT_EQ(b.read(SWAP_REG_STATUS), 0u);
        EXPECT_EQ(b.bytes(0x20000, 4096), page_b);
        EXPECT_EQ(b.command(SWAP_CMD_READ, 3, 0x21000, 4096), kIc + transferCycles(4096));
        EXPECT_EQ(b.bytes(0x21000, 4096), page_a);
        EXPECT_EQ(b.read(SWAP_REG_COMMAND), 0u); // done when the write returned
        EXPECT_EQ(b.stat("swap.writes"), 2u);
        EXPECT_EQ(b.stat("swap.reads"), 2u);
        EXPECT_EQ(b.stat("swap.errors"), 0u);
        EXPECT_EQ(b.stat("ic.targets.swap"), 4u * 4 + 3); // 4 commands, 3 register reads
        EXPECT_EQ(b.stat("ic.targets.memory"), 4u);       // one DMA per command
    });
}

TEST_F(SwapDeviceTest, TransferTimeFollowsLengthAndTheWaitEndsThere) {
    Bench b;
    run([&] {
        b.fill(0x30000, 64, 5);
        EXPECT_EQ(b.command(SWAP_CMD_WRITE, 1, 0x30000, 64), kIc + transferCycles(64));
        EXPECT_EQ(b.command(SWAP_CMD_WRITE, 0, 0x30000, 65), kIc + transferCycles(65));
        // A core that waits for the annotated time resumes exactly when the transfer is done.
        const sc_core::sc_time start = sc_core::sc_time_stamp();
        b.write(SWAP_REG_LENGTH, 64);
        b.write(SWAP_REG_FRAME, 0x40000);
        sc_core::sc_time delay;
        EXPECT_EQ(b.cpu.write(kSwap + SWAP_REG_COMMAND, SWAP_CMD_READ, delay),
                  tlm::TLM_OK_RESPONSE);
        sc_core::wait(delay);
        EXPECT_EQ(sc_core::sc_time_stamp() - start, b.clock.cycles(kIc + transferCycles(64)));
        EXPECT_EQ(b.bytes(0x40000, 64), b.bytes(0x30000, 64));
    });
}

TEST_F(SwapDeviceTest, FailedCommandsSetStatusAndAreCounted) {
    Bench b;
    run([&] {
        EXPECT_EQ(b.command(7, 0, 0x10000, 4096), kIc); // unknown command: no transfer, no time
        EXPECT_EQ(b.read(SWAP_REG_STATUS), 1u);
        EXPECT_EQ(b.command(SWAP_CMD_WRITE, kSlots, 0x10000, 4096), kIc); // no such slot
        EXPECT_EQ(b.read(SWAP_REG_STATUS), 1u);
        EXPECT_EQ(b.command(SWAP_CMD_WRITE, 0, 0x10000, 0), kIc); // nothing to move
        EXPECT_EQ(b.read(SWAP_REG_STATUS), 1u);
        // A frame outside memory: the DMA fails after the device latency and the hop.
        EXPECT_EQ(b.command(SWAP_CMD_WRITE, 0, 0x8000'0000'0000, 4096), kIc + kLatency + kIc);
        EXPECT_EQ(b.read(SWAP_REG_STATUS), 2u);
        EXPECT_EQ(b.stat("swap.errors"), 4u);
        EXPECT_EQ(b.stat("swap.writes"), 0u);
        EXPECT_EQ(b.command(SWAP_CMD_WRITE, 0, 0x10000, 4096), kIc + transferCycles(4096));
        EXPECT_EQ(b.read(SWAP_REG_STATUS), 0u);      // the status of the last command
        EXPECT_EQ(b.stat("swap.access_errors"), 0u); // bus-wise all of these were fine
    });
}

TEST_F(SwapDeviceTest, BadAccessesAreTlmErrorsCountedWithAMessage) {
    Bench b;
    run([&] {
        for (std::uint64_t hole : {0x28, 0x30, 0x38})
            b.write(hole, 1, tlm::TLM_ADDRESS_ERROR_RESPONSE);
        sc_core::sc_time delay;
        std::uint64_t v = 0;
        EXPECT_EQ(b.cpu.read(kSwap + 0x30, v, delay), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(b.cpu.read(kSwap + SWAP_REG_SLOT + 4, v, delay, 4),
                  tlm::TLM_ADDRESS_ERROR_RESPONSE); // misaligned
        EXPECT_EQ(b.cpu.write(kSwap + SWAP_REG_SLOT, 3, delay, 4), tlm::TLM_BURST_ERROR_RESPONSE);
        EXPECT_EQ(b.cpu.write(kSwap + SWAP_REG_COMMAND, SWAP_CMD_WRITE, delay, 4),
                  tlm::TLM_BURST_ERROR_RESPONSE);
        b.write(SWAP_REG_STATUS, 0, tlm::TLM_COMMAND_ERROR_RESPONSE);
        EXPECT_EQ(b.stat("swap.access_errors"), 8u);
        EXPECT_EQ(b.stat("swap.last_access_error"),
                  "swap: write of 8 bytes at offset 0x20: register STATUS is read-only "
                  "(TLM_COMMAND_ERROR_RESPONSE)");
        unsigned char be[8] = {0xff, 0, 0xff, 0, 0xff, 0, 0xff, 0};
        tlm::tlm_generic_payload t;
        v = 1;
        Initiator::prepare(t, tlm::TLM_WRITE_COMMAND, kSwap + SWAP_REG_SLOT, &v, 8);
        t.set_byte_enable_ptr(be);
        t.set_byte_enable_length(8);
        b.cpu.socket->b_transport(t, delay);
        EXPECT_EQ(t.get_response_status(), tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
        EXPECT_EQ(b.stat("swap.access_errors"), 9u);
        // Nothing reached the state, no transfer started.
        EXPECT_EQ(b.read(SWAP_REG_SLOT), 0u);
        EXPECT_EQ(b.stat("swap.writes"), 0u);
        EXPECT_EQ(b.stat("swap.errors"), 0u);
        // Past the window the interconnect answers (the device never sees it).
        EXPECT_EQ(b.cpu.read(kSwap + SWAP_REG_BYTES, v, delay), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(b.stat("ic.address_errors"), 1u);
        EXPECT_EQ(b.stat("swap.access_errors"), 9u);
    });
}

TEST_F(SwapDeviceTest, DebugAccessesNeverStartATransfer) {
    Bench b;
    run([&] {
        std::uint64_t v = 6;
        EXPECT_EQ(b.cpu.debug(tlm::TLM_WRITE_COMMAND, kSwap + SWAP_REG_SLOT, v), 8u);
        EXPECT_EQ(b.read(SWAP_REG_SLOT), 6u);
        v = SWAP_CMD_WRITE;
        tlm::tlm_response_status status = tlm::TLM_INCOMPLETE_RESPONSE;
        EXPECT_EQ(b.cpu.debug(tlm::TLM_WRITE_COMMAND, kSwap + SWAP_REG_COMMAND, v, 8, &status), 0u);
        EXPECT_EQ(status, tlm::TLM_COMMAND_ERROR_RESPONSE);
        EXPECT_EQ(b.stat("swap.writes"), 0u);
        EXPECT_EQ(b.stat("ic.targets.memory"), 0u);
        std::uint64_t s = 9;
        EXPECT_EQ(b.cpu.debug(tlm::TLM_READ_COMMAND, kSwap + SWAP_REG_STATUS, s), 8u);
        EXPECT_EQ(s, 0u);
        EXPECT_EQ(sc_core::sc_time_stamp(), sc_core::SC_ZERO_TIME);
    });
}

} // namespace
} // namespace tlmmu::test
