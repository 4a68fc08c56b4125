#include "mmu/Tlb.h"

#include <algorithm>

namespace tlmmu {

namespace {

// "4KiB", "2MiB", "1GiB", "3000" (bytes): as a configuration would spell it.
std::string sizeText(std::uint64_t bytes) {
    static const char* const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    std::string unit;
    for (const char* u : units) {
        if (bytes < 1024 || bytes % 1024 != 0) break;
        bytes /= 1024;
        unit = u;
    }
    return std::to_string(bytes) + unit;
}

// The leaf level of page size `bytes` in `g`, or -1 when the format has no such leaf.
int leafLevelOf(const PageGeometry& g, std::uint64_t bytes) {
    for (unsigned l = 0; l < g.levels && l < 8; ++l)
        if (((g.leaf_level_mask >> l) & 1u) && pageSizeBytes(g, l) == bytes)
            return static_cast<int>(l);
    return -1;
}

std::string formatSizes(const PageGeometry& g) {
    std::string s;
    for (unsigned l = 0; l < g.levels && l < 8; ++l)
        if ((g.leaf_level_mask >> l) & 1u)
            s += (s.empty() ? "" : ", ") + sizeText(pageSizeBytes(g, l));
    return s;
}

// The leaf levels an array holds in `g` (sizes the format does not have hold nothing).
std::uint32_t levelMask(const TlbArrayConfig& a, const PageGeometry& g) {
    if (a.page_sizes.empty()) return g.leaf_level_mask;
    std::uint32_t mask = 0;
    for (std::uint64_t size : a.page_sizes)
        if (const int l = leafLevelOf(g, size); l >= 0) mask |= 1u << l;
    return mask;
}

} // namespace

std::vector<TlbArrayConfig> TlbConfig::effectiveArrays() const {
    if (!arrays.empty()) return arrays;
    TlbArrayConfig a;
    a.entries = entries;
    a.ways = ways;
    a.replacement = replacement;
    a.latency_cycles = latency_cycles;
    return {a};
}

unsigned TlbConfig::lookupLatency() const {
    if (arrays.empty()) return latency_cycles;
    unsigned slowest = 0;
    for (const TlbArrayConfig& a : arrays)
        slowest = std::max(slowest, a.latency_cycles);
    return slowest;
}

std::string TlbConfig::arrayKey(unsigned i) const {
    return "tlb." + name + (arrays.empty() ? "" : ".arrays[" + std::to_string(i) + "]");
}

void validateTlbArrays(const TlbConfig& config, const PageGeometry& geometry,
                       const std::string& format, AbsentPageSize absent) {
    const std::vector<TlbArrayConfig> arrays = config.effectiveArrays();
    std::vector<int> holder(64, -1); // by log2(size): the array that lists it
    for (unsigned i = 0; i < arrays.size(); ++i) {
        const TlbArrayConfig& a = arrays[i];
        const std::string key = config.arrayKey(i);
        validateGeometry(a.entries, a.ways, a.replacement, key);
        for (std::uint64_t size : a.page_sizes) {
            const std::string what = key + ".page_sizes: " + sizeText(size);
            if (size == 0 || (size & (size - 1)) != 0)
                throw InputError(what + " is not a page size (a power of two of bytes)");
            if (absent == AbsentPageSize::Refuse && leafLevelOf(geometry, size) < 0)
                throw InputError(what + " is not a page size of " + format +
                                 " (its page sizes: " + formatSizes(geometry) + ")");
            int& h = holder[static_cast<unsigned>(__builtin_ctzll(size))];
            if (h == static_cast<int>(i)) throw InputError(what + " is listed twice");
            if (h >= 0)
                throw InputError(what + " is already held by " + config.arrayKey(h) +
                                 " (a page size lives in one array)");
            h = static_cast<int>(i);
        }
    }
    // An array of every size (page_sizes omitted) shares them with any other array.
    if (arrays.size() > 1)
        for (unsigned i = 0; i < arrays.size(); ++i)
            if (arrays[i].page_sizes.empty())
                throw InputError(config.arrayKey(i) +
                                 ".page_sizes: missing (a level of several arrays names the page "
                                 "sizes of each)");
}

void validateTlbArrays(const TlbConfig& config, const PteFormat& format, AbsentPageSize absent) {
    validateTlbArrays(config, format.geometry(), format.name(), absent);
}

Tlb::Array::Array(const TlbArrayConfig& c, std::uint32_t level_mask, std::uint64_t seed)
    : store(c.entries, c.ways, c.replacement, seed), leaf_levels{} {
    for (unsigned l = 0; l < 8; ++l)
        if ((level_mask >> l) & 1u) leaf_levels[num_leaf_levels++] = l;
}

Tlb::Tlb(const TlbConfig& config) : Tlb(config, checkedArrays(config)) {}

// Validated before any array is made: SetAssocArray needs a possible geometry.
std::vector<TlbArrayConfig> Tlb::checkedArrays(const TlbConfig& config) {
    validateTlbArrays(config, config.geometry, "the format", AbsentPageSize::Ignore);
    return config.effectiveArrays();
}

Tlb::Tlb(const TlbConfig& config, const std::vector<TlbArrayConfig>& arrays)
    : TlbInterface(config),
      first_(arrays.size() == 1 ? arrays[0] : TlbArrayConfig{{}, 1, 1, Replacement::Lru, 0},
             arrays.size() == 1 ? levelMask(arrays[0], config.geometry) : 0, config.seed) {
    config_.latency_cycles = config.lookupLatency();
    split_ = arrays.size() > 1;
    if (split_)
        for (unsigned i = 0; i < arrays.size(); ++i)
            split_arrays_.emplace_back(arrays[i], levelMask(arrays[i], config.geometry),
                                       config.seed + i);
    // The single form caches a leaf of any level, as it always has; arrays only their sizes.
    std::fill(std::begin(array_of_level_), std::end(array_of_level_),
              config.arrays.empty() ? 0 : -1);
    for (unsigned i = 0; i < this->arrays(); ++i)
        for (unsigned p = 0; p < arr(i).num_leaf_levels; ++p)
            array_of_level_[arr(i).leaf_levels[p]] = static_cast<std::int8_t>(i);
}

unsigned Tlb::occupancy() const {
    unsigned n = 0;
    for (unsigned i = 0; i < arrays(); ++i)
        n += occupancy(i);
    return n;
}

inline bool Tlb::probe(Array& a, std::uint64_t vpn, Asid asid, TlbEntry& out) {
    SetAssocArray<TlbEntry>& array = a.store;
    const unsigned ways = array.ways();
    // Fully associative: one pass over every way, each entry compared at its own page size.
    // Set associative: each page size the array holds indexes its own set (hash-rehash).
    const unsigned probes = array.sets() == 1 ? 1 : a.num_leaf_levels;
    for (unsigned p = 0; p < probes; ++p) {
        const unsigned level = a.leaf_levels[p];
        const unsigned set = array.sets() == 1 ? 0 : setIndex(a, vpn, level);
        for (unsigned w = 0; w < ways; ++w) {
            if (!array.valid(set, w)) continue;
            const TlbEntry& e = array.at(set, w);
            if ((probes == 1 || e.level == level) && matches(e, vpn, asid)) {
                array.touch(set, w);
                out = e;
                mru_ = e;
                mru_vpn_ = vpn;
                mru_asid_ = asid;
                mru_valid_ = true;
                return true;
            }
        }
    }
    return false;
}

bool Tlb::lookup(Addr va, Asid asid, TlbEntry& out) {
    const std::uint64_t vpn = va >> config_.geometry.page_shift;
    asid = maskAsid(asid);
    // The same base page and ASID as the previous lookup, which hit, with no fill or
    // invalidation since: the result is a function of the entries alone, so it is the same
    // entry; and touching the most recently used way again changes no victim choice (LRU order,
    // PLRU bits, FIFO and random state stay as they are). So the probe can be skipped.
    // (A level of several arrays never sets mru_valid_: it keeps its own shortcut, which counts
    // the hit for its array, so that this path and the one-array probe stay as they were.)
    if (mru_valid_ && vpn == mru_vpn_ && asid == mru_asid_) {
        out = mru_;
        return true;
    }
    mru_valid_ = false;
    if (probe(first_, vpn, asid, out)) return true;
    return split_ && lookupSplit(vpn, asid, out);
}

// The arrays are probed in parallel; when several hit (overlapping translations of two sizes,
// as a stale entry after a page promotion leaves them) the first array in configuration order
// answers, and only its entry counts as used.
bool Tlb::lookupSplit(std::uint64_t vpn, Asid asid, TlbEntry& out) {
    if (split_mru_valid_ && vpn == mru_vpn_ && asid == mru_asid_) {
        ++arr(mru_array_).stats.hits;
        out = mru_;
        return true;
    }
    split_mru_valid_ = false;
    for (unsigned i = 0; i < arrays(); ++i) {
        Array& a = arr(i);
        if (probe(a, vpn, asid, out)) {
            mru_valid_ = false;
            split_mru_valid_ = true;
            ++a.stats.hits;
            mru_array_ = i;
            return true;
        }
    }
    return false;
}

void Tlb::fill(const TlbEntry& entry) {
    mru_valid_ = split_mru_valid_ = false;
    const int holder = entry.level < 8 ? array_of_level_[entry.level] : -1;
    if (holder < 0) {
        ++uncacheable_fills_;
        return;
    }
    Array& a = arr(static_cast<unsigned>(holder));
    ++a.stats.fills;
    SetAssocArray<TlbEntry>& array = a.store;
    TlbEntry e = entry;
    e.asid = maskAsid(e.asid);
    const unsigned set = setIndex(a, e.vpn, e.level);
    // A refill of a translation already present (e.g. to set D) replaces it in place, so that a
    // TLB never holds two entries for one page.
    for (unsigned w = 0; w < array.ways(); ++w) {
        if (!array.valid(set, w)) continue;
        TlbEntry& old = array.at(set, w);
        // A global translation is one translation whatever ASID refilled it.
        if (old.level == e.level && old.vpn == e.vpn &&
            (old.asid == e.asid || (old.global() && e.global()))) {
            old = e;
            array.touch(set, w);
            return;
        }
    }
    array.fill(set, e);
}

void Tlb::invalidate(FlushKind kind, Addr va, Asid asid) {
    mru_valid_ = split_mru_valid_ = false;
    const std::uint64_t vpn = va >> config_.geometry.page_shift;
    asid = maskAsid(asid);
    for (unsigned i = 0; i < arrays(); ++i) {
        SetAssocArray<TlbEntry>& array = arr(i).store;
        switch (kind) {
        case FlushKind::All:
            array.invalidateIf([](const TlbEntry&) { return true; });
            break;
        case FlushKind::Asid:
            array.invalidateIf([&](const TlbEntry& e) { return !e.global() && e.asid == asid; });
            break;
        case FlushKind::Va:
            array.invalidateIf([&](const TlbEntry& e) { return coversVa(e, vpn); });
            break;
        case FlushKind::VaAsid:
            array.invalidateIf([&](const TlbEntry& e) {
                return !e.global() && e.asid == asid && coversVa(e, vpn);
            });
            break;
        }
    }
}

} // namespace tlmmu
