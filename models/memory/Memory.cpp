#include "memory/Memory.h"

namespace tlmmu {

Memory::Memory(sc_core::sc_module_name name, const MemoryConfig& config, const Clock& clock)
    : sc_module(name), target_socket("target_socket"), config_(config), clock_(clock),
      storage_(config.size) {
    target_socket.register_b_transport(this, &Memory::b_transport);
    target_socket.register_get_direct_mem_ptr(this, &Memory::get_direct_mem_ptr);
    target_socket.register_transport_dbg(this, &Memory::transport_dbg);
}

bool Memory::access(tlm::tlm_generic_payload& trans) {
    const Addr addr = trans.get_address();
    const unsigned len = trans.get_data_length();
    if (trans.get_byte_enable_ptr()) {
        trans.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
        return false;
    }
    if (!storage_.inRange(addr, len)) {
        trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return false;
    }
    if (trans.is_read())
        storage_.read(addr, trans.get_data_ptr(), len);
    else if (trans.is_write())
        storage_.write(addr, trans.get_data_ptr(), len);
    trans.set_response_status(tlm::TLM_OK_RESPONSE);
    return true;
}

void Memory::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
    if (!access(trans)) return;
    const unsigned len = trans.get_data_length();
    if (trans.is_read())
        ++reads_, bytes_read_ += len;
    else if (trans.is_write())
        ++writes_, bytes_written_ += len;
    delay += clock_.cycles(accessCycles(len)); // annotate: added, never replaced
    trans.set_dmi_allowed(true);
}

unsigned Memory::transport_dbg(tlm::tlm_generic_payload& trans) {
    return access(trans) ? trans.get_data_length() : 0; // never advances time
}

bool Memory::get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi) {
    const Addr addr = trans.get_address();
    if (!storage_.inRange(addr, 1)) return false;
    const Addr base = addr & ~(SparseMemory::kPageSize - 1);
    dmi.set_dmi_ptr(storage_.page(addr));
    dmi.set_start_address(base);
    dmi.set_end_address(std::min<Addr>(base + SparseMemory::kPageSize, config_.size) - 1);
    dmi.allow_read_write();
    dmi.set_read_latency(clock_.cycles(config_.latency_cycles));
    dmi.set_write_latency(clock_.cycles(config_.latency_cycles));
    return true;
}

void Memory::registerStats(Stats& stats, const std::string& prefix) const {
    stats.counter(prefix + ".reads", &reads_, {"transactions", "read transactions"});
    stats.counter(prefix + ".writes", &writes_, {"transactions", "write transactions"});
    stats.counter(prefix + ".bytes_read", &bytes_read_, {"bytes", "bytes read (TLM and DMI)"});
    stats.counter(prefix + ".bytes_written", &bytes_written_,
                  {"bytes", "bytes written (TLM and DMI)"});
    stats.derived(prefix + ".host_pages", [this] { return storage_.pagesAllocated(); },
                  {"pages", "host pages the sparse storage holds", false});
    stats.constant(prefix + ".size", config_.size, {"bytes", "modelled memory size", false});
}

} // namespace tlmmu
