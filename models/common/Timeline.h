// A timeline of what the cores do, in Chrome trace-event JSON (opens in Perfetto and
// chrome://tracing): one track per core with slices (faults by class, interrupts, shootdown
// waits, scenario events; page walks only inside an explicit window, they are too many to draw
// otherwise) and instants (an IPI arriving, context switches, exits, kills; a slice of no
// length is drawn as an instant), flow arrows (an IPI from its send to its handler), plus
// counter tracks. Times are simulated time. Bounded: events outside the window are not kept,
// and past `cap` events the file says so and stops growing. Plain C++.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tlmmu {

class Timeline {
  public:
    // Keeps events that overlap [window_begin_ps, window_end_ps) (end 0: no end), at most cap.
    // windowed: the window was asked for (--timeline-window), so the events too many to draw
    // over a whole run (page walks) are drawn inside it.
    explicit Timeline(std::uint64_t window_begin_ps = 0, std::uint64_t window_end_ps = 0,
                      std::size_t cap = 1000000, bool windowed = false)
        : begin_(window_begin_ps), end_(window_end_ps), cap_(cap), windowed_(windowed) {}

    // A slice with begin_ps == end_ps is an instant.
    void slice(unsigned core, const std::string& name, std::uint64_t begin_ps,
               std::uint64_t end_ps, nlohmann::json args = nullptr);
    void instant(unsigned core, const std::string& name, std::uint64_t at_ps,
                 nlohmann::json args = nullptr);
    // True: the sample is in the file (inside the window, under the cap).
    bool counter(unsigned core, const std::string& name, std::uint64_t at_ps, double value);
    // A flow arrow (Chrome trace "s" and "f" events, bound to the slices around them) from
    // every flowBegin of `key` to the next flowEnd of that key; a begin never ended is not
    // drawn. The arrow is kept when it overlaps the window.
    void flowBegin(std::uint64_t key, unsigned core, std::uint64_t at_ps);
    void flowEnd(std::uint64_t key, unsigned core, std::uint64_t at_ps, const std::string& name);
    // An explicit window: events too many for a whole run (page walks) are drawn inside it.
    bool windowed() const { return windowed_; }

    std::size_t events() const { return events_.size(); }
    bool capped() const { return dropped_ > 0; }
    // {"traceEvents": [...], "displayTimeUnit": "ns", ...}; track names per core.
    nlohmann::json toJson(unsigned cores) const;

  private:
    bool keep(std::uint64_t begin_ps, std::uint64_t end_ps);

    std::uint64_t begin_, end_;
    std::size_t cap_;
    bool windowed_;
    std::vector<nlohmann::json> events_;
    std::uint64_t dropped_ = 0;
    struct FlowStart {
        unsigned core;
        std::uint64_t at_ps;
    };
    std::map<std::uint64_t, std::vector<FlowStart>> flows_; // begun, not yet ended, by key
    std::uint64_t flow_ids_ = 0;
};

} // namespace tlmmu
