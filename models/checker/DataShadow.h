// What an address space should hold, by address: the core's checked mode writes known values
// and compares every load with this (bytes never written read as zero, as demand-zero pages do).
// A forked child starts from a copy; a shared-memory object has one shadow for all its mappers,
// indexed by offset. Plain C++.
//
// A discard (madvise DONTNEED) runs beside the other threads' faults, as in Linux, so while one
// is under way a byte of its range may read as before or as zero (its PTE cleared or not yet,
// a TLB flushed or not yet), and a store there may land in the old page (lost once the flush
// is done) or in a new one (kept). Such a byte is "unsure": it accepts zero or a value stored
// while the discard ran (and, while it runs, the value from before), and the first load after
// the discard settles it to what it read. Everything else is exact.
#pragma once

#include <algorithm>
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
    // A load read v at a: whether the address space may hold it there.
    bool load(Addr a, std::uint8_t v) {
        if (unsure_.empty() && flux_.empty()) return v == get(a);
        const bool flux = inFlux(a);
        auto it = unsure_.find(a);
        const bool ok = v == get(a) || (flux && v == 0) ||
                        (it != unsure_.end() && (v == 0 || it->second.allows(v, flux)));
        if (ok && !flux && it != unsure_.end()) settle(it, v);
        return ok;
    }
    // A store of v at a.
    void store(Addr a, std::uint8_t v) {
        if (!flux_.empty() && inFlux(a)) {
            auto [it, fresh] = unsure_.try_emplace(a);
            if (fresh) it->second.before = get(a);
            it->second.stored.push_back(v);
        } else if (!unsure_.empty()) {
            unsure_.erase(a);
        }
        set(a, v);
    }
    void beginDiscard(Addr start, std::uint64_t size) { flux_.push_back({start, start + size}); }
    // The discard is over: the range reads zero but where a store came meanwhile (unsure), or,
    // when it failed part way, zero or what it held.
    void endDiscard(Addr start, std::uint64_t size, bool done) {
        for (auto it = flux_.begin(); it != flux_.end(); ++it)
            if (it->start == start && it->end == start + size) {
                flux_.erase(it);
                break;
            }
        for (Addr a = start; a < start + size; ++a) {
            auto it = unsure_.find(a);
            if (it != unsure_.end()) {
                it->second.before_allowed = false;
            } else if (!done) {
                if (get(a) != 0) unsure_[a].stored.push_back(get(a));
            } else if (pages_.count(a >> 12)) {
                set(a, 0);
            }
        }
    }
    // Forgets [start, start+size): an unmapped range that is mapped again reads as zero.
    void clear(Addr start, std::uint64_t size) {
        for (Addr a = start; !unsure_.empty() && a < start + size; ++a)
            unsure_.erase(a);
        for (Addr a = start; a < start + size; a = (a | 0xfff) + 1) {
            auto it = pages_.find(a >> 12);
            if (it == pages_.end()) continue;
            const Addr end = std::min<Addr>(start + size, (a | 0xfff) + 1);
            std::fill(it->second.begin() + (a & 0xfff),
                      it->second.begin() + ((end - 1) & 0xfff) + 1, 0);
        }
    }

  private:
    struct Unsure {
        std::uint8_t before = 0;    // its value when the discard began
        bool before_allowed = true; // until the discard is over
        std::vector<std::uint8_t> stored;
        bool allows(std::uint8_t v, bool flux) const {
            if ((flux || before_allowed) && v == before) return true;
            return std::find(stored.begin(), stored.end(), v) != stored.end();
        }
    };
    struct Range {
        Addr start, end;
    };
    bool inFlux(Addr a) const {
        for (const Range& r : flux_)
            if (a >= r.start && a < r.end) return true;
        return false;
    }
    void settle(std::unordered_map<Addr, Unsure>::iterator it, std::uint8_t v) {
        set(it->first, v);
        unsure_.erase(it);
    }
    std::unordered_map<Addr, std::vector<std::uint8_t>> pages_;
    std::unordered_map<Addr, Unsure> unsure_; // by byte
    std::vector<Range> flux_;                 // discards under way
};

} // namespace tlmmu
