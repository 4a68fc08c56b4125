// What an address space should hold, by address: the core's checked mode writes known values
// and compares every load with this (bytes never written read as zero, as demand-zero pages do).
// A forked child starts from a copy; a shared-memory object has one shadow for all its mappers,
// indexed by offset. Plain C++.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "common/Types.h"

namespace tlmmu {

class DataShadow {
  public:
    std::uint8_t get(Addr a) const {
        auto it = pages_.find(a >> 12);
        return it == pages_.end() ? 0 : it->second[a & 0xfff];
    }
    void set(Addr a, std::uint8_t v) {
        auto& page = pages_[a >> 12];
        if (page.empty()) page.assign(4096, 0);
        page[a & 0xfff] = v;
    }
    // Forgets [start, start+size): an unmapped range that is mapped again reads as zero.
    void clear(Addr start, std::uint64_t size) {
        for (Addr a = start; a < start + size; a = (a | 0xfff) + 1) {
            auto it = pages_.find(a >> 12);
            if (it == pages_.end()) continue;
            const Addr end = std::min<Addr>(start + size, (a | 0xfff) + 1);
            std::fill(it->second.begin() + (a & 0xfff),
                      it->second.begin() + ((end - 1) & 0xfff) + 1, 0);
        }
    }

  private:
    std::unordered_map<Addr, std::vector<std::uint8_t>> pages_;
};

} // namespace tlmmu
