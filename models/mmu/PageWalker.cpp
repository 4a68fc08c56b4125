#include "mmu/PageWalker.h"

namespace tlmmu {

// PteMemory over the walker's socket: one b_transport per PTE access, delay accumulated.
class PageWalker::TimedPteMemory final : public PteMemory {
  public:
    explicit TimedPteMemory(PageWalker& owner) : owner_(owner) {}
    ~TimedPteMemory() override {
        if (counting_) trans_.clear_extension(&served_);
    }
    sc_core::sc_time* delay = nullptr;

    void countLevels() {
        if (!counting_) trans_.set_extension(&served_);
        counting_ = true;
    }
    bool readPte(Addr pa, unsigned bytes, std::uint64_t& value) override {
        value = 0;
        const bool ok = transfer(tlm::TLM_READ_COMMAND, pa, bytes, &value);
        if (counting_) ++owner_.reads_by_level_[static_cast<unsigned>(served_.result.level)];
        return ok;
    }
    bool writePte(Addr pa, unsigned bytes, std::uint64_t value) override {
        return transfer(tlm::TLM_WRITE_COMMAND, pa, bytes, &value);
    }

  private:
    // PTEs are little-endian in memory, as on RISC-V and x86 (and on the host).
    bool transfer(tlm::tlm_command cmd, Addr pa, unsigned bytes, std::uint64_t* value) {
        trans_.set_command(cmd);
        trans_.set_address(pa);
        trans_.set_data_ptr(reinterpret_cast<unsigned char*>(value));
        trans_.set_data_length(bytes);
        trans_.set_streaming_width(bytes);
        trans_.set_byte_enable_ptr(nullptr);
        trans_.set_dmi_allowed(false);
        trans_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
        owner_.memory_socket->b_transport(trans_, *delay);
        return trans_.is_response_ok();
    }
    PageWalker& owner_;
    tlm::tlm_generic_payload trans_;
    CacheResultExtension served_; // filled in by the caches
    bool counting_ = false;
};

PageWalker::PageWalker(sc_core::sc_module_name name, const PteFormat& format, const PwcConfig& pwc,
                       const Clock& clock)
    : sc_module(name), memory_socket("memory_socket"), format_(format), clock_(clock),
      pwc_(pwc, format), memory_(std::make_unique<TimedPteMemory>(*this)) {}

PageWalker::~PageWalker() = default;

void PageWalker::countLevels() {
    count_levels_ = true;
    memory_->countLevels();
}

WalkResult PageWalker::walk(WalkRequest request, sc_core::sc_time& delay) {
    ++walks_;
    if (pwc_.enabled()) {
        if (pwc_.lookup(request) >= 0)
            ++pwc_hits_;
        else
            ++pwc_misses_;
    }
    sc_core::sc_time walk_delay = sc_core::SC_ZERO_TIME;
    memory_->delay = &walk_delay;
    WalkResult result = walkPageTable(format_, request, *memory_);
    pwc_.fill(request, result);
    memory_reads_ += result.reads;
    memory_writes_ += result.writes;
    if (result.fault != FaultKind::None) ++faults_;
    const std::uint64_t cycles = clock_.toCycles(walk_delay);
    cycles_ += cycles;
    latency_.add(cycles);
    delay += walk_delay;
    return result;
}

void PageWalker::registerStats(Stats& stats, const std::string& prefix,
                               const std::string& pwc_prefix) const {
    stats.counter(prefix + ".walks", &walks_, {"walks", "page walks"});
    stats.counter(prefix + ".memory_reads", &memory_reads_, {"reads", "PTE reads the walks made"});
    stats.counter(prefix + ".memory_writes", &memory_writes_,
                  {"writes", "PTE writes (accessed and dirty bits) the walks made"});
    stats.counter(prefix + ".cycles", &cycles_, {"cycles", "cycles spent walking"});
    stats.counter(prefix + ".faults", &faults_, {"walks", "walks that ended in a fault"});
    stats.histogram(prefix + ".latency", &latency_, {"cycles", "latency of one walk"});
    if (count_levels_)
        for (CacheLevel level : {CacheLevel::L1d, CacheLevel::L2, CacheLevel::Llc,
                                 CacheLevel::Remote, CacheLevel::Memory})
            stats.counter(prefix + ".pte_reads_by_level." + toString(level),
                          &reads_by_level_[static_cast<unsigned>(level)],
                          {"reads", level == CacheLevel::Remote
                                        ? "PTE reads served by another core's private cache"
                                        : std::string("PTE reads served by ") +
                                              (level == CacheLevel::Memory
                                                   ? "memory (every cache missed or was bypassed)"
                                                   : std::string("the ") + toString(level))});
    stats.counter(pwc_prefix + ".hits", &pwc_hits_,
                  {"lookups", "page-walk-cache lookups that skipped a table level"});
    stats.counter(pwc_prefix + ".misses", &pwc_misses_,
                  {"lookups", "page-walk-cache lookups that missed"});
}

} // namespace tlmmu
