#include "mmu/Mmu.h"

#include "arch/pte_format.h"

namespace tlmmu {

Mmu::Mmu(sc_core::sc_module_name name, const MmuConfig& config, const PteFormat& format,
         const Clock& clock, const TlbFactory& make_tlb)
    : sc_module(name), translate_socket("translate_socket"), invalidate_socket("invalidate_socket"),
      walker("walker", format, config.pwc, clock), config_(config), format_(format), clock_(clock) {
    for (unsigned l = 0; l < format.levels() && l < 8; ++l)
        level_shift_[l] = format.levelShift(l);
    translate_socket.bind(*this);
    invalidate_socket.bind(*this);
    auto build = [&](Level& level, TlbConfig c) {
        if (c.absent()) return;
        c.geometry = format.geometry();
        c.asid_bits = config.asid_bits;
        level.tlb = make_tlb ? make_tlb(c) : std::make_unique<Tlb>(c);
        level.latency_cycles = c.lookupLatency(); // of a level of arrays: the slowest one's
        level.latency = clock.cycles(level.latency_cycles);
        level.clock = &clock;
        level.model = dynamic_cast<Tlb*>(level.tlb.get());
    };
    build(l1i_, config.l1i);
    build(l1d_, config.l1d);
    build(l2_, config.l2);
}

bool Mmu::Level::lookup(Addr va, Asid asid, TlbEntry& out, TranslationExtension& ext,
                        sc_core::sc_time& delay) {
    if (!tlb) return false;
    ++accesses;
    bool hit;
    if (model) {
        hit = model->lookup(va, asid, out);
        delay += latency;
        ext.tlb_cycles += latency_cycles;
    } else {
        hit = tlb->lookup(va, asid, out);
        const Cycles cycles = tlb->lookupCycles();
        delay += clock->cycles(cycles);
        ext.tlb_cycles += cycles;
    }
    if (hit)
        ++hits;
    else
        ++misses;
    return hit;
}

void Mmu::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
    auto* ext = trans.get_extension<TranslationExtension>();
    if (!ext) {
        trans.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    switch (ext->op) {
    case TranslationExtension::Op::Translate:
        translate(*ext, delay);
        break;
    case TranslationExtension::Op::Invalidate: {
        const auto kind = static_cast<FlushKind>(ext->flush_kind);
        invalidate(kind, ext->va, ext->asid);
        const bool page = kind == FlushKind::Va || kind == FlushKind::VaAsid;
        const Cycles cost = page ? config_.invalidate_page_cycles : config_.invalidate_asid_cycles;
        if (cost) delay += clock_.cycles(cost);
        break;
    }
    case TranslationExtension::Op::TlbWrite:
        ++epoch_;
        tlbWrite(*ext);
        break;
    case TranslationExtension::Op::SetRoot:
        ++epoch_;
        root_ = ext->root;
        asid_ = ext->asid;
        break;
    }
    trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

// Only for a C++ TLB of one array (an RTL TLB has state of its own to advance; several arrays
// count hits per array).
void Mmu::grant(TranslationExtension& ext, Level& l1, const TlbEntry& e) {
    if (!l1.model || l1.model->arrays() != 1) return;
    TranslationGrant& g = ext.grant;
    const unsigned shift = level_shift_[e.level];
    g.mask = (Addr{1} << shift) - 1;
    g.va_tag = ext.va & ~g.mask;
    g.pa_tag = (e.ppn << level_shift_[0]) & ~g.mask;
    g.level = e.level;
    g.allowed = 0;
    for (AccessType a : {AccessType::Read, AccessType::Write, AccessType::Execute})
        if (checkAccess(e.flags, a, ext.priv) == FaultKind::None &&
            (a != AccessType::Write || (e.flags & PTE_F_D)))
            g.allowed |= static_cast<std::uint8_t>(1u << static_cast<unsigned>(a));
    g.accesses = &l1.accesses;
    g.hits = &l1.hits;
    g.latency_cycles = l1.latency_cycles;
    g.at = epoch_;
    g.epoch = &epoch_;
}

void Mmu::finish(TranslationExtension& ext, const TlbEntry& e) {
    const unsigned shift = level_shift_[e.level];
    ext.pa = (e.ppn << level_shift_[0]) | (ext.va & ((Addr{1} << shift) - 1));
    ext.level = e.level;
    ext.fault = FaultKind::None;
}

void Mmu::translate(TranslationExtension& ext, sc_core::sc_time& delay) {
    ext.fault = FaultKind::None;
    ext.tlb_cycles = ext.walk_cycles = 0;
    ext.walked = false;
    const Asid asid = asid_;
    ext.grant.epoch = nullptr;
    Level& l1 = ext.access == AccessType::Execute ? l1i_ : l1d_;
    TlbEntry e;
    const bool l1_hit = l1.lookup(ext.va, asid, e, ext, delay);
    bool hit = l1_hit;
    if (!l1_hit) ++epoch_; // what follows may fill or replace L1 entries
    if (!hit && l2_.lookup(ext.va, asid, e, ext, delay)) {
        hit = true;
        if (l1.tlb) l1.tlb->fill(e);
    }
    if (hit) {
        ext.fault = checkAccess(e.flags, ext.access, ext.priv);
        if (ext.fault != FaultKind::None) return;
        // A write to a page cached clean needs the walker to set D before it may proceed.
        if (ext.access != AccessType::Write || (e.flags & PTE_F_D)) {
            if (l1_hit) grant(ext, l1, e);
            return finish(ext, e);
        }
        ++dirty_walks_;
        ++epoch_;
    }
    if (config_.software_refill) {
        ext.fault = FaultKind::TlbMiss;
        refill_l1_ = &l1;
        refill_vpn_ = ext.va >> format_.pageShift();
        return;
    }
    WalkRequest req;
    req.va = ext.va;
    req.asid = asid;
    req.access = ext.access;
    req.priv = ext.priv;
    req.root = root_;
    req.hardware_ad = config_.hardware_ad;
    const std::uint64_t generation = generation_;
    sc_core::sc_time walk_delay = sc_core::SC_ZERO_TIME;
    const WalkResult r = walker.walk(req, walk_delay);
    delay += walk_delay;
    ext.walked = true;
    ext.walk_cycles = clock_.toCycles(walk_delay);
    ext.walk_reads = static_cast<std::uint8_t>(r.reads);
    ext.walk_writes = static_cast<std::uint8_t>(r.writes);
    ext.walk_level =
        static_cast<std::uint8_t>(r.fault == FaultKind::None ? r.entry.level : r.fault_level);
    if (r.fault != FaultKind::None) {
        ext.fault = r.fault;
        return;
    }
    if (generation == generation_) {
        if (l2_.tlb) l2_.tlb->fill(r.entry);
        if (l1.tlb) l1.tlb->fill(r.entry);
    } else {
        ++dropped_refills_;
    }
    finish(ext, r.entry);
}

// A software refill writes the entry where the walker's fill would put it: the last level (L2
// when present) and the L1 that missed. With an L2, other L1 copies of the page (e.g. clean,
// when the refill sets D) are dropped first, as the written entry supersedes them. Without an
// L2 only the L1 that missed is filled, as by the walker (filling both wasted an entry of the
// other L1 on every refill); a write that did not trap has no L1 of its own and fills both.
void Mmu::tlbWrite(const TranslationExtension& ext) {
    TlbEntry e;
    e.vpn = ext.va;
    e.ppn = ext.ppn;
    e.asid = ext.asid;
    e.level = ext.level;
    e.flags = ext.flags;
    const Addr va = ext.va << format_.pageShift();
    // The entry that trapped goes where the walker's fill would put it: the last level and the
    // L1 that missed; other L1 copies of that VA are replaced by dropping them.
    const std::uint64_t span_mask = (std::uint64_t{1} << (e.level * format_.indexBits())) - 1;
    Level* missed = refill_l1_ && (refill_vpn_ & ~span_mask) == ext.va ? refill_l1_ : nullptr;
    refill_l1_ = nullptr;
    if (l2_.tlb) {
        for (Level* l : {&l1i_, &l1d_})
            if (l->tlb && l != missed) l->tlb->invalidate(FlushKind::Va, va, e.asid);
        l2_.tlb->fill(e);
        if (missed && missed->tlb) missed->tlb->fill(e);
        return;
    }
    if (missed) {
        if (missed->tlb) missed->tlb->fill(e);
        return;
    }
    for (Level* l : {&l1i_, &l1d_})
        if (l->tlb) l->tlb->fill(e);
}

void Mmu::invalidate(FlushKind kind, Addr va, Asid asid) {
    ++generation_;
    ++epoch_;
    ++invalidations_;
    for (Level* l : {&l1i_, &l1d_, &l2_})
        if (l->tlb) l->tlb->invalidate(kind, va, asid);
    walker.invalidate(kind, va, asid);
}

void Mmu::registerStats(Stats& stats, const std::string& prefix) const {
    auto level = [&](const Level& l, const char* name) {
        const std::string p = prefix + ".tlb." + name;
        stats.counter(p + ".accesses", &l.accesses, {"lookups", "lookups in this TLB level"});
        stats.counter(p + ".hits", &l.hits, {"lookups", "lookups that hit"});
        stats.counter(p + ".misses", &l.misses, {"lookups", "lookups that missed"});
        // A level given as arrays: per array; with one array its hits are the level's.
        if (!l.model || l.model->config().arrays.empty()) return;
        for (unsigned i = 0; i < l.model->arrays(); ++i) {
            const std::string a = p + ".arrays[" + std::to_string(i) + "]";
            const TlbArrayStats& s = l.model->arrayStats(i);
            stats.counter(a + ".hits", l.model->arrays() > 1 ? &s.hits : &l.hits,
                          {"lookups", "hits in this array"});
            stats.counter(a + ".fills", &s.fills,
                          {"entries", "translations filled into this array"});
        }
        stats.counter(
            p + ".uncacheable_fills", &l.model->uncacheableFills(),
            {"translations", "translations no array of this level can hold (not filled)"});
    };
    level(l1i_, "l1i");
    level(l1d_, "l1d");
    level(l2_, "l2");
    stats.counter(
        prefix + ".mmu.dirty_walks", &dirty_walks_,
        {"walks", "walks made by a store to a clean cached entry (to set the dirty bit)"});
    stats.counter(prefix + ".mmu.dropped_refills", &dropped_refills_,
                  {"refills", "refills dropped because an invalidation raced them"});
    stats.counter(prefix + ".mmu.invalidations", &invalidations_,
                  {"operations", "invalidation operations this MMU performed"});
    walker.registerStats(stats, prefix + ".walker", prefix + ".pwc");
}

} // namespace tlmmu
