#include "fake_hal.h"

#include <string>

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

bool FakeHal::mmioRead(std::uint64_t pa, unsigned bytes, std::uint64_t& value) {
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

} // namespace fakehal

using fakehal::hal;

extern "C" {

uint64_t hal_read_phys(hal_paddr_t pa, unsigned bytes) {
    if (bytes != 1 && bytes != 2 && bytes != 4 && bytes != 8)
        throw fakehal::FakeHalPanic("hal_read_phys: bad size " + std::to_string(bytes));
    ++hal().reads;
    hal().event({fakehal::HalEvent::Read, pa, 0, 0, 0});
    std::uint64_t value = 0;
    if (hal().mmioRead(pa, bytes, value)) return value;
    return hal().read(pa, bytes);
}

void hal_write_phys(hal_paddr_t pa, uint64_t value, unsigned bytes) {
    if (bytes != 1 && bytes != 2 && bytes != 4 && bytes != 8)
        throw fakehal::FakeHalPanic("hal_write_phys: bad size " + std::to_string(bytes));
    ++hal().writes;
    hal().event({fakehal::HalEvent::Write, pa, value, 0, 0});
    if (hal().mmioWrite(pa, value, bytes)) return;
    hal().write(pa, value, bytes);
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
    hal().event({fakehal::HalEvent::Invalidate, va, asid, 0, kind});
    if (hal().on_invalidate) hal().on_invalidate();
}

void hal_tlb_invalidate_core(unsigned core, enum hal_flush_kind kind, uint64_t va, uint16_t asid) {
    hal().remote_invalidations.push_back({core, {kind, va, asid}});
    hal().event({fakehal::HalEvent::InvalidateCore, va, asid, core, kind});
    if (hal().on_invalidate) hal().on_invalidate();
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
}

void hal_panic(const char* message) {
    throw fakehal::FakeHalPanic(message);
}

// Trace marks carry no behaviour for the firmware tests.
void hal_trace(enum hal_trace_event, uint64_t) {}

} // extern "C"
