#include "swap/SwapDevice.h"

namespace tlmmu {

SwapDevice::SwapDevice(sc_core::sc_module_name name, std::uint64_t slots,
                       std::uint64_t latency_cycles, const Clock& clock)
    : sc_module(name), register_socket("register_socket"), dma_socket("dma_socket"), slots_(slots),
      latency_(clock.cycles(latency_cycles)), store_(UINT64_MAX),
      regs_(sc_core::sc_object::name(), SWAP_REG_BYTES) {
    register_socket.register_b_transport(this, &SwapDevice::b_transport);
    register_socket.register_transport_dbg(this, &SwapDevice::transport_dbg);
    command_.onWrite([this](std::uint64_t command, sc_core::sc_time& delay) {
        status_ = execute(command, delay);
        return tlm::TLM_OK_RESPONSE; // a failed command is reported in STATUS
    });
}

std::uint64_t SwapDevice::execute(std::uint64_t command, sc_core::sc_time& delay) {
    if ((command != SWAP_CMD_WRITE && command != SWAP_CMD_READ) || slot_ >= slots_ ||
        length_ == 0 || length_ > (std::uint64_t{1} << 30)) {
        ++errors_;
        return 1;
    }
    buffer_.resize(length_);
    const bool to_slot = command == SWAP_CMD_WRITE;
    tlm::tlm_generic_payload t;
    t.set_command(to_slot ? tlm::TLM_READ_COMMAND : tlm::TLM_WRITE_COMMAND);
    t.set_address(frame_);
    t.set_data_ptr(buffer_.data());
    t.set_data_length(static_cast<unsigned>(length_));
    t.set_streaming_width(static_cast<unsigned>(length_));
    if (!to_slot) store_.read(slot_ * length_, buffer_.data(), length_);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    delay += latency_; // the device's own access time, then the DMA over the interconnect
    dma_socket->b_transport(t, delay);
    if (!t.is_response_ok()) {
        ++errors_;
        return 2;
    }
    if (to_slot)
        store_.write(slot_ * length_, buffer_.data(), length_), ++writes_;
    else
        ++reads_;
    return 0;
}

void SwapDevice::registerStats(Stats& stats, const std::string& prefix) const {
    stats.counter(prefix + ".writes", &writes_, {"pages", "pages written to swap"});
    stats.counter(prefix + ".reads", &reads_, {"pages", "pages read from swap"});
    stats.counter(
        prefix + ".errors", &errors_,
        {"commands", "commands refused (unknown, bad slot or length) or whose DMA failed"});
    stats.constant(prefix + ".slots", slots_, {"slots", "swap slots (pages) of the device", false});
    regs_.registerStats(stats, prefix);
}

} // namespace tlmmu
