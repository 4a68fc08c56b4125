#include "interconnect/InvalidationController.h"

#include <algorithm>

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
    const std::string cores = " (" + std::to_string(mmu_socket.size()) + " cores)";
    const bool posted = value == INVAL_CMD_SYNC || target_ == INVAL_TARGET_ALL;
    if (value != INVAL_CMD_INVALIDATE && value != INVAL_CMD_SYNC) return refuse("unknown command");
    if (value == INVAL_CMD_INVALIDATE && kind_ > 3)
        return refuse("KIND " + std::to_string(kind_.get()) + " is no flush kind (0-3)");
    if (value == INVAL_CMD_INVALIDATE && target_ != INVAL_TARGET_ALL &&
        target_ >= mmu_socket.size())
        return refuse("TARGET " + std::to_string(target_.get()) + " is no core" + cores);
    if (posted && issuer_ >= mmu_socket.size())
        return refuse("ISSUER " + std::to_string(issuer_.get()) + " is no core" + cores);
    if (posted) complete_.resize(mmu_socket.size(), sc_core::SC_ZERO_TIME);
    if (value == INVAL_CMD_SYNC) {
        sync(delay);
    } else if (target_ == INVAL_TARGET_ALL) {
        broadcast(delay);
    } else {
        delay += operationTime(1);
        send(static_cast<unsigned>(target_), delay);
    }
    return tlm::TLM_OK_RESPONSE;
}

void InvalidationController::broadcast(const sc_core::sc_time& delay) {
    const unsigned n = mmu_socket.size();
    const sc_core::sc_time now = sc_core::sc_time_stamp() + delay;
    busy_.resize(n, sc_core::SC_ZERO_TIME);
    sc_core::sc_time done_all = now + operationTime(n); // every Mmu reached
    for (unsigned c = 0; c < n; ++c) {
        const sc_core::sc_time reached = delay + operationTime(c + 1);
        sc_core::sc_time applied = reached; // this Mmu's own copy: they work in parallel
        send(c, applied);
        // Each Mmu applies the operations it is sent one after the other: this one starts when
        // it arrives or when the Mmu has finished the previous one, whichever is later.
        const sc_core::sc_time start = std::max(sc_core::sc_time_stamp() + reached, busy_[c]);
        busy_[c] = start + (applied - reached);
        // Its completion travels on through the Mmus after it, as the operation did.
        done_all = std::max(done_all, busy_[c] + operationTime(n) - operationTime(c + 1));
    }
    sc_core::sc_time& complete = complete_[issuer_];
    complete = std::max(complete, done_all);
    ++broadcasts_;
}

void InvalidationController::sync(sc_core::sc_time& delay) {
    const sc_core::sc_time complete = complete_[issuer_];
    const sc_core::sc_time now = sc_core::sc_time_stamp() + delay;
    if (complete > now) delay += complete - now;
    ++syncs_;
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
    stats.counter(
        prefix + ".operations", &operations_,
        {"operations", "invalidation operations delivered to MMUs (one per MMU reached)"});
    stats.counter(prefix + ".broadcasts", &broadcasts_,
                  {"requests", "invalidation requests broadcast to the MMUs"});
    stats.counter(prefix + ".syncs", &syncs_,
                  {"requests", "syncs: waits until the issuer's broadcasts have completed"});
    regs_.registerStats(stats, prefix);
}

} // namespace tlmmu
