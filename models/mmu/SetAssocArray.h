// A set-associative array of entries with a replacement policy: the storage that both Tlb and
// PageWalkCache are made of (plain C++). The RTL TLB (rtl/) implements the same victim choice:
// the lowest-numbered invalid way first, otherwise the policy's victim.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tlmmu {

enum class Replacement : std::uint8_t { Lru, Plru, Fifo, Random };

// Parses lru|plru|fifo|random; throws InputError naming `key` otherwise.
Replacement parseReplacement(const std::string& name, const std::string& key);
const char* toString(Replacement policy);

// Geometry checks shared by every set-associative structure; throws InputError naming `key`
// (e.g. "tlb.l1d") when ways do not divide entries, or the set count is not a power of two, or
// tree-PLRU is asked for a way count that is not a power of two.
void validateGeometry(unsigned entries, unsigned ways, Replacement policy, const std::string& key);

class ReplacementState {
  public:
    ReplacementState(Replacement policy, unsigned sets, unsigned ways, std::uint64_t seed);
    void touch(unsigned set, unsigned way);  // hit
    void filled(unsigned set, unsigned way); // refill into way
    unsigned victim(unsigned set);           // when every way of the set is valid

  private:
    Replacement policy_;
    unsigned ways_;
    std::vector<std::uint64_t> stamp_; // lru: last use, fifo: fill time; per (set, way)
    std::uint64_t clock_ = 0;
    // Tree PLRU: ways-1 node bits per set, heap order (node n has children 2n+1, 2n+2).
    // A node bit 0 means "the victim is in the left half"; touching a way points every node
    // on its path away from it.
    std::vector<std::uint8_t> tree_;
    std::uint64_t rng_;
};

template <class Entry> class SetAssocArray {
  public:
    SetAssocArray(unsigned entries, unsigned ways, Replacement policy, std::uint64_t seed)
        : sets_(entries / ways), ways_(ways), entries_(entries), valid_(entries, 0),
          repl_(policy, entries / ways, ways, seed) {}

    unsigned sets() const { return sets_; }
    unsigned ways() const { return ways_; }
    bool valid(unsigned set, unsigned way) const { return valid_[set * ways_ + way]; }
    Entry& at(unsigned set, unsigned way) { return entries_[set * ways_ + way]; }
    const Entry& at(unsigned set, unsigned way) const { return entries_[set * ways_ + way]; }
    void touch(unsigned set, unsigned way) { repl_.touch(set, way); }

    // Writes e into `set`, into the lowest invalid way or the policy's victim; returns the way.
    unsigned fill(unsigned set, const Entry& e) {
        const unsigned way = wayToFill(set);
        place(set, way, e);
        return way;
    }
    // The way fill() would write: the lowest invalid one, else the policy's victim. Callers that
    // must see the entry they replace (a write-back cache) call it, read at(set, way), then
    // place(); once per fill, since the random policy draws a number each time.
    unsigned wayToFill(unsigned set) {
        for (unsigned w = 0; w < ways_; ++w)
            if (!valid(set, w)) return w;
        return repl_.victim(set);
    }
    void place(unsigned set, unsigned way, const Entry& e) {
        entries_[set * ways_ + way] = e;
        valid_[set * ways_ + way] = 1;
        repl_.filled(set, way);
    }
    // Drops one entry; its contents stay readable through at() until the way is filled again.
    void invalidate(unsigned set, unsigned way) { valid_[set * ways_ + way] = 0; }
    // Invalidates every valid entry for which pred(entry) holds; returns how many.
    template <class Pred> unsigned invalidateIf(Pred pred) {
        unsigned n = 0;
        for (std::size_t i = 0; i < entries_.size(); ++i)
            if (valid_[i] && pred(entries_[i])) {
                valid_[i] = 0;
                ++n;
            }
        return n;
    }
    unsigned occupancy() const {
        unsigned n = 0;
        for (auto v : valid_)
            n += v;
        return n;
    }

  private:
    unsigned sets_, ways_;
    std::vector<Entry> entries_;
    std::vector<std::uint8_t> valid_;
    ReplacementState repl_;
};

} // namespace tlmmu
