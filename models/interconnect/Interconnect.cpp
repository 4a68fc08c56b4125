#include "interconnect/Interconnect.h"

namespace tlmmu {

Interconnect::Interconnect(sc_core::sc_module_name name, unsigned latency_cycles,
                           const Clock& clock)
    : sc_module(name), target_socket("target_socket"), initiator_socket("initiator_socket"),
      latency_(clock.cycles(latency_cycles)) {
    target_socket.register_b_transport(this, &Interconnect::b_transport);
    target_socket.register_get_direct_mem_ptr(this, &Interconnect::get_direct_mem_ptr);
    target_socket.register_transport_dbg(this, &Interconnect::transport_dbg);
    initiator_socket.register_invalidate_direct_mem_ptr(this,
                                                        &Interconnect::invalidate_direct_mem_ptr);
}

void Interconnect::map(Addr base, std::uint64_t size, unsigned port, const std::string& name) {
    for (const Region& r : regions_)
        if (base < r.base + r.size && r.base < base + size)
            throw InputError("interconnect: region '" + name + "' overlaps '" + r.name + "'");
    regions_.push_back({base, size, port, name});
    last_ = nullptr;
}

Interconnect::Region* Interconnect::decode(Addr addr) {
    if (last_ && addr - last_->base < last_->size) return last_;
    for (Region& r : regions_)
        if (addr - r.base < r.size) return last_ = &r;
    return nullptr;
}

void Interconnect::b_transport(int, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
    ++transactions_;
    delay += latency_;
    const Addr addr = trans.get_address();
    Region* r = decode(addr);
    if (!r || trans.get_data_length() > r->size - (addr - r->base)) {
        ++address_errors_;
        trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return;
    }
    ++r->transactions;
    trans.set_address(addr - r->base);
    initiator_socket[r->port]->b_transport(trans, delay);
    trans.set_address(addr);
}

unsigned Interconnect::transport_dbg(int, tlm::tlm_generic_payload& trans) {
    const Addr addr = trans.get_address();
    Region* r = decode(addr);
    if (!r || trans.get_data_length() > r->size - (addr - r->base)) {
        trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return 0;
    }
    trans.set_address(addr - r->base);
    const unsigned n = initiator_socket[r->port]->transport_dbg(trans);
    trans.set_address(addr);
    return n;
}

bool Interconnect::get_direct_mem_ptr(int, tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi) {
    const Addr addr = trans.get_address();
    Region* r = decode(addr);
    if (!r) return false;
    trans.set_address(addr - r->base);
    const bool ok = initiator_socket[r->port]->get_direct_mem_ptr(trans, dmi);
    trans.set_address(addr);
    // Back to global addresses, clipped to the region; latency of the hop included.
    dmi.set_start_address(dmi.get_start_address() + r->base);
    dmi.set_end_address(std::min<Addr>(dmi.get_end_address() + r->base, r->base + r->size - 1));
    dmi.set_read_latency(dmi.get_read_latency() + latency_);
    dmi.set_write_latency(dmi.get_write_latency() + latency_);
    return ok;
}

void Interconnect::invalidate_direct_mem_ptr(int port, sc_dt::uint64 start, sc_dt::uint64 end) {
    for (const Region& r : regions_) {
        if (static_cast<int>(r.port) != port) continue;
        const Addr gs = r.base + start;
        const Addr ge = end >= r.size - 1 ? r.base + r.size - 1 : r.base + end;
        for (unsigned i = 0; i < target_socket.size(); ++i)
            target_socket[i]->invalidate_direct_mem_ptr(gs, ge);
    }
}

void Interconnect::registerStats(Stats& stats, const std::string& prefix) const {
    stats.counter(prefix + ".transactions", &transactions_,
                  {"transactions", "transactions routed"});
    stats.counter(prefix + ".address_errors", &address_errors_,
                  {"transactions", "transactions to an address no target decodes"});
    for (const Region& r : regions_)
        stats.counter(prefix + ".targets." + r.name, &r.transactions,
                      {"transactions", "transactions routed to this target"});
}

} // namespace tlmmu
