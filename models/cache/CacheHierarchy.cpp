#include "cache/CacheHierarchy.h"

namespace tlmmu {

namespace {

bool isWrite(CacheAccessKind kind) {
    return kind == CacheAccessKind::Store || kind == CacheAccessKind::Atomic;
}

std::uint64_t bitOf(unsigned core) {
    return std::uint64_t{1} << core;
}

template <class Fn> void forEachCore(std::uint64_t mask, Fn fn) {
    for (; mask; mask &= mask - 1)
        fn(static_cast<unsigned>(__builtin_ctzll(mask)));
}

// Coherence works on one line size, so every present level must agree on it.
unsigned commonLineBytes(const CacheHierarchyConfig& c) {
    const std::pair<const char*, const CacheConfig*> levels[] = {
        {"l1i", &c.l1i}, {"l1d", &c.l1d}, {"l2", &c.l2}, {"llc", &c.llc}};
    const char* first = nullptr;
    unsigned bytes = 64; // no level present: any size will do
    for (const auto& [name, level] : levels) {
        if (level->size == 0) continue;
        if (!first) {
            first = name;
            bytes = level->line_bytes;
        } else if (level->line_bytes != bytes) {
            throw InputError(std::string("cache.") + name +
                             ".line_bytes: " + std::to_string(level->line_bytes) +
                             " differs from cache." + first + ".line_bytes " +
                             std::to_string(bytes) + " (every level has the same line size)");
        }
    }
    return bytes;
}

unsigned validatedCores(unsigned cores) {
    if (cores == 0 || cores > 64)
        throw InputError("cores: " + std::to_string(cores) +
                         " cores, the cache directory holds 1 to 64");
    return cores;
}

CacheConfig seededFor(CacheConfig c, unsigned core) {
    c.seed += core; // random replacement: each core's caches draw their own sequence
    return c;
}

} // namespace

const char* toString(CacheLevel level) {
    switch (level) {
    case CacheLevel::L1i:
        return "l1i";
    case CacheLevel::L1d:
        return "l1d";
    case CacheLevel::L2:
        return "l2";
    case CacheLevel::Llc:
        return "llc";
    case CacheLevel::Remote:
        return "remote";
    case CacheLevel::Memory:
        return "memory";
    }
    return "?";
}

CacheEntry parseCacheEntry(const std::string& name, const std::string& key) {
    if (name == "l1d") return CacheEntry::L1;
    if (name == "l2") return CacheEntry::L2;
    if (name == "llc") return CacheEntry::Llc;
    if (name == "memory") return CacheEntry::Memory;
    throw InputError(key + ": unknown cache level '" + name + "' (allowed: l1d, l2, llc, memory)");
}

CacheHierarchy::CacheHierarchy(const CacheHierarchyConfig& config, MemoryPort& memory)
    : llc_(config.llc, "cache.llc"), line_bytes_(commonLineBytes(config)),
      line_shift_(static_cast<unsigned>(__builtin_ctz(line_bytes_))),
      transfer_cycles_(config.transfer_cycles), memory_(memory) {
    const unsigned n = validatedCores(config.cores);
    cores_.reserve(n);
    for (unsigned core = 0; core < n; ++core)
        cores_.push_back({Cache(seededFor(config.l1i, core), "cache.l1i"),
                          Cache(seededFor(config.l1d, core), "cache.l1d"),
                          Cache(seededFor(config.l2, core), "cache.l2"), 0});
}

CacheAccessResult CacheHierarchy::access(unsigned core, CacheAccessKind kind, Addr pa,
                                         unsigned bytes, CacheEntry entry) {
    const Addr first = pa >> line_shift_;
    const Addr last = (pa + (bytes ? bytes : 1) - 1) >> line_shift_;
    CacheAccessResult total;
    for (Addr line = first; line <= last; ++line) {
        // A store that overwrites the whole line needs none of its old data: the line is
        // taken in Modified without a fill from memory or a transfer from its owner (only the
        // other copies' invalidation), as full-line stores of fast-string operations (clear_page
        // and copy_page's rep stos/movs) are done without a read for ownership.
        whole_line_write_ =
            isWrite(kind) && addressOf(line) >= pa && addressOf(line) + line_bytes_ <= pa + bytes;
        const CacheAccessResult r = accessLine(core, kind, line, entry);
        if (r.level == CacheLevel::Memory) ++cores_[core].memory_lines;
        total.cycles += r.cycles;
        if (line == first || r.level > total.level) total.level = r.level;
        total.coherence_miss |= r.coherence_miss;
    }
    whole_line_write_ = false;
    return total;
}

CacheHierarchy::Path CacheHierarchy::pathOf(unsigned core, CacheAccessKind kind, CacheEntry entry) {
    Path p;
    PrivateCaches& pc = cores_[core];
    auto add = [&p](Cache& c, CacheLevel level) {
        if (c.present()) p.levels[p.size++] = {&c, level};
    };
    if (entry == CacheEntry::L1) {
        if (kind == CacheAccessKind::Fetch)
            add(pc.l1i, CacheLevel::L1i);
        else
            add(pc.l1d, CacheLevel::L1d);
    }
    if (entry == CacheEntry::L1 || entry == CacheEntry::L2) add(pc.l2, CacheLevel::L2);
    return p;
}

CacheAccessResult CacheHierarchy::accessLine(unsigned core, CacheAccessKind kind, Addr line,
                                             CacheEntry entry) {
    const bool write = isWrite(kind);
    CacheAccessResult r;
    if (entry == CacheEntry::Memory) {
        r.level = CacheLevel::Memory;
        r.cycles = write ? memory_.writeback(addressOf(line)) : memory_.fill(addressOf(line));
        return r;
    }
    const Path path = pathOf(core, kind, entry);
    CacheLine* copy = nullptr;
    const unsigned hit = lookUpPrivate(path, write, line, r, copy);
    if (hit == 0 && path.size && (!write || copy->state == Mesi::Modified)) {
        copy->dirty |= write; // the common case: no state changes anywhere
        return r;
    }
    Mesi state;
    if (hit < path.size) {
        state = write ? Mesi::Modified : copy->state;
    } else {
        // Without an LLC an upgrade is answered by the directory alone: reported at the
        // farthest private level; a write that caches nowhere goes to memory. resolveShared
        // overrides it when the LLC, a transfer or a fill serves.
        r.level = path.size ? path.levels[path.size - 1].level : CacheLevel::Memory;
        state = resolveShared(core, write, path.size != 0, line, r);
    }
    fillPath(core, path, hit, line, state, r);
    if (path.size == 0) return r;
    setCoreState(core, line, state); // E -> M on a write hit, S -> M after an upgrade
    if (write) path.levels[0].cache->probe(line)->dirty = true;
    return r;
}

unsigned CacheHierarchy::lookUpPrivate(const Path& path, bool write, Addr line,
                                       CacheAccessResult& r, CacheLine*& copy) {
    for (unsigned i = 0; i < path.size; ++i) {
        Cache& c = *path.levels[i].cache;
        r.cycles += c.latency();
        ++c.counters.accesses;
        copy = c.lookup(line);
        if (copy && (!write || copy->state != Mesi::Shared)) {
            ++c.counters.hits;
            r.level = path.levels[i].level;
            return i;
        }
        ++c.counters.misses;
        if (!copy && c.lostToCoherence(line)) {
            ++c.counters.coherence_misses;
            r.coherence_miss = true;
        }
    }
    return path.size;
}

Mesi CacheHierarchy::resolveShared(unsigned core, bool write, bool caches, Addr line,
                                   CacheAccessResult& r) {
    DirectoryEntry* dir = findDirectory(line, r);
    const std::uint64_t self = caches ? bitOf(core) : 0;
    const std::uint64_t others = dir->sharers & ~self;
    const bool transfer =
        dir->owner != DirectoryEntry::kNoOwner &&
        (others & bitOf(static_cast<unsigned>(dir->owner))) &&
        state(static_cast<unsigned>(dir->owner), addressOf(line)) == Mesi::Modified;
    if (transfer && !whole_line_write_) {
        r.cycles += transfer_cycles_;
        r.level = CacheLevel::Remote;
        ++coherence.transfers;
    } else if (!llc_.present() && !whole_line_write_ && needsData(core, write, caches, line)) {
        r.cycles += memory_.fill(addressOf(line));
        r.level = CacheLevel::Memory;
    }
    const Mesi granted = updateDirectory(*dir, core, write, caches, others, line, r);
    if (!llc_.present() && dir->sharers == 0) snoop_filter_.erase(line);
    return granted;
}

Mesi CacheHierarchy::updateDirectory(DirectoryEntry& dir, unsigned core, bool write, bool caches,
                                     std::uint64_t others, Addr line, CacheAccessResult& r) {
    const std::uint64_t self = caches ? bitOf(core) : 0;
    if (write) {
        invalidateOthers(others, line); // a Modified copy's data went to the writer
        dir.sharers = self;
        dir.owner = caches ? static_cast<int>(core) : DirectoryEntry::kNoOwner;
        if (!caches) writeDirtyToLlc(line, r);
        return Mesi::Modified;
    }
    downgradeOthers(others, line, r);
    const Mesi granted = others ? Mesi::Shared : Mesi::Exclusive;
    dir.sharers |= self;
    dir.owner =
        caches && granted == Mesi::Exclusive ? static_cast<int>(core) : DirectoryEntry::kNoOwner;
    return granted;
}

bool CacheHierarchy::needsData(unsigned core, bool write, bool caches, Addr line) {
    // An upgrade has the data; a write that allocates nowhere goes to memory as a write-back.
    return caches ? !coreHolds(core, line) : !write;
}

DirectoryEntry* CacheHierarchy::findDirectory(Addr line, CacheAccessResult& r) {
    if (!llc_.present()) return &snoop_filter_[line];
    r.cycles += llc_.latency();
    ++llc_.counters.accesses;
    if (CacheLine* l = llc_.lookup(line)) {
        ++llc_.counters.hits;
        r.level = CacheLevel::Llc;
        return &l->directory;
    }
    ++llc_.counters.misses;
    if (whole_line_write_) {
        r.level = CacheLevel::Llc; // allocated without its old data
    } else {
        r.level = CacheLevel::Memory;
        r.cycles += memory_.fill(addressOf(line));
    }
    Victim victim;
    CacheLine* l = llc_.fill(line, Mesi::Exclusive, &victim); // LLC state: present, clean
    if (victim.valid) evictLlc(victim, r);
    return &l->directory;
}

void CacheHierarchy::invalidateOthers(std::uint64_t cores, Addr line) {
    forEachCore(cores, [&](unsigned c) {
        dropCoreCopies(c, line, true);
        ++coherence.invalidations;
    });
}

void CacheHierarchy::downgradeOthers(std::uint64_t cores, Addr line, CacheAccessResult& r) {
    forEachCore(cores, [&](unsigned c) {
        bool dirty = false;
        PrivateCaches& pc = cores_[c];
        for (Cache* cache : {&pc.l1i, &pc.l1d, &pc.l2})
            if (CacheLine* l = cache->probe(line)) {
                dirty |= l->dirty;
                l->dirty = false;
                l->state = Mesi::Shared;
            }
        if (dirty) writeDirtyToLlc(line, r);
    });
}

void CacheHierarchy::fillPath(unsigned core, const Path& path, unsigned levels, Addr line,
                              Mesi state, CacheAccessResult& r) {
    // Farthest first, so that a line is in the L2 before its L1 copy (inclusion).
    for (unsigned i = levels; i-- > 0;) {
        Cache& c = *path.levels[i].cache;
        if (c.probe(line)) continue; // an upgrade: the copy is there, only its state changes
        Victim victim;
        c.fill(line, state, &victim);
        if (victim.valid) evictPrivate(core, c, victim, r);
    }
}

void CacheHierarchy::evictPrivate(unsigned core, Cache& from, const Victim& victim,
                                  CacheAccessResult& r) {
    const Addr line = victim.line.line;
    PrivateCaches& pc = cores_[core];
    bool dirty = victim.line.dirty;
    if (&from == &pc.l2) dirty |= dropCoreCopies(core, line, false); // L1s are in the L2
    if (dirty) {
        ++from.counters.writebacks;
        if (&from != &pc.l2 && pc.l2.present())
            pc.l2.probe(line)->dirty = true;
        else
            writeDirtyToLlc(line, r);
    }
    forgetIfGone(core, line);
}

void CacheHierarchy::evictLlc(const Victim& victim, CacheAccessResult& r) {
    const Addr line = victim.line.line;
    bool dirty = victim.line.dirty;
    forEachCore(victim.line.directory.sharers, [&](unsigned c) {
        dirty |= dropCoreCopies(c, line, false);
        ++coherence.back_invalidations;
    });
    if (!dirty) return;
    ++llc_.counters.writebacks;
    r.cycles += memory_.writeback(addressOf(line));
}

void CacheHierarchy::writeDirtyToLlc(Addr line, CacheAccessResult& r) {
    if (llc_.present())
        llc_.probe(line)->dirty = true; // inclusion: the LLC holds every private line
    else
        r.cycles += memory_.writeback(addressOf(line));
}

void CacheHierarchy::setCoreState(unsigned core, Addr line, Mesi state) {
    PrivateCaches& pc = cores_[core];
    for (Cache* cache : {&pc.l1i, &pc.l1d, &pc.l2})
        if (CacheLine* l = cache->probe(line)) l->state = state;
}

bool CacheHierarchy::dropCoreCopies(unsigned core, Addr line, bool by_coherence) {
    PrivateCaches& pc = cores_[core];
    bool dirty = false;
    for (Cache* cache : {&pc.l1i, &pc.l1d, &pc.l2}) {
        const Victim v = cache->invalidate(line, by_coherence);
        dirty |= v.valid && v.line.dirty;
    }
    return dirty;
}

bool CacheHierarchy::coreHolds(unsigned core, Addr line) {
    PrivateCaches& pc = cores_[core];
    return pc.l1i.probe(line) || pc.l1d.probe(line) || pc.l2.probe(line);
}

void CacheHierarchy::forgetIfGone(unsigned core, Addr line) {
    if (coreHolds(core, line)) return;
    DirectoryEntry* d = nullptr;
    auto it = snoop_filter_.end();
    if (llc_.present()) {
        CacheLine* l = llc_.probe(line);
        if (l) d = &l->directory;
    } else {
        it = snoop_filter_.find(line);
        if (it != snoop_filter_.end()) d = &it->second;
    }
    if (!d) return;
    d->sharers &= ~bitOf(core);
    if (d->owner == static_cast<int>(core)) d->owner = DirectoryEntry::kNoOwner;
    if (it != snoop_filter_.end() && d->sharers == 0) snoop_filter_.erase(it);
}

Mesi CacheHierarchy::state(unsigned core, Addr pa) {
    const Addr line = pa >> line_shift_;
    PrivateCaches& pc = cores_[core];
    for (Cache* cache : {&pc.l2, &pc.l1d, &pc.l1i})
        if (const CacheLine* l = cache->probe(line)) return l->state;
    return Mesi::Invalid;
}

DirectoryEntry CacheHierarchy::directory(Addr pa) {
    const Addr line = pa >> line_shift_;
    if (llc_.present()) {
        const CacheLine* l = llc_.probe(line);
        return l ? l->directory : DirectoryEntry{};
    }
    const auto it = snoop_filter_.find(line);
    return it == snoop_filter_.end() ? DirectoryEntry{} : it->second;
}

} // namespace tlmmu
