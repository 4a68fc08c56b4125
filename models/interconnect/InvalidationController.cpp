#include "interconnect/InvalidationController.h"

namespace tlmmu {

InvalidationController::InvalidationController(sc_core::sc_module_name name)
    : InvalidationController(name, Clock(1.0), 0, 0) {}

InvalidationController::InvalidationController(sc_core::sc_module_name name, const Clock& clock,
                                               std::uint64_t base_cycles, std::uint64_t hop_cycles)
    : sc_module(name), register_socket("register_socket"), mmu_socket("mmu_socket"),
      base_(clock.cycles(base_cycles)), hop_(clock.cycles(hop_cycles)),
      regs_(sc_core::sc_object::name(), INVAL_REG_BYTES) {
    register_socket.register_b_transport(this, &InvalidationController::b_transport);
    register_socket.register_transport_dbg(this, &InvalidationController::transport_dbg);
    command_.onWrite(
        [this](std::uint64_t value, sc_core::sc_time& delay) { return command(value, delay); });
}

tlm::tlm_response_status InvalidationController::command(std::uint64_t value,
                                                         sc_core::sc_time& delay) {
    const auto refuse = [this](const std::string& why) {
        return regs_.refuse(tlm::TLM_GENERIC_ERROR_RESPONSE, why);
    };
    if (value != INVAL_CMD_INVALIDATE) return refuse("unknown command");
    if (kind_ > 3) return refuse("KIND " + std::to_string(kind_.get()) + " is no flush kind (0-3)");
    if (target_ != INVAL_TARGET_ALL && target_ >= mmu_socket.size())
        return refuse("TARGET " + std::to_string(target_.get()) + " is no core (" +
                      std::to_string(mmu_socket.size()) + " cores)");
    delay += base_;
    if (target_ == INVAL_TARGET_ALL) {
        for (unsigned c = 0; c < mmu_socket.size(); ++c) {
            delay += hop_; // the k-th Mmu is reached k hops after the base
            send(c, delay);
        }
    } else {
        delay += hop_;
        send(static_cast<unsigned>(target_), delay);
    }
    return tlm::TLM_OK_RESPONSE;
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

void InvalidationController::registerStats(Stats& stats, const std::string& prefix) const {
    stats.counter(prefix + ".operations", &operations_);
    regs_.registerStats(stats, prefix);
}

} // namespace tlmmu
