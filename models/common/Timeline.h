// A timeline of what the cores do, in Chrome trace-event JSON (opens in Perfetto and
// chrome://tracing): one track per core with slices (page walks are too many to draw; faults by
// class, interrupts, shootdown waits, context switches, scenario events) and instants (an IPI
// arriving), plus counter tracks. Times are simulated time. Bounded: events outside the window
// are not kept, and past `cap` events the file says so and stops growing. Plain C++.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tlmmu {

class Timeline {
  public:
    // Keeps events that overlap [window_begin_ps, window_end_ps) (end 0: no end), at most cap.
    explicit Timeline(std::uint64_t window_begin_ps = 0, std::uint64_t window_end_ps = 0,
                      std::size_t cap = 1000000)
        : begin_(window_begin_ps), end_(window_end_ps), cap_(cap) {}

    void slice(unsigned core, const std::string& name, std::uint64_t begin_ps,
               std::uint64_t end_ps, nlohmann::json args = nullptr);
    void instant(unsigned core, const std::string& name, std::uint64_t at_ps,
                 nlohmann::json args = nullptr);
    void counter(unsigned core, const std::string& name, std::uint64_t at_ps, double value);

    std::size_t events() const { return events_.size(); }
    bool capped() const { return dropped_ > 0; }
    // {"traceEvents": [...], "displayTimeUnit": "ns", ...}; track names per core.
    nlohmann::json toJson(unsigned cores) const;

  private:
    bool keep(std::uint64_t begin_ps, std::uint64_t end_ps);

    std::uint64_t begin_, end_;
    std::size_t cap_;
    std::vector<nlohmann::json> events_;
    std::uint64_t dropped_ = 0;
};

} // namespace tlmmu
