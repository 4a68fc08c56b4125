#include "irq/IpiController.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tlmmu {

namespace {

std::string indexed(const char* name, unsigned c) {
    return std::string(name) + "[" + std::to_string(c) + "]";
}

} // namespace

IpiController::IpiController(sc_core::sc_module_name name, unsigned cores,
                             std::uint64_t latency_cycles, double drop_probability,
                             std::uint64_t seed, const Clock& clock)
    : sc_module(name), register_socket("register_socket"), latency_(clock.cycles(latency_cycles)),
      drop_probability_(drop_probability), rng_(seed), cores_(cores),
      regs_(sc_core::sc_object::name(), IPI_REG_BYTES) {
    if (cores == 0 || cores > kMaxCores)
        throw std::invalid_argument(std::string(sc_core::sc_object::name()) + ": " +
                                    std::to_string(cores) + " cores (1 to " +
                                    std::to_string(kMaxCores) + ")");
    if (!(drop_probability >= 0.0 && drop_probability <= 1.0)) // NaN too
        throw std::invalid_argument(std::string(sc_core::sc_object::name()) +
                                    ": drop probability " + std::to_string(drop_probability) +
                                    " (0 to 1)");
    register_socket.register_b_transport(this, &IpiController::b_transport);
    register_socket.register_transport_dbg(this, &IpiController::transport_dbg);
    using Access = Register::Access;
    for (unsigned c = 0; c < cores; ++c) {
        Register& targets = regs_.add(indexed("TARGETS", c), IPI_REG_TARGETS(c));
        targets.onWrite(
            [this, c](std::uint64_t mask, sc_core::sc_time&) { return writeTargets(c, mask); });
        targets_.push_back(&targets);
        regs_.add(indexed("SEND", c), IPI_REG_SEND(c))
            .onRead([] { return std::uint64_t{0}; })
            .onWrite([this, c](std::uint64_t vector, sc_core::sc_time& delay) {
                return send(c, vector, delay);
            });
        regs_.add(indexed("PENDING", c), IPI_REG_PENDING(c), 8, 0, Access::ReadOnly)
            .onRead([this, c] { return pending(c, access_time_); });
        regs_.add(indexed("CLEAR", c), IPI_REG_CLEAR(c), 8, 0, Access::WriteOnly)
            .onWrite([this, c](std::uint64_t mask, sc_core::sc_time& delay) {
                return clear(c, mask, delay);
            });
    }
}

void IpiController::connect(unsigned core, InterruptInput& input) {
    if (core >= cores_.size())
        throw std::out_of_range(std::string(name()) + ": connect: core " + std::to_string(core) +
                                " does not exist (" + std::to_string(cores_.size()) + " cores)");
    cores_[core].input = &input;
}

void IpiController::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
    access_time_ = sc_core::sc_time_stamp() + delay; // the initiator's local time
    regs_.b_transport(trans, delay);
}

unsigned IpiController::transport_dbg(tlm::tlm_generic_payload& trans) {
    access_time_ = sc_core::sc_time_stamp();
    return regs_.transport_dbg(trans);
}

tlm::tlm_response_status IpiController::writeTargets(unsigned core, std::uint64_t mask) {
    const unsigned n = cores();
    if (n < 64 && (mask >> n) != 0) {
        unsigned bad = n;
        while (((mask >> bad) & 1) == 0)
            ++bad;
        return regs_.refuse(tlm::TLM_GENERIC_ERROR_RESPONSE, "core " + std::to_string(bad) +
                                                                 " does not exist (" +
                                                                 std::to_string(n) + " cores)");
    }
    *targets_[core] = mask;
    return tlm::TLM_OK_RESPONSE;
}

tlm::tlm_response_status IpiController::send(unsigned core, std::uint64_t vector,
                                             const sc_core::sc_time& delay) {
    if (vector > 63)
        return regs_.refuse(tlm::TLM_GENERIC_ERROR_RESPONSE,
                            "vector " + std::to_string(vector) + " (0 to 63)");
    const std::uint64_t mask = *targets_[core];
    if (mask == 0)
        return regs_.refuse(tlm::TLM_GENERIC_ERROR_RESPONSE,
                            indexed("TARGETS", core) + " is empty: no core to send to");
    const sc_core::sc_time at = sc_core::sc_time_stamp() + delay + latency_;
    for (unsigned t = 0; t < cores(); ++t) {
        if (((mask >> t) & 1) == 0) continue;
        ++cores_[core].sent;
        ++sent_;
        if (drop_probability_ > 0.0 && rng_.nextDouble() < drop_probability_) {
            ++dropped_;
            continue;
        }
        PerCore& target = cores_[t];
        target.deliveries.push_back({at, static_cast<unsigned>(vector)});
        if (target.deliveries.size() >= target.compact_at) compact(target);
        ++target.received;
        ++delivered_;
        raise(target, at);
    }
    return tlm::TLM_OK_RESPONSE;
}

tlm::tlm_response_status IpiController::clear(unsigned core, std::uint64_t mask,
                                              const sc_core::sc_time& delay) {
    const sc_core::sc_time now = sc_core::sc_time_stamp() + delay;
    PerCore& c = cores_[core];
    c.deliveries.erase(std::remove_if(c.deliveries.begin(), c.deliveries.end(),
                                      [&](const Delivery& d) {
                                          return ((mask >> d.vector) & 1) != 0 && d.at <= now;
                                      }),
                       c.deliveries.end());
    if (!c.deliveries.empty()) {
        sc_core::sc_time earliest = c.deliveries.front().at;
        for (const Delivery& d : c.deliveries)
            earliest = std::min(earliest, d.at);
        raise(c, std::max(earliest, now));
    }
    return tlm::TLM_OK_RESPONSE;
}

// Every access from now on has a local time >= sc_time_stamp(), so deliveries of one vector
// that took place by then are indistinguishable (PENDING shows the vector, any CLEAR of it
// removes them all): only the earliest is kept. This bounds the list of a core that is sent
// IPIs and never acknowledges them (64 vectors + those still to come) without changing what any
// access sees.
void IpiController::compact(PerCore& target) {
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    std::vector<Delivery> kept;
    kept.reserve(target.deliveries.size());
    std::uint64_t seen = 0;
    sc_core::sc_time earliest[64];
    for (const Delivery& d : target.deliveries) {
        if (d.at > now) continue;
        const std::uint64_t bit = std::uint64_t{1} << d.vector;
        if (!(seen & bit) || d.at < earliest[d.vector]) earliest[d.vector] = d.at;
        seen |= bit;
    }
    for (const Delivery& d : target.deliveries) {
        if (d.at > now) {
            kept.push_back(d);
        } else {
            const std::uint64_t bit = std::uint64_t{1} << d.vector;
            if ((seen & bit) && d.at == earliest[d.vector]) {
                kept.push_back(d);
                seen &= ~bit; // one per vector
            }
        }
    }
    target.deliveries.swap(kept);
    target.compact_at = std::max(kCompactAt, 2 * target.deliveries.size()); // amortised O(1)
}

void IpiController::raise(PerCore& target, const sc_core::sc_time& at) {
    if (target.input) target.input->raise(at);
}

std::uint64_t IpiController::pending(unsigned core, const sc_core::sc_time& at) const {
    std::uint64_t bits = 0;
    for (const Delivery& d : cores_.at(core).deliveries)
        if (d.at <= at) bits |= std::uint64_t{1} << d.vector;
    return bits;
}

void IpiController::registerStats(Stats& stats, const std::string& prefix,
                                  const std::function<std::string(unsigned)>& corePrefix) const {
    for (unsigned i = 0; i < cores(); ++i) {
        const std::string p = corePrefix ? corePrefix(i) : indexed("cores", i);
        stats.counter(p + ".ipi.sent", &cores_[i].sent, {"IPIs", "IPIs this core sent"});
        stats.counter(p + ".ipi.received", &cores_[i].received,
                      {"IPIs", "IPIs delivered to this core"});
    }
    stats.counter(prefix + ".sent", &sent_, {"IPIs", "IPIs sent"});
    stats.counter(prefix + ".delivered", &delivered_, {"IPIs", "IPIs delivered"});
    stats.counter(prefix + ".dropped", &dropped_,
                  {"IPIs", "IPIs lost on the way (the injected drop fault)"});
    regs_.registerStats(stats, prefix);
}

} // namespace tlmmu
