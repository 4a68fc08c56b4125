// The statistics registry: dotted paths -> nested JSON objects, `[i]` -> arrays, live counters,
// the CSV flattening, and the log2 histogram (buckets, count, sum, min, max, mean).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <sstream>
#include <string>

#include "common/Stats.h"

namespace tlmmu {
namespace {

using nlohmann::json;

const StatInfo kInfo{"events", "a test statistic"};

TEST(StatsPointer, DotsAndIndicesBecomeJsonPointerTokens) {
    EXPECT_EQ(Stats::pointer("cores[0].tlb.l1d.hits").to_string(), "/cores/0/tlb/l1d/hits");
    EXPECT_EQ(Stats::pointer("uptime").to_string(), "/uptime");
    EXPECT_EQ(Stats::pointer("a[1][2].b").to_string(), "/a/1/2/b");
    // '/' and '~' inside a name are escaped, not taken as separators.
    EXPECT_EQ(Stats::pointer("a/b~c.d").to_string(), "/a~1b~0c/d");
}

TEST(StatsJson, NestedObjectsAndArrays) {
    std::uint64_t h0 = 5, m0 = 2, h1 = 7, reads = 9;
    Stats s;
    s.counter("cores[0].tlb.l1d.hits", &h0, kInfo);
    s.counter("cores[0].tlb.l1d.misses", &m0, kInfo);
    s.counter("cores[1].tlb.l1d.hits", &h1, kInfo);
    s.counter("memory.reads", &reads, kInfo);
    const json expected = json::parse(R"({
        "cores": [ {"tlb": {"l1d": {"hits": 5, "misses": 2}}},
                   {"tlb": {"l1d": {"hits": 7}}} ],
        "memory": {"reads": 9}
    })");
    const json j = s.toJson();
    EXPECT_EQ(j, expected) << j.dump(2);
    EXPECT_TRUE(j["cores"].is_array());
    EXPECT_EQ(j["cores"].size(), 2u);
    EXPECT_TRUE(j["cores"][0]["tlb"].is_object());
}

TEST(StatsJson, CountersAreReadWhenTheDocumentIsMade) {
    std::uint64_t hits = 1;
    Stats s;
    s.counter("tlb.hits", &hits, kInfo);
    EXPECT_EQ(s.toJson()["tlb"]["hits"], 1);
    hits = 123456789012345ull;
    EXPECT_EQ(s.toJson()["tlb"]["hits"].get<std::uint64_t>(), 123456789012345ull);
    hits = std::numeric_limits<std::uint64_t>::max();
    EXPECT_EQ(s.toJson()["tlb"]["hits"].get<std::uint64_t>(),
              std::numeric_limits<std::uint64_t>::max());
}

TEST(StatsJson, IndicesAreNumericNotLexicographic) {
    std::uint64_t v[12];
    Stats s;
    for (unsigned i = 0; i < 12; ++i) {
        v[i] = 100 + i;
        s.counter("cores[" + std::to_string(i) + "].walks", &v[i], kInfo);
    }
    const json j = s.toJson();
    ASSERT_TRUE(j["cores"].is_array());
    ASSERT_EQ(j["cores"].size(), 12u);
    for (unsigned i = 0; i < 12; ++i)
        EXPECT_EQ(j["cores"][i]["walks"], 100 + i) << i;
}

TEST(StatsJson, NestedIndices) {
    std::uint64_t a = 1, b = 2;
    Stats s;
    s.counter("m[0][1]", &a, kInfo);
    s.counter("m[1][0]", &b, kInfo);
    const json j = s.toJson();
    ASSERT_TRUE(j["m"].is_array());
    ASSERT_TRUE(j["m"][0].is_array());
    EXPECT_EQ(j["m"][0].size(), 2u);
    EXPECT_EQ(j["m"][0][1], 1);
    EXPECT_EQ(j["m"][1][0], 2);
}

TEST(StatsJson, DerivedConstantAndReRegistration) {
    std::uint64_t hits = 3, misses = 1;
    Stats s;
    s.counter("tlb.hits", &hits, kInfo);
    s.counter("tlb.misses", &misses, kInfo);
    s.derived(
        "tlb.hit_rate", [&] { return json(double(hits) / double(hits + misses)); }, kInfo);
    s.constant("config.format", "x86_64", kInfo);
    s.constant("config.levels", 4, kInfo);
    json j = s.toJson();
    EXPECT_DOUBLE_EQ(j["tlb"]["hit_rate"].get<double>(), 0.75);
    EXPECT_EQ(j["config"]["format"], "x86_64");
    EXPECT_EQ(j["config"]["levels"], 4);
    misses = 3;
    EXPECT_DOUBLE_EQ(s.toJson()["tlb"]["hit_rate"].get<double>(), 0.5);
    // The same path registered twice is a mistake in the model, refused.
    EXPECT_THROW(s.constant("config.levels", 5, kInfo), std::invalid_argument);
    EXPECT_THROW(s.counter("tlb.hits", &hits, kInfo), std::invalid_argument);
    EXPECT_EQ(s.toJson()["config"]["levels"], 4);
}

TEST(StatsDescribe, EveryStatisticWithItsKindUnitAndMeaningInPathOrder) {
    std::uint64_t hits = 3;
    Histogram lat;
    Stats s;
    s.histogram("walker.latency", &lat, {"cycles", "latency of one walk"});
    s.counter("cores[1].tlb.hits", &hits, {"lookups", "lookups that hit"});
    s.derived("cores[1].cpi", [] { return json(1.5); }, {"cycles/instruction", "CPI", false});
    s.constant("memory.size", 4096, {"bytes", "modelled memory size", false});
    const std::vector<StatDescription> d = s.describe();
    ASSERT_EQ(d.size(), 4u);
    EXPECT_EQ(d[0].path, "cores[1].cpi");
    EXPECT_EQ(d[0].kind, "derived");
    EXPECT_EQ(d[0].info.unit, "cycles/instruction");
    EXPECT_FALSE(d[0].info.additive);
    EXPECT_EQ(d[1].path, "cores[1].tlb.hits");
    EXPECT_EQ(d[1].kind, "counter");
    EXPECT_EQ(d[1].info.meaning, "lookups that hit");
    EXPECT_TRUE(d[1].info.additive);
    EXPECT_EQ(d[2].path, "memory.size");
    EXPECT_EQ(d[2].kind, "constant");
    EXPECT_EQ(d[3].path, "walker.latency");
    EXPECT_EQ(d[3].kind, "histogram");
    EXPECT_EQ(Stats::folded("cores[12].tlb.l1d.arrays[3].hits"), "cores[i].tlb.l1d.arrays[i].hits");
    EXPECT_EQ(Stats::folded("m[0][1]"), "m[i][i]");
    EXPECT_EQ(Stats::folded("memory.size"), "memory.size");
}

TEST(StatsJson, Empty) {
    Stats s;
    EXPECT_EQ(s.toJson(), json::object());
    std::ostringstream out;
    s.writeCsv(out);
    EXPECT_EQ(out.str(), "stat,value\n");
}

TEST(StatsCsv, FlattenedInKeyOrder) {
    std::uint64_t h0 = 5, h1 = 7;
    Histogram lat;
    lat.add(1);
    lat.add(3);
    Stats s;
    s.counter("cores[1].tlb.l1d.hits", &h1, kInfo);
    s.counter("cores[0].tlb.l1d.hits", &h0, kInfo);
    s.derived(
        "cores[0].tlb.l1d.hit_rate", [] { return json(0.5); }, kInfo);
    s.constant("config.format", "x86_64", kInfo);
    s.constant("config.hardware_ad", true, kInfo);
    s.histogram("walker.latency", &lat, kInfo);
    std::ostringstream out;
    s.writeCsv(out);
    EXPECT_EQ(out.str(), "stat,value\n"
                         "config.format,x86_64\n"
                         "config.hardware_ad,true\n"
                         "cores[0].tlb.l1d.hit_rate,0.5\n"
                         "cores[0].tlb.l1d.hits,5\n"
                         "cores[1].tlb.l1d.hits,7\n"
                         "walker.latency.buckets[0].count,1\n"
                         "walker.latency.buckets[0].high,1\n"
                         "walker.latency.buckets[0].low,1\n"
                         "walker.latency.buckets[1].count,1\n"
                         "walker.latency.buckets[1].high,3\n"
                         "walker.latency.buckets[1].low,2\n"
                         "walker.latency.count,2\n"
                         "walker.latency.max,3\n"
                         "walker.latency.mean,2.0\n"
                         "walker.latency.min,1\n"
                         "walker.latency.p50,1\n"
                         "walker.latency.p90,3\n"
                         "walker.latency.p99,3\n"
                         "walker.latency.percentiles_exact,true\n"
                         "walker.latency.sum,4\n");
}

// ---------------------------------------------------------------------------------------------
// Histogram

TEST(Histogram, Empty) {
    Histogram h;
    EXPECT_EQ(h.count(), 0u);
    EXPECT_EQ(h.sum(), 0u);
    const json expected =
        json::parse(R"({"count": 0, "sum": 0, "min": 0, "max": 0, "mean": 0.0, "buckets": [],
                        "p50": 0, "p90": 0, "p99": 0, "percentiles_exact": true})");
    EXPECT_EQ(h.toJson(), expected) << h.toJson().dump();
}

// Percentiles: exact (the smallest value with at least q of the values at or below it) while
// every value is kept, the upper bound of the log2 bucket after that; merging adds up.
TEST(Histogram, PercentilesExactThenBucketed) {
    Histogram h;
    for (std::uint64_t v = 1; v <= 100; ++v)
        h.add(v);
    EXPECT_EQ(h.percentile(0.5), 50u);
    EXPECT_EQ(h.percentile(0.9), 90u);
    EXPECT_EQ(h.percentile(0.99), 99u);
    Histogram other;
    other.add(1000);
    h.merge(other);
    EXPECT_EQ(h.count(), 101u);
    EXPECT_EQ(h.percentile(1.0), 1000u);
    Histogram big;
    for (std::uint64_t i = 0; i <= Histogram::kExactValues; ++i)
        big.add(i % 2 ? 100 : 5); // one more 5 than 100s
    EXPECT_EQ(big.toJson()["percentiles_exact"], false);
    EXPECT_EQ(big.percentile(0.5), 7u);    // [4, 7] bucket
    EXPECT_EQ(big.percentile(0.99), 100u); // [64, 127] bucket, capped at the max
}

TEST(Histogram, Log2BucketsAndSummary) {
    Histogram h;
    for (std::uint64_t v : {8, 0, 3, 1000, 2, 4, 1, 7})
        h.add(v);
    EXPECT_EQ(h.count(), 8u);
    EXPECT_EQ(h.sum(), 1025u);
    const json j = h.toJson();
    EXPECT_EQ(j["count"], 8);
    EXPECT_EQ(j["sum"], 1025);
    EXPECT_EQ(j["min"], 0);
    EXPECT_EQ(j["max"], 1000);
    EXPECT_DOUBLE_EQ(j["mean"].get<double>(), 128.125);
    const json buckets = json::parse(R"([
        {"low": 0, "high": 0, "count": 1},
        {"low": 1, "high": 1, "count": 1},
        {"low": 2, "high": 3, "count": 2},
        {"low": 4, "high": 7, "count": 2},
        {"low": 8, "high": 15, "count": 1},
        {"low": 512, "high": 1023, "count": 1}
    ])");
    EXPECT_EQ(j["buckets"], buckets) << j["buckets"].dump();
}

TEST(Histogram, BucketEdges) {
    // Every power of two starts a new bucket; 2^b - 1 closes the previous one.
    for (unsigned b = 1; b < 64; ++b) {
        Histogram h;
        const std::uint64_t p = std::uint64_t{1} << b;
        h.add(p - 1);
        h.add(p);
        const json j = h.toJson();
        ASSERT_EQ(j["buckets"].size(), 2u) << b;
        EXPECT_EQ(j["buckets"][0]["low"].get<std::uint64_t>(), p / 2) << b;
        EXPECT_EQ(j["buckets"][0]["high"].get<std::uint64_t>(), p - 1) << b;
        EXPECT_EQ(j["buckets"][1]["low"].get<std::uint64_t>(), p) << b;
        EXPECT_EQ(j["buckets"][1]["high"].get<std::uint64_t>(), 2 * p - 1) << b;
    }
}

TEST(Histogram, LargestValue) {
    Histogram h;
    const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    h.add(max);
    const json j = h.toJson();
    ASSERT_EQ(j["buckets"].size(), 1u);
    EXPECT_EQ(j["buckets"][0]["low"].get<std::uint64_t>(), std::uint64_t{1} << 63);
    EXPECT_EQ(j["buckets"][0]["high"].get<std::uint64_t>(), max);
    EXPECT_EQ(j["min"].get<std::uint64_t>(), max);
    EXPECT_EQ(j["max"].get<std::uint64_t>(), max);
}

TEST(Histogram, MinIsTheSmallestValueNotZero) {
    Histogram h;
    for (std::uint64_t v : {5, 3, 9})
        h.add(v);
    const json j = h.toJson();
    EXPECT_EQ(j["min"], 3);
    EXPECT_EQ(j["max"], 9);
    EXPECT_DOUBLE_EQ(j["mean"].get<double>(), 17.0 / 3.0);
    EXPECT_EQ(j["buckets"].size(), 3u); // [2,3], [4,7] and [8,15]
}

} // namespace
} // namespace tlmmu

TEST(StatsCsvQuoting, StringsWithCommasOrQuotesAreQuoted) {
    const tlmmu::StatInfo kInfo{"", "a test text"};
    tlmmu::Stats stats;
    stats.constant("a", "plain", kInfo);
    stats.constant("b", "x, \"y\"", kInfo);
    std::ostringstream out;
    stats.writeCsv(out);
    EXPECT_EQ(out.str(), "stat,value\na,plain\nb,\"x, \"\"y\"\"\"\n");
}
