// A host implementation of firmware/include/hal.h for tests: sparse little-endian physical
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
    enum Kind { Read, Write, Zero, Copy, Invalidate, InvalidateCore, SetRoot, TlbWrite } kind;
    std::uint64_t addr = 0;  // pa (Read/Write/Zero/Copy dst), va (invalidations), root
    std::uint64_t value = 0; // value written, bytes zeroed or copied, asid
    unsigned core = 0;       // target core of InvalidateCore
    int flush = 0;           // hal_flush_kind of invalidations
};

struct Invalidation {
    hal_flush_kind kind;
    std::uint64_t va;
    std::uint16_t asid;
};

// A swap device at swap_mmio (0 = none): the registers of firmware/include/swap_device.h, backed by
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
    std::vector<hal_tlb_entry> tlb_writes;
    bool record_events = false;
    std::vector<HalEvent> events;
    // Called at every local or remote invalidation, after it is recorded (tests check what is
    // still allocated at that moment).
    std::function<void()> on_invalidate;
    void event(HalEvent e) {
        if (record_events) events.push_back(e);
    }
    FakeSwap swap;

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
