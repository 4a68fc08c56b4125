// The Verilated shapes of rtl/Tlb.v behind RtlTlb. Pin-level protocol (see rtl/Tlb.v): inputs
// are set between clock edges, tick() makes one rising edge, registered outputs are read after it.
#include "RtlTlbShapes.h" // Verilated headers first: they must precede <systemc> when mixed
#include <verilated.h>
#include <verilated_vcd_c.h>

#include <mutex>
#include <set>

#include "mmu/RtlTlb.h"
#include "mmu/RtlTlbFactory.h"

namespace tlmmu {

class RtlTlb::Port {
  public:
    virtual ~Port() = default;
    virtual bool lookup(std::uint64_t vpn, Asid asid, TlbEntry& out, unsigned& way) = 0;
    struct RefillResult {
        bool written = false, in_place = false, evicting = false, dropped = false;
        unsigned way = 0;
    };
    virtual RefillResult fill(const TlbEntry& e) = 0;
    virtual void invalidate(FlushKind kind, std::uint64_t vpn, Asid asid) = 0;
    virtual RefillResult fillRacingInvalidate(const TlbEntry& e, unsigned gap, FlushKind kind,
                                              std::uint64_t vpn, Asid asid) = 0;
    virtual std::uint64_t cycles() const = 0;
    unsigned last_hit_way = 0;
};

namespace {

template <class V> class VerilatedPort final : public RtlTlb::Port {
  public:
    VerilatedPort(const PageGeometry& geometry, const std::string& vcd_path, const std::string& key)
        : context_(makeContext(!vcd_path.empty())), v_(context_.get(), "tlb") {
        if (!vcd_path.empty()) {
            vcd_ = std::make_unique<VerilatedVcdC>();
            v_.trace(vcd_.get(), 99);
            vcd_->open(vcd_path.c_str());
            if (!vcd_->isOpen()) throw InputError(key + ": cannot write '" + vcd_path + "'");
        }
        v_.cfg_index_bits = geometry.index_bits;
        v_.cfg_leaf_mask = geometry.leaf_level_mask;
        v_.rst = 1;
        tick();
        v_.rst = 0;
    }
    ~VerilatedPort() override {
        v_.final();
        if (vcd_) vcd_->close();
    }

    bool lookup(std::uint64_t vpn, Asid asid, TlbEntry& out, unsigned& way) override {
        v_.lookup_valid = 1;
        v_.lookup_vpn = vpn;
        v_.lookup_asid = asid;
        tick();
        v_.lookup_valid = 0;
        if (!v_.resp_hit) return false;
        out.vpn = v_.resp_vpn;
        out.ppn = v_.resp_ppn;
        out.asid = v_.resp_asid;
        out.level = v_.resp_level;
        out.flags = v_.resp_flags;
        way = v_.resp_way;
        return true;
    }

    RefillResult fill(const TlbEntry& e) override {
        requestRefill(e);
        tick(); // accepted: pending
        v_.refill_valid = 0;
        tick(); // written
        return refillResult();
    }

    void invalidate(FlushKind kind, std::uint64_t vpn, Asid asid) override {
        requestInvalidate(kind, vpn, asid);
        tick();
        v_.inv_valid = 0;
    }

    RefillResult fillRacingInvalidate(const TlbEntry& e, unsigned gap, FlushKind kind,
                                      std::uint64_t vpn, Asid asid) override {
        requestRefill(e);
        if (gap > 0) {
            tick(); // the refill is pending when the invalidation arrives
            v_.refill_valid = 0;
        }
        requestInvalidate(kind, vpn, asid);
        tick();
        v_.refill_valid = 0;
        v_.inv_valid = 0;
        RefillResult r = refillResult();
        r.dropped = v_.refill_dropped;
        return r;
    }

    std::uint64_t cycles() const override { return cycles_; }

  private:
    static std::unique_ptr<VerilatedContext> makeContext(bool trace) {
        auto context = std::make_unique<VerilatedContext>();
        context->traceEverOn(trace); // before the model is built, or it cannot trace
        return context;
    }

    void requestRefill(const TlbEntry& e) {
        v_.refill_valid = 1;
        v_.refill_vpn = e.vpn;
        v_.refill_ppn = e.ppn;
        v_.refill_asid = e.asid;
        v_.refill_level = e.level;
        v_.refill_flags = e.flags;
    }
    void requestInvalidate(FlushKind kind, std::uint64_t vpn, Asid asid) {
        v_.inv_valid = 1;
        v_.inv_kind = static_cast<std::uint8_t>(kind);
        v_.inv_vpn = vpn;
        v_.inv_asid = asid;
    }
    RefillResult refillResult() const {
        RefillResult r;
        r.written = v_.refill_done;
        r.in_place = v_.refill_in_place;
        r.evicting = v_.refill_evicted;
        r.way = v_.refill_way;
        return r;
    }

    // One rising edge; the VCD shows each cycle as 2 time units (low, high).
    void tick() {
        v_.clk = 0;
        v_.eval();
        if (vcd_) vcd_->dump(2 * cycles_);
        v_.clk = 1;
        v_.eval();
        if (vcd_) vcd_->dump(2 * cycles_ + 1);
        ++cycles_;
    }

    std::unique_ptr<VerilatedContext> context_; // one per model: independent time and trace
    V v_;
    std::unique_ptr<VerilatedVcdC> vcd_;
    std::uint64_t cycles_ = 0;
};

std::unique_ptr<RtlTlb::Port> makePort(const TlbConfig& c, const std::string& vcd,
                                       const std::string& key) {
#define TLMMU_RTL_MAKE_PORT(E, W, V)                                                               \
    if (c.entries == (E) && c.ways == (W))                                                         \
        return std::make_unique<VerilatedPort<V>>(c.geometry, vcd, key + ".waveform");
    TLMMU_RTL_SHAPES(TLMMU_RTL_MAKE_PORT)
#undef TLMMU_RTL_MAKE_PORT
    return nullptr;
}

// Each RTL instance writes its own file: several cores configured with one waveform path get
// path, then path with ".1", ".2", ... before the extension, in construction order.
std::string claimWaveformPath(const std::string& path) {
    static std::mutex mutex;
    static std::set<std::string> claimed;
    std::lock_guard<std::mutex> lock(mutex);
    std::string candidate = path;
    const std::size_t dot = path.find_last_of('.');
    const std::size_t slash = path.find_last_of('/');
    const bool has_ext = dot != std::string::npos && (slash == std::string::npos || dot > slash);
    for (unsigned n = 1; claimed.count(candidate); ++n)
        candidate = has_ext ? path.substr(0, dot) + "." + std::to_string(n) + path.substr(dot)
                            : path + "." + std::to_string(n);
    claimed.insert(candidate);
    return candidate;
}

std::string shapeList() {
    std::string s;
    for (const RtlTlb::Shape& shape : RtlTlb::shapes())
        s += (s.empty() ? "" : ", ") + std::to_string(shape.entries) + "/" +
             std::to_string(shape.ways);
    return s;
}

} // namespace

std::vector<RtlTlb::Shape> RtlTlb::shapes() {
    std::vector<Shape> list;
#define TLMMU_RTL_LIST_SHAPE(E, W, V) list.push_back(Shape{E, W});
    TLMMU_RTL_SHAPES(TLMMU_RTL_LIST_SHAPE)
#undef TLMMU_RTL_LIST_SHAPE
    return list;
}

RtlTlb::RtlTlb(const TlbConfig& config) : TlbInterface(config) {
    const std::string key = "tlb." + config.name;
    TlbConfig as_rtl = config; // built as RTL, whatever impl says (tests build it directly)
    as_rtl.impl = "rtl";
    checkRtlTlbArrays(as_rtl);
    if (config.replacement != Replacement::Plru)
        throw InputError(key + ".replacement: the RTL TLB implements plru only");
    const PageGeometry& g = config.geometry;
    // vpn = va >> page_shift must fit the RTL's VPN_BITS for a 64-bit VA.
    if (g.page_shift < 64 - kVpnBits)
        throw InputError(key + ".impl: rtl needs base pages of at least 4 KiB (page shift " +
                         std::to_string(g.page_shift) + " < 12)");
    if ((g.leaf_level_mask >> kLevels) != 0 || g.index_bits > 63 ||
        (kLevels - 1) * g.index_bits > 255)
        throw InputError(key + ".impl: rtl holds leaves at levels 0.." +
                         std::to_string(kLevels - 1) +
                         " with at most 63 index bits per level; this page format needs more");
    const std::string vcd = config.waveform.empty() ? "" : claimWaveformPath(config.waveform);
    port_ = makePort(config, vcd, key);
    if (!port_)
        throw InputError(key + ".entries: the RTL TLB is built for entries/ways " + shapeList() +
                         " (TLMMU_RTL_SHAPES), not " + std::to_string(config.entries) + "/" +
                         std::to_string(config.ways));
    waveform_path_ = vcd;
    events_.hits_per_way.assign(config.ways, 0);
    events_.hits_per_level.assign(kLevels, 0);
}

RtlTlb::~RtlTlb() = default;

bool RtlTlb::lookup(Addr va, Asid asid, TlbEntry& out) {
    ++events_.lookups;
    unsigned way = 0;
    TlbEntry e;
    const std::uint64_t before = cycles();
    const bool hit = port_->lookup(va >> config_.geometry.page_shift, maskAsid(asid), e, way);
    last_lookup_cycles_ = cycles() - before;
    if (!hit) return false;
    out = e;
    port_->last_hit_way = way;
    ++events_.hits;
    ++events_.hits_per_way[way];
    ++events_.hits_per_level[e.level];
    if (e.global()) ++events_.global_hits;
    return true;
}

namespace {
// Entries reach the RTL only with levels its LEVEL field holds (the walker never makes others).
TlbEntry checkedEntry(const TlbEntry& entry, Asid asid) {
    if (entry.level >= RtlTlb::kLevels)
        throw std::invalid_argument("RtlTlb: entry level " + std::to_string(entry.level) +
                                    " beyond the RTL's LEVELS");
    TlbEntry e = entry;
    e.asid = asid;
    return e;
}
} // namespace

void RtlTlb::fill(const TlbEntry& entry) {
    const Port::RefillResult r = port_->fill(checkedEntry(entry, maskAsid(entry.asid)));
    events_.refills += r.written;
    events_.refills_in_place += r.in_place;
    events_.refills_evicting += r.evicting;
    if (r.written) last_refill_way_ = r.way;
}

void RtlTlb::invalidate(FlushKind kind, Addr va, Asid asid) {
    ++events_.invalidations[static_cast<unsigned>(kind)];
    port_->invalidate(kind, va >> config_.geometry.page_shift, maskAsid(asid));
}

bool RtlTlb::fillRacingInvalidate(const TlbEntry& entry, unsigned gap, FlushKind kind, Addr va,
                                  Asid asid) {
    ++events_.invalidations[static_cast<unsigned>(kind)];
    const Port::RefillResult r =
        port_->fillRacingInvalidate(checkedEntry(entry, maskAsid(entry.asid)), gap, kind,
                                    va >> config_.geometry.page_shift, maskAsid(asid));
    events_.refills_dropped += r.dropped;
    events_.refills += r.written;
    return r.dropped;
}

std::uint64_t RtlTlb::cycles() const {
    return port_->cycles();
}
unsigned RtlTlb::lastHitWay() const {
    return port_->last_hit_way;
}
unsigned RtlTlb::lastRefillWay() const {
    return last_refill_way_;
}

bool rtlTlbAvailable() {
    return true;
}

std::unique_ptr<TlbInterface> makeRtlTlb(const TlbConfig& config) {
    return std::make_unique<RtlTlb>(config);
}

} // namespace tlmmu
