// Sparse byte-addressable storage: host memory is spent only on 4 KiB pages that were written
// or granted for direct access; untouched bytes read as zero. Plain C++.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>

#include "common/Types.h"

namespace tlmmu {

class SparseMemory {
  public:
    static constexpr unsigned kPageShift = 12;
    static constexpr std::uint64_t kPageSize = std::uint64_t{1} << kPageShift;

    explicit SparseMemory(std::uint64_t size) : size_(size) {}
    std::uint64_t size() const { return size_; }
    bool inRange(Addr addr, std::uint64_t len) const { return addr < size_ && len <= size_ - addr; }

    void read(Addr addr, std::uint8_t* dst, std::uint64_t len) const;
    void write(Addr addr, const std::uint8_t* src, std::uint64_t len);
    void fill(Addr addr, std::uint8_t value, std::uint64_t len);
    // Host pointer to the page holding addr (allocated on demand), for DMI.
    std::uint8_t* page(Addr addr);
    std::uint64_t pagesAllocated() const { return pages_.size(); }

  private:
    const std::uint8_t* findPage(Addr addr) const;
    std::uint64_t size_;
    std::unordered_map<std::uint64_t, std::unique_ptr<std::uint8_t[]>> pages_;
};

} // namespace tlmmu
