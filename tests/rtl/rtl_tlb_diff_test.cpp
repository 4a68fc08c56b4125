// Differential constrained-random test: one stream of lookups, refills and invalidations drives
// the Verilated RTL TLB (RtlTlb) and the C++ Tlb side by side; every lookup's answer (hit, and
// the whole entry on a hit) must agree. Streams mix page sizes from real formats, clash ASIDs,
// use global entries, overfill sets and race refills with invalidations. Functional coverage is
// counted from the RTL's pins, printed, and every bin must be hit.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <random>
#include <sstream>

#include "arch/pte_format.h"
#include "mmu/RtlTlb.h"

namespace tlmmu {

// gtest prints the shape in test names and failures as e.g. 64/4 instead of raw bytes.
void PrintTo(const RtlTlb::Shape& shape, std::ostream* os) {
    *os << shape.entries << "/" << shape.ways;
}

namespace {

struct Format {
    const char* name;
    PageGeometry geometry;
};

// page_shift, index_bits, levels, leaf_level_mask: as PteFormat gives them for these formats.
const Format kFormats[] = {
    {"x86_64", {12, 9, 4, 0b111}}, // 4 KiB, 2 MiB, 1 GiB
    {"sv39", {12, 9, 3, 0b111}},
    {"x86_32", {12, 10, 2, 0b11}}, // 4 KiB, 4 MiB
};

const char* kKindNames[] = {"all", "asid", "va", "va_asid"};

// Coverage bins, named for the report; each must be hit at least once over all seeds.
struct Coverage {
    std::map<std::string, std::uint64_t> bins;
    void declare(const std::string& bin) { bins.emplace(bin, 0); }
    void hit(const std::string& bin) { ++bins[bin]; }
};

std::string describe(const TlbEntry& e) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "{vpn 0x%llx ppn 0x%llx asid %u level %u flags 0x%02x}",
                  static_cast<unsigned long long>(e.vpn), static_cast<unsigned long long>(e.ppn),
                  e.asid, e.level, e.flags);
    return buf;
}

class Stream {
  public:
    // Every other seed fills the TLB with base pages and rarely flushes: that reaches the high
    // ways of a fully associative TLB, which superpages and flushes otherwise keep empty.
    Stream(std::uint64_t seed, const TlbConfig& c)
        : rng_(seed), c_(c), superpage_share_(seed % 2 ? 0.3 : 0.03),
          invalidate_share_(seed % 2 ? 12 : 3) {
        for (unsigned l = 0; l < 8; ++l)
            if ((c.geometry.leaf_level_mask >> l) & 1u) levels_.push_back(l);
        asid_mask_ = c.asid_bits >= 16 ? 0xffffu : (1u << c.asid_bits) - 1;
    }
    std::uint64_t below(std::uint64_t n) { return rng_() % n; }
    bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

    // A base-page VPN from a small space, so that pages repeat, superpages overlap base pages
    // and sets overflow: low bits alias to a few sets, the upper levels take a few values.
    std::uint64_t vpn() {
        if (!recent_.empty() && chance(0.6)) {
            std::uint64_t v = recent_[below(recent_.size())];
            if (chance(0.3))
                v |= below(std::uint64_t{1} << c_.geometry.index_bits); // in a superpage
            return v;
        }
        const unsigned k = c_.geometry.index_bits;
        const unsigned sets = c_.entries / c_.ways;
        const std::uint64_t lo = below(2) + sets * below(c_.ways + 3); // sets 0/1, > ways pages
        std::uint64_t v = (below(2) << (2 * k)) | (below(3) << k) | lo;
        if (chance(0.02)) v |= std::uint64_t{0xfffff} << 32; // upper-half (kernel) addresses
        return v;
    }
    Asid asid() {
        // Narrow ASIDs: values that clash after masking to asid_bits.
        static const Asid pool[] = {0, 1, 2, 3};
        Asid a = pool[below(4)];
        if (asid_mask_ != 0xffffu && chance(0.3)) a = static_cast<Asid>(a | ((asid_mask_ + 1) * 3));
        return a;
    }
    Addr va(std::uint64_t vpn) { return (vpn << c_.geometry.page_shift) | below(4096); }
    TlbEntry entry() {
        TlbEntry e;
        if (!recent_entries_.empty() && chance(0.1)) {
            // The same translation again (e.g. to set D): must be overwritten in place.
            e = recent_entries_[below(recent_entries_.size())];
            e.ppn ^= below(4) << (c_.geometry.index_bits * e.level);
            e.flags = static_cast<std::uint8_t>(e.flags | PTE_F_D);
            return e;
        }
        const double r = std::uniform_real_distribution<double>(0, 1)(rng_);
        unsigned level = levels_[0];
        if (levels_.size() > 1 && r < superpage_share_) level = levels_[1];
        if (levels_.size() > 2 && r < superpage_share_ / 3) level = levels_[2];
        const std::uint64_t keep = ~((std::uint64_t{1} << c_.geometry.levelVpnBits(level)) - 1);
        e.level = static_cast<std::uint8_t>(level);
        e.vpn = vpn() & keep;
        e.ppn = (rng_() & ((std::uint64_t{1} << 40) - 1)) & keep;
        e.asid = asid();
        e.flags = static_cast<std::uint8_t>((rng_() & ~PTE_F_G) | PTE_F_V);
        if (chance(0.15)) e.flags |= PTE_F_G;
        recent_.push_back(e.vpn);
        if (recent_.size() > 2 * c_.entries) recent_.erase(recent_.begin());
        recent_entries_.push_back(e);
        if (recent_entries_.size() > 16) recent_entries_.erase(recent_entries_.begin());
        return e;
    }
    FlushKind kind() {
        // Flush-all wipes the coverage other operations build up: a tenth of the flushes.
        return chance(0.1) ? FlushKind::All : static_cast<FlushKind>(1 + below(3));
    }
    unsigned invalidateShare() const { return invalidate_share_; } // percent of operations

  private:
    std::mt19937_64 rng_;
    TlbConfig c_;
    std::vector<unsigned> levels_;
    std::vector<std::uint64_t> recent_;
    std::vector<TlbEntry> recent_entries_;
    unsigned asid_mask_;
    double superpage_share_;
    unsigned invalidate_share_;
};

// Runs one seed; returns "" or the first divergence. Coverage accumulates across seeds.
std::string runSeed(std::uint64_t seed, unsigned entries, unsigned ways, unsigned ops,
                    Coverage& cov) {
    const Format& format = kFormats[seed % 3];
    TlbConfig c;
    c.name = "l1d";
    c.entries = entries;
    c.ways = ways;
    c.replacement = Replacement::Plru;
    c.geometry = format.geometry;
    c.asid_bits = (seed / 3) % 4 == 0 ? 8 : 16;
    RtlTlb rtl(c);
    Tlb model(c);
    Stream s(seed, c);
    std::vector<std::string> history; // the operations so far, for the failure message
    auto log = [&](std::string text) { history.push_back(std::move(text)); };
    auto hex = [](std::uint64_t v) {
        std::ostringstream o;
        o << "0x" << std::hex << v;
        return o.str();
    };
    auto where = [&](unsigned op) {
        std::ostringstream o;
        o << "seed " << seed << " (" << format.name << ", " << entries << " entries, " << ways
          << " ways, asid_bits " << c.asid_bits << "), op " << op << ": ";
        return o.str();
    };
    auto recent = [&] {
        std::string text = "\nlast operations:";
        for (std::size_t i = history.size() > 40 ? history.size() - 40 : 0; i < history.size(); ++i)
            text += "\n  " + std::to_string(i) + " " + history[i];
        return text;
    };

    for (unsigned op = 0; op < ops; ++op) {
        const std::uint64_t r = s.below(100);
        if (r < 55 || (r >= 85 + s.invalidateShare() && r < 98)) {
            const Addr va = s.va(s.vpn());
            const Asid asid = s.asid();
            TlbEntry got, want;
            const bool rtl_hit = rtl.lookup(va, asid, got);
            const bool model_hit = model.lookup(va, asid, want);
            if (rtl_hit != model_hit || (rtl_hit && !(got == want)))
                return where(op) + "lookup va " + hex(va) + " asid " + std::to_string(asid) +
                       ": rtl " + (rtl_hit ? "hit " + describe(got) : "miss") + ", model " +
                       (model_hit ? "hit " + describe(want) : "miss") + recent();
            log("lookup va " + hex(va) + " asid " + std::to_string(asid) + " -> " +
                (rtl_hit ? "hit " + describe(got) + " way " + std::to_string(rtl.lastHitWay())
                         : "miss"));
            if (rtl_hit) {
                cov.hit("hit way " + std::to_string(rtl.lastHitWay()));
                cov.hit("hit level " + std::to_string(got.level));
                if (got.global() && got.asid != rtl.maskAsid(asid))
                    cov.hit("global hit from another asid");
            }
        } else if (r < 85) {
            const TlbEntry e = s.entry();
            const std::uint64_t evicting = rtl.events().refills_evicting;
            const std::uint64_t in_place = rtl.events().refills_in_place;
            rtl.fill(e);
            model.fill(e);
            log("fill " + describe(e));
            if (rtl.events().refills_evicting > evicting) cov.hit("refill replaces in full set");
            if (rtl.events().refills_in_place > in_place) cov.hit("refill in place");
        } else if (r < 85 + s.invalidateShare()) {
            const FlushKind kind = s.kind();
            const Addr va = s.va(s.vpn());
            const Asid asid = s.asid();
            const unsigned before = model.occupancy();
            rtl.invalidate(kind, va, asid);
            model.invalidate(kind, va, asid);
            log(std::string("invalidate ") + kKindNames[static_cast<unsigned>(kind)] + " va " +
                hex(va) + " asid " + std::to_string(asid));
            if (model.occupancy() < before)
                cov.hit(std::string("invalidate ") + kKindNames[static_cast<unsigned>(kind)] +
                        " removes");
        } else if (r >= 98) {
            // A refill raced by an invalidation: the RTL drops it, so the model sees only the
            // invalidation.
            const TlbEntry e = s.entry();
            const unsigned gap = static_cast<unsigned>(s.below(2));
            const FlushKind kind = s.kind();
            const Addr va = s.va(s.vpn());
            const Asid asid = s.asid();
            if (!rtl.fillRacingInvalidate(e, gap, kind, va, asid))
                return where(op) + "refill raced by an invalidation (gap " + std::to_string(gap) +
                       ") was not dropped";
            model.invalidate(kind, va, asid);
            log("fill " + describe(e) + " raced by invalidate " +
                kKindNames[static_cast<unsigned>(kind)] + " va " + hex(va) + " asid " +
                std::to_string(asid) + " (gap " + std::to_string(gap) + ")");
            cov.hit(gap == 0 ? "invalidate drops refill (same cycle)"
                             : "invalidate drops refill (pending)");
        }
    }
    return "";
}

class RtlTlbDiff : public ::testing::TestWithParam<RtlTlb::Shape> {};

TEST_P(RtlTlbDiff, MatchesCppModelOnRandomStreams) {
    const RtlTlb::Shape shape = GetParam();
    // Seeds and ops per seed sized for a few seconds per shape; TLMMU_RTL_SEEDS overrides for
    // soaks.
    std::uint64_t seeds = 2000;
    if (const char* env = std::getenv("TLMMU_RTL_SEEDS")) seeds = std::strtoull(env, nullptr, 10);
    const unsigned ops = 200 + 8 * shape.entries;

    Coverage cov;
    for (unsigned w = 0; w < shape.ways; ++w)
        cov.declare("hit way " + std::to_string(w));
    for (unsigned l = 0; l < 3; ++l)
        cov.declare("hit level " + std::to_string(l));
    for (const char* k : kKindNames)
        cov.declare(std::string("invalidate ") + k + " removes");
    for (const char* b :
         {"global hit from another asid", "refill replaces in full set", "refill in place",
          "invalidate drops refill (same cycle)", "invalidate drops refill (pending)"})
        cov.declare(b);

    for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
        const std::string error = runSeed(seed, shape.entries, shape.ways, ops, cov);
        ASSERT_EQ(error, "") << "reproduce with this seed";
    }

    std::printf("functional coverage, %u entries / %u ways, %llu seeds x %u ops:\n", shape.entries,
                shape.ways, static_cast<unsigned long long>(seeds), ops);
    for (const auto& [bin, count] : cov.bins)
        std::printf("  %-40s %llu\n", bin.c_str(), static_cast<unsigned long long>(count));
    for (const auto& [bin, count] : cov.bins)
        EXPECT_GT(count, 0u) << "coverage bin empty: " << bin;
}

INSTANTIATE_TEST_SUITE_P(Shapes, RtlTlbDiff, ::testing::ValuesIn(RtlTlb::shapes()),
                         [](const ::testing::TestParamInfo<RtlTlb::Shape>& info) {
                             return "e" + std::to_string(info.param.entries) + "_w" +
                                    std::to_string(info.param.ways);
                         });

} // namespace
} // namespace tlmmu
