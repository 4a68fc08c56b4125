#include "interconnect/InvalidationController.h"

#include <cstring>

namespace tlmmu {

InvalidationController::InvalidationController(sc_core::sc_module_name name)
    : sc_module(name), register_socket("register_socket"), mmu_socket("mmu_socket") {
    register_socket.register_b_transport(this, &InvalidationController::b_transport);
}

void InvalidationController::send(unsigned core, sc_core::sc_time& delay) {
    TranslationExtension ext;
    ext.op = TranslationExtension::Op::Invalidate;
    ext.flush_kind = static_cast<std::uint8_t>(kind_);
    ext.va = va_;
    ext.asid = static_cast<Asid>(asid_);
    tlm::tlm_generic_payload t;
    t.set_command(tlm::TLM_IGNORE_COMMAND);
    t.set_extension(&ext);
    mmu_socket[core]->b_transport(t, delay);
    t.clear_extension(&ext);
    ++operations_;
}

void InvalidationController::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
    const std::uint64_t offset = trans.get_address();
    if (trans.get_data_length() != 8 || offset % 8 || offset >= kRegisterBytes) {
        trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return;
    }
    std::uint64_t value = 0;
    if (trans.is_read()) { // registers read back; COMMAND reads 0 (never busy: done on write)
        const std::uint64_t regs[] = {va_, asid_, kind_, target_, 0};
        value = offset / 8 < 5 ? regs[offset / 8] : 0;
        std::memcpy(trans.get_data_ptr(), &value, 8);
        trans.set_response_status(tlm::TLM_OK_RESPONSE);
        return;
    }
    std::memcpy(&value, trans.get_data_ptr(), 8);
    switch (offset) {
    case kRegVa:
        va_ = value;
        break;
    case kRegAsid:
        asid_ = value;
        break;
    case kRegKind:
        kind_ = value;
        break;
    case kRegTarget:
        target_ = value;
        break;
    case kRegCommand:
        if (kind_ > 3 || (target_ != kAllCores && target_ >= mmu_socket.size())) {
            trans.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
            return;
        }
        if (target_ == kAllCores)
            for (unsigned c = 0; c < mmu_socket.size(); ++c)
                send(c, delay);
        else
            send(static_cast<unsigned>(target_), delay);
        break;
    default:
        trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return;
    }
    trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

void InvalidationController::registerStats(Stats& stats, const std::string& prefix) const {
    stats.counter(prefix + ".operations", &operations_);
}

} // namespace tlmmu
