// Statistics registry: every module registers its counters under a path such as
// "cores[0].tlb.l1d.hits"; one JSON document (nested objects, `[i]` -> arrays) and a CSV
// flattening (path,value) are made from it. Plain C++.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tlmmu {

// Log2-bucketed histogram of cycle counts: bucket b holds values in [2^(b-1), 2^b), bucket 0
// holds 0. Keeps exact count, sum, min and max, and percentiles p50/p90/p99: exact while it has
// kept every value (up to kExactValues of them), else the upper bound of the bucket they fall in
// (then "percentiles_exact" is false).
class Histogram {
  public:
    static constexpr std::size_t kExactValues = std::size_t{1} << 16;
    void add(std::uint64_t value);
    void merge(const Histogram& other);
    std::uint64_t count() const { return count_; }
    std::uint64_t sum() const { return sum_; }
    // The smallest value v with at least q of the values <= v (q in (0, 1]).
    std::uint64_t percentile(double q) const;
    nlohmann::json toJson() const;

  private:
    std::vector<std::uint64_t> buckets_;
    std::vector<std::uint64_t> values_; // every value while count_ <= kExactValues
    std::uint64_t count_ = 0, sum_ = 0, min_ = 0, max_ = 0;
};

// What a statistic is, given where it is registered (the one place it is declared): its unit
// ("cycles", "translations", "bytes", "1" for a ratio, "" for a text or a record) and one
// sentence of meaning. `additive`: summing it over cores or processes gives the whole (true
// for event counts and cycles; false for ratios, peaks, sizes, indices, configuration
// constants and records). A histogram's count and sum add up and its other fields do not,
// whatever `additive` says.
struct StatInfo {
    std::string unit;
    std::string meaning;
    bool additive = true;
};

// One registered statistic as described by Stats::describe().
struct StatDescription {
    std::string path;
    std::string kind; // "counter", "histogram", "derived" (computed when read) or "constant"
    StatInfo info;
};

// Paths are names ([A-Za-z_][A-Za-z0-9_-]*) joined by '.', each optionally indexed "[i]"; a
// path that breaks the rule, that is registered twice, or that would make a value and a group
// of one name, throws std::invalid_argument at registration, so the JSON and CSV made from
// them are never ambiguous (callers check names that come from input first: scenario process
// names are identifiers). Every registration says what the statistic is (StatInfo: a unit and
// a meaning are required).
class Stats {
  public:
    void counter(const std::string& path, const std::uint64_t* value, StatInfo info);
    void histogram(const std::string& path, const Histogram* h, StatInfo info);
    void derived(const std::string& path, std::function<nlohmann::json()> fn, StatInfo info);
    void constant(const std::string& path, nlohmann::json value, StatInfo info);

    nlohmann::json toJson() const;
    void writeCsv(std::ostream& out) const;
    // Every statistic in path order.
    std::vector<StatDescription> describe() const;
    // Turns "a[0].b" into the JSON pointer "/a/0/b".
    static nlohmann::json::json_pointer pointer(const std::string& path);
    // "cores[3].tlb.l1d.hits" -> "cores[i].tlb.l1d.hits": one name for every instance.
    static std::string folded(const std::string& path);

  private:
    struct Entry {
        std::function<nlohmann::json()> read;
        std::string kind;
        StatInfo info;
    };
    void add(const std::string& path, std::function<nlohmann::json()> read, const char* kind,
             StatInfo info);
    void checkPath(const std::string& path) const;
    std::map<std::string, Entry> entries_;
};

} // namespace tlmmu
