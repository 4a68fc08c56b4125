#include "swap/SwapDevice.h"

#include <cstring>

#include "kernel/mm.h"

namespace tlmmu {

SwapDevice::SwapDevice(sc_core::sc_module_name name, std::uint64_t slots,
                       std::uint64_t latency_cycles, const Clock& clock)
    : sc_module(name), register_socket("register_socket"), dma_socket("dma_socket"), slots_(slots),
      latency_(clock.cycles(latency_cycles)), store_(UINT64_MAX) {
    register_socket.register_b_transport(this, &SwapDevice::b_transport);
    register_socket.register_transport_dbg(this, &SwapDevice::transport_dbg);
}

std::uint64_t SwapDevice::execute(std::uint64_t command, sc_core::sc_time* delay) {
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
    if (delay) {
        *delay += latency_; // the device's own access time, then the DMA over the interconnect
        dma_socket->b_transport(t, *delay);
    } else {
        dma_socket->transport_dbg(t);
    }
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

bool SwapDevice::access(tlm::tlm_generic_payload& trans, sc_core::sc_time* delay) {
    const std::uint64_t offset = trans.get_address();
    if (trans.get_data_length() != 8 || offset % 8 || offset >= kRegisterBytes) {
        trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return false;
    }
    std::uint64_t value = 0;
    if (trans.is_write()) {
        std::memcpy(&value, trans.get_data_ptr(), 8);
        switch (offset) {
        case SWAP_REG_SLOT:
            slot_ = value;
            break;
        case SWAP_REG_FRAME:
            frame_ = value;
            break;
        case SWAP_REG_LENGTH:
            length_ = value;
            break;
        case SWAP_REG_COMMAND:
            status_ = execute(value, delay);
            break;
        default:
            trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
            return false;
        }
    } else if (trans.is_read()) {
        switch (offset) {
        case SWAP_REG_SLOT:
            value = slot_;
            break;
        case SWAP_REG_FRAME:
            value = frame_;
            break;
        case SWAP_REG_LENGTH:
            value = length_;
            break;
        case SWAP_REG_STATUS:
            value = status_;
            break;
        default:
            value = 0;
        }
        std::memcpy(trans.get_data_ptr(), &value, 8);
    }
    trans.set_response_status(tlm::TLM_OK_RESPONSE);
    return true;
}

void SwapDevice::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
    access(trans, &delay);
}

unsigned SwapDevice::transport_dbg(tlm::tlm_generic_payload& trans) {
    // A debug access may read registers but must not start a transfer.
    if (trans.is_write() && trans.get_address() == SWAP_REG_COMMAND) return 0;
    return access(trans, nullptr) ? 8 : 0;
}

void SwapDevice::registerStats(Stats& stats, const std::string& prefix) const {
    stats.counter(prefix + ".writes", &writes_);
    stats.counter(prefix + ".reads", &reads_);
    stats.counter(prefix + ".errors", &errors_);
    stats.constant(prefix + ".slots", slots_);
}

} // namespace tlmmu
