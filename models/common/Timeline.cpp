#include "common/Timeline.h"

namespace tlmmu {

namespace {
// Chrome trace times are microseconds; ps keep their precision as fractions.
double us(std::uint64_t ps) {
    return static_cast<double>(ps) / 1e6;
}
} // namespace

bool Timeline::keep(std::uint64_t begin_ps, std::uint64_t end_ps) {
    if (end_ps < begin_ || (end_ != 0 && begin_ps >= end_)) return false;
    if (events_.size() >= cap_) {
        ++dropped_;
        return false;
    }
    return true;
}

void Timeline::slice(unsigned core, const std::string& name, std::uint64_t begin_ps,
                     std::uint64_t end_ps, nlohmann::json args) {
    if (end_ps <= begin_ps) return instant(core, name, begin_ps, std::move(args));
    if (!keep(begin_ps, end_ps)) return;
    nlohmann::json e = {{"name", name}, {"ph", "X"},         {"pid", 0},
                        {"tid", core},  {"ts", us(begin_ps)}, {"dur", us(end_ps - begin_ps)}};
    if (!args.is_null()) e["args"] = std::move(args);
    events_.push_back(std::move(e));
}

void Timeline::instant(unsigned core, const std::string& name, std::uint64_t at_ps,
                       nlohmann::json args) {
    if (!keep(at_ps, at_ps)) return;
    nlohmann::json e = {{"name", name}, {"ph", "i"},       {"s", "t"},
                        {"pid", 0},     {"tid", core},     {"ts", us(at_ps)}};
    if (!args.is_null()) e["args"] = std::move(args);
    events_.push_back(std::move(e));
}

bool Timeline::counter(unsigned core, const std::string& name, std::uint64_t at_ps, double value) {
    if (!keep(at_ps, at_ps)) return false;
    events_.push_back({{"name", name + " (core" + std::to_string(core) + ")"},
                       {"ph", "C"},
                       {"pid", 0},
                       {"ts", us(at_ps)},
                       {"args", {{"value", value}}}});
    return true;
}

void Timeline::flowBegin(std::uint64_t key, unsigned core, std::uint64_t at_ps) {
    flows_[key].push_back({core, at_ps});
}

void Timeline::flowEnd(std::uint64_t key, unsigned core, std::uint64_t at_ps,
                       const std::string& name) {
    const auto it = flows_.find(key);
    if (it == flows_.end()) return;
    for (const FlowStart& s : it->second) {
        if (!keep(s.at_ps, at_ps)) continue;
        const std::uint64_t id = ++flow_ids_;
        // "bp": "e" binds the end to the slice around it (the handler), as "s" always is.
        const nlohmann::json flow = {{"name", name}, {"cat", "flow"}, {"id", id}, {"pid", 0}};
        nlohmann::json from = flow, to = flow;
        from["ph"] = "s", from["tid"] = s.core, from["ts"] = us(s.at_ps);
        to["ph"] = "f", to["bp"] = "e", to["tid"] = core, to["ts"] = us(at_ps);
        events_.push_back(std::move(from));
        events_.push_back(std::move(to));
    }
    flows_.erase(it);
}

nlohmann::json Timeline::toJson(unsigned cores) const {
    nlohmann::json events = nlohmann::json::array();
    events.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", 0},
                      {"args", {{"name", "tlmmu"}}}});
    for (unsigned c = 0; c < cores; ++c)
        events.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", 0}, {"tid", c},
                          {"args", {{"name", "core" + std::to_string(c)}}}});
    for (const auto& e : events_)
        events.push_back(e);
    nlohmann::json out = {{"traceEvents", std::move(events)}, {"displayTimeUnit", "ns"}};
    if (dropped_)
        out["otherData"] = {{"note", "timeline capped at " + std::to_string(cap_) +
                                         " events; " + std::to_string(dropped_) +
                                         " later events left out (use --timeline-window)"}};
    return out;
}

} // namespace tlmmu
