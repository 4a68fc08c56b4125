#include "mmu/SetAssocArray.h"

#include "common/Types.h"

namespace tlmmu {

namespace {
bool isPowerOfTwo(unsigned v) {
    return v != 0 && (v & (v - 1)) == 0;
}
} // namespace

Replacement parseReplacement(const std::string& name, const std::string& key) {
    if (name == "lru") return Replacement::Lru;
    if (name == "plru") return Replacement::Plru;
    if (name == "fifo") return Replacement::Fifo;
    if (name == "random") return Replacement::Random;
    throw InputError(key + ": unknown replacement '" + name +
                     "' (allowed: lru, plru, fifo, random)");
}

const char* toString(Replacement policy) {
    switch (policy) {
    case Replacement::Lru:
        return "lru";
    case Replacement::Plru:
        return "plru";
    case Replacement::Fifo:
        return "fifo";
    case Replacement::Random:
        return "random";
    }
    return "?";
}

void validateGeometry(unsigned entries, unsigned ways, Replacement policy, const std::string& key) {
    if (ways == 0 || entries % ways != 0)
        throw InputError(key + ".ways: " + std::to_string(ways) + " does not divide " + key +
                         ".entries " + std::to_string(entries) +
                         " (ways must divide entries; entries = ways is fully associative)");
    if (!isPowerOfTwo(entries / ways))
        throw InputError(key + ": entries/ways = " + std::to_string(entries / ways) +
                         " sets is not a power of two");
    if (policy == Replacement::Plru && !isPowerOfTwo(ways))
        throw InputError(key + ".replacement: plru needs a power-of-two way count, got " +
                         std::to_string(ways));
}

ReplacementState::ReplacementState(Replacement policy, unsigned sets, unsigned ways,
                                   std::uint64_t seed)
    : policy_(policy), ways_(ways), stamp_(std::size_t{sets} * ways, 0),
      tree_(policy == Replacement::Plru ? std::size_t{sets} * (ways > 1 ? ways - 1 : 1) : 0, 0),
      rng_(seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull) {
    if (rng_ == 0) rng_ = 1;
}

void ReplacementState::touch(unsigned set, unsigned way) {
    switch (policy_) {
    case Replacement::Lru:
        stamp_[set * ways_ + way] = ++clock_;
        break;
    case Replacement::Plru: {
        if (ways_ < 2) break;
        std::uint8_t* t = &tree_[std::size_t{set} * (ways_ - 1)];
        unsigned node = 0, lo = 0, span = ways_;
        while (span > 1) {
            span /= 2;
            const bool right = way >= lo + span;
            t[node] = right ? 0 : 1; // point away from the touched half
            node = 2 * node + (right ? 2 : 1);
            if (right) lo += span;
        }
        break;
    }
    case Replacement::Fifo:
    case Replacement::Random:
        break;
    }
}

void ReplacementState::filled(unsigned set, unsigned way) {
    if (policy_ == Replacement::Fifo)
        stamp_[set * ways_ + way] = ++clock_;
    else
        touch(set, way);
}

unsigned ReplacementState::victim(unsigned set) {
    switch (policy_) {
    case Replacement::Lru:
    case Replacement::Fifo: {
        const std::uint64_t* s = &stamp_[std::size_t{set} * ways_];
        unsigned best = 0;
        for (unsigned w = 1; w < ways_; ++w)
            if (s[w] < s[best]) best = w;
        return best;
    }
    case Replacement::Plru: {
        if (ways_ < 2) return 0;
        const std::uint8_t* t = &tree_[std::size_t{set} * (ways_ - 1)];
        unsigned node = 0, lo = 0, span = ways_;
        while (span > 1) {
            span /= 2;
            const bool right = t[node] != 0;
            node = 2 * node + (right ? 2 : 1);
            if (right) lo += span;
        }
        return lo;
    }
    case Replacement::Random: {
        // xorshift64: deterministic for a given seed on every host.
        rng_ ^= rng_ << 13;
        rng_ ^= rng_ >> 7;
        rng_ ^= rng_ << 17;
        return static_cast<unsigned>(rng_ % ways_);
    }
    }
    return 0;
}

} // namespace tlmmu
