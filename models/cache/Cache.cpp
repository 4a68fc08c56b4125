#include "cache/Cache.h"

namespace tlmmu {

namespace {

bool isPowerOfTwo(std::uint64_t v) {
    return v != 0 && (v & (v - 1)) == 0;
}

// Checks in the cache's own terms (size, line_bytes) first, then the set-associative rules
// shared with the TLBs (power-of-two sets, plru ways). Returns the number of lines.
unsigned validatedLines(const CacheConfig& c, const std::string& key) {
    if (!isPowerOfTwo(c.line_bytes))
        throw InputError(key + ".line_bytes: " + std::to_string(c.line_bytes) +
                         " is not a power of two");
    if (c.ways == 0 || c.size % (std::uint64_t{c.line_bytes} * c.ways) != 0)
        throw InputError(key + ".size: " + std::to_string(c.size) + " is not a multiple of " + key +
                         ".ways x " + key + ".line_bytes (" + std::to_string(c.ways) + " x " +
                         std::to_string(c.line_bytes) + ")");
    const std::uint64_t lines = c.size / c.line_bytes;
    if (!isPowerOfTwo(lines / c.ways))
        throw InputError(key + ".size: " + std::to_string(c.size) + " bytes make " +
                         std::to_string(lines / c.ways) + " sets of " + std::to_string(c.ways) +
                         " ways x " + std::to_string(c.line_bytes) + " bytes, not a power of two");
    validateGeometry(static_cast<unsigned>(lines), c.ways, c.replacement, key);
    return static_cast<unsigned>(lines);
}

// An absent level keeps a one-entry array so that no member needs a special case to exist.
unsigned arrayEntries(const CacheConfig& c, const std::string& key) {
    return c.size == 0 ? 1 : validatedLines(c, key);
}

} // namespace

const char* toString(Mesi state) {
    switch (state) {
    case Mesi::Invalid:
        return "I";
    case Mesi::Shared:
        return "S";
    case Mesi::Exclusive:
        return "E";
    case Mesi::Modified:
        return "M";
    }
    return "?";
}

Cache::Cache(const CacheConfig& config, const std::string& key)
    : config_(config), array_(arrayEntries(config, key), config.size == 0 ? 1 : config.ways,
                              config.replacement, config.seed) {}

int Cache::wayOf(Addr line) const {
    if (!present()) return -1;
    const unsigned set = setOf(line);
    for (unsigned w = 0; w < array_.ways(); ++w)
        if (array_.valid(set, w) && array_.at(set, w).line == line) return static_cast<int>(w);
    return -1;
}

CacheLine* Cache::lookup(Addr line) {
    const int way = wayOf(line);
    if (way < 0) return nullptr;
    array_.touch(setOf(line), static_cast<unsigned>(way));
    return &array_.at(setOf(line), static_cast<unsigned>(way));
}

CacheLine* Cache::probe(Addr line) {
    const int way = wayOf(line);
    return way < 0 ? nullptr : &array_.at(setOf(line), static_cast<unsigned>(way));
}

bool Cache::lostToCoherence(Addr line) const {
    if (!present()) return false;
    const unsigned set = setOf(line);
    for (unsigned w = 0; w < array_.ways(); ++w) {
        const CacheLine& l = array_.at(set, w);
        if (!array_.valid(set, w) && l.line == line && l.lost_to_coherence) return true;
    }
    return false;
}

CacheLine* Cache::fill(Addr line, Mesi state, Victim* victim) {
    const unsigned set = setOf(line);
    // An older invalidated copy must not make a later capacity miss look like a coherence one.
    for (unsigned w = 0; w < array_.ways(); ++w)
        if (!array_.valid(set, w) && array_.at(set, w).line == line)
            array_.at(set, w).lost_to_coherence = false;
    const unsigned way = array_.wayToFill(set);
    victim->valid = array_.valid(set, way);
    if (victim->valid) victim->line = array_.at(set, way);
    CacheLine fresh;
    fresh.line = line;
    fresh.state = state;
    array_.place(set, way, fresh);
    return &array_.at(set, way);
}

Victim Cache::invalidate(Addr line, bool by_coherence) {
    Victim v;
    const int way = wayOf(line);
    if (way < 0) return v;
    CacheLine& l = array_.at(setOf(line), static_cast<unsigned>(way));
    v.valid = true;
    v.line = l;
    l.state = Mesi::Invalid;
    l.dirty = false;
    l.lost_to_coherence = by_coherence;
    array_.invalidate(setOf(line), static_cast<unsigned>(way));
    return v;
}

} // namespace tlmmu
