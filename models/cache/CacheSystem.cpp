#include "cache/CacheSystem.h"

#include <string>

namespace tlmmu {

namespace {

CacheAccessKind kindOf(const tlm::tlm_generic_payload& trans, CacheAccessKind by_default) {
    if (const auto* ext = trans.get_extension<CacheAccessExtension>()) return ext->kind;
    return trans.is_write() ? CacheAccessKind::Store : by_default;
}

void registerLevel(Stats& stats, const std::string& prefix, const Cache& cache) {
    if (!cache.present()) return;
    const Cache::Counters& c = cache.counters;
    stats.counter(prefix + ".accesses", &c.accesses,
                  {"accesses", "line accesses that looked this level up (a straddling access "
                               "counts once per line)"});
    stats.counter(prefix + ".hits", &c.hits,
                  {"accesses", "accesses this level served (a write needs the line Exclusive "
                               "or Modified)"});
    stats.counter(prefix + ".misses", &c.misses,
                  {"accesses", "accesses this level could not serve (a write to a Shared line "
                               "included)"});
    stats.counter(prefix + ".coherence_misses", &c.coherence_misses,
                  {"accesses", "misses on a line another core's write had invalidated here"});
    stats.counter(prefix + ".writebacks", &c.writebacks,
                  {"lines", "dirty lines this level evicted to the level below"});
}

} // namespace

CacheSystem::CacheSystem(sc_core::sc_module_name name, const CacheHierarchyConfig& config,
                         CacheEntry walker_entry, const Clock& clock)
    : sc_module(name), data_socket("data_socket"), fetch_socket("fetch_socket"),
      walker_socket("walker_socket"), memory_socket("memory_socket"), clock_(clock),
      walker_entry_(walker_entry), hierarchy_(config, *this), line_buffer_(hierarchy_.lineBytes()) {
    data_socket.register_b_transport(this, &CacheSystem::data_b_transport);
    fetch_socket.register_b_transport(this, &CacheSystem::fetch_b_transport);
    walker_socket.register_b_transport(this, &CacheSystem::walker_b_transport);
    for (auto* socket : {&data_socket, &fetch_socket, &walker_socket}) {
        socket->register_transport_dbg(this, &CacheSystem::transport_dbg);
        socket->register_get_direct_mem_ptr(this, &CacheSystem::get_direct_mem_ptr);
    }
    memory_socket.register_invalidate_direct_mem_ptr(this, &CacheSystem::invalidate_direct_mem_ptr);
}

void CacheSystem::end_of_elaboration() {
    for (auto* socket : {&data_socket, &fetch_socket, &walker_socket})
        if (socket->size() > hierarchy_.cores())
            SC_REPORT_ERROR(name(), (std::string(socket->basename()) + ": " +
                                     std::to_string(socket->size()) + " bindings for " +
                                     std::to_string(hierarchy_.cores()) + " cores")
                                        .c_str());
}

void CacheSystem::data_b_transport(int core, tlm::tlm_generic_payload& trans,
                                   sc_core::sc_time& delay) {
    access(Port::Data, core, trans, delay);
}

void CacheSystem::fetch_b_transport(int core, tlm::tlm_generic_payload& trans,
                                    sc_core::sc_time& delay) {
    access(Port::Fetch, core, trans, delay);
}

void CacheSystem::walker_b_transport(int core, tlm::tlm_generic_payload& trans,
                                     sc_core::sc_time& delay) {
    access(Port::Walker, core, trans, delay);
}

bool CacheSystem::cacheable(Addr addr) const {
    if (cacheable_.empty()) return true;
    for (const Range& r : cacheable_)
        if (addr - r.base < r.size) return true;
    return false;
}

void CacheSystem::access(Port port, int core, tlm::tlm_generic_payload& trans,
                         sc_core::sc_time& delay) {
    if (!cacheable(trans.get_address())) {
        memory_socket->b_transport(trans, delay); // MMIO: the device and interconnect time it
        return;
    }
    const CacheAccessKind kind =
        kindOf(trans, port == Port::Fetch ? CacheAccessKind::Fetch : CacheAccessKind::Load);
    const CacheEntry entry = port == Port::Walker ? walker_entry_ : CacheEntry::L1;
    const CacheAccessResult r = hierarchy_.access(
        static_cast<unsigned>(core), kind, trans.get_address(), trans.get_data_length(), entry);
    delay += clock_.cycles(r.cycles); // annotate: added, never replaced
    if (auto* out = trans.get_extension<CacheResultExtension>()) out->result = r;
    moveBytes(trans);
}

void CacheSystem::moveBytes(tlm::tlm_generic_payload& trans) {
    if (trans.get_command() == tlm::TLM_IGNORE_COMMAND) {
        trans.set_response_status(tlm::TLM_OK_RESPONSE);
        return;
    }
    trans.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    const unsigned moved = memory_socket->transport_dbg(trans);
    if (moved == trans.get_data_length())
        trans.set_response_status(tlm::TLM_OK_RESPONSE);
    else if (trans.get_response_status() == tlm::TLM_INCOMPLETE_RESPONSE)
        trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
}

unsigned CacheSystem::transport_dbg(int, tlm::tlm_generic_payload& trans) {
    return memory_socket->transport_dbg(trans); // no time, no cache state
}

bool CacheSystem::get_direct_mem_ptr(int, tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi) {
    return memory_socket->get_direct_mem_ptr(trans, dmi);
}

void CacheSystem::invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end) {
    for (auto* socket : {&data_socket, &fetch_socket, &walker_socket})
        for (unsigned i = 0; i < socket->size(); ++i)
            (*socket)[i]->invalidate_direct_mem_ptr(start, end);
}

Cycles CacheSystem::fill(Addr pa) {
    return lineTransaction(tlm::TLM_READ_COMMAND, pa);
}

Cycles CacheSystem::writeback(Addr pa) {
    return lineTransaction(tlm::TLM_IGNORE_COMMAND, pa);
}

Cycles CacheSystem::lineTransaction(tlm::tlm_command command, Addr pa) {
    tlm::tlm_generic_payload t;
    t.set_command(command);
    t.set_address(pa);
    t.set_data_ptr(line_buffer_.data());
    t.set_data_length(static_cast<unsigned>(line_buffer_.size()));
    t.set_streaming_width(static_cast<unsigned>(line_buffer_.size()));
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    memory_socket->b_transport(t, delay);
    // An error response still took its time; the core sees the error on its own access.
    return clock_.toCycles(delay);
}

void CacheSystem::registerStats(Stats& stats) const {
    const CacheHierarchy& h = hierarchy_;
    for (unsigned i = 0; i < h.cores(); ++i) {
        const std::string core = "cores[" + std::to_string(i) + "].cache.";
        registerLevel(stats, core + "l1i", h.l1i(i));
        registerLevel(stats, core + "l1d", h.l1d(i));
        registerLevel(stats, core + "l2", h.l2(i));
        stats.counter(core + "memory_lines", &h.memoryLines(i),
                      {"lines", "line accesses of this core that memory served (LLC misses, and "
                                "every access of an uncached walker)"});
    }
    const Cache::Counters& llc = h.llc().counters;
    if (h.llc().present()) {
        stats.counter("cache.llc.accesses", &llc.accesses,
                      {"accesses", "line accesses that reached the shared LLC"});
        stats.counter("cache.llc.hits", &llc.hits, {"accesses", "LLC accesses it served"});
        stats.counter("cache.llc.misses", &llc.misses,
                      {"accesses", "LLC accesses that filled the line from memory"});
        stats.counter("cache.llc.writebacks", &llc.writebacks,
                      {"lines", "dirty lines the LLC evicted to memory"});
    }
    stats.counter("cache.coherence.transfers", &h.coherence.transfers,
                  {"lines", "lines moved from another core's private cache (it held them "
                            "Modified)"});
    stats.counter("cache.coherence.invalidations", &h.coherence.invalidations,
                  {"invalidations", "private copies a write removed, one per core"});
    stats.counter("cache.coherence.back_invalidations", &h.coherence.back_invalidations,
                  {"invalidations", "private copies an LLC eviction removed, one per core"});
}

} // namespace tlmmu
