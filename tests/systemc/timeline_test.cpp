// The timeline (--timeline, models/common/Timeline.h) on whole platforms: a page-walk counter
// track on every core, scenario events named after themselves, exits and kills and context
// switches as instants, an arrow from each IPI send to its handler, a slice per page walk inside
// --timeline-window, and statistics that do not change with a timeline. The model is
// deterministic: names, cycles and counts are exact. One TEST per process.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "ShootdownScenarios.h"
#include "SystemTestUtil.h"

namespace tlmmu::test {
namespace {

constexpr double kPsPerCycle = 500; // the default 2 GHz clock

// One event of the trace, its times in cycles.
struct Event {
    std::string ph, name;
    unsigned tid = 0;
    std::uint64_t ts = 0, dur = 0;
    nlohmann::json args, raw;
};

std::uint64_t cycles(const nlohmann::json& us) {
    return static_cast<std::uint64_t>(std::llround(us.get<double>() * 1e6 / kPsPerCycle));
}

std::vector<Event> events(const nlohmann::json& timeline) {
    std::vector<Event> out;
    for (const auto& e : timeline["traceEvents"]) {
        if (e["ph"] == "M") continue;
        Event x;
        x.ph = e["ph"].get<std::string>();
        x.name = e["name"].get<std::string>();
        if (e.contains("tid")) x.tid = e["tid"].get<unsigned>();
        x.ts = cycles(e["ts"]);
        if (e.contains("dur")) x.dur = cycles(e["dur"]);
        if (e.contains("args")) x.args = e["args"];
        x.raw = e;
        out.push_back(std::move(x));
    }
    return out;
}

std::vector<Event> named(const std::vector<Event>& all, const std::string& name,
                         const std::string& ph = "") {
    std::vector<Event> out;
    for (const Event& e : all)
        if (e.name == name && (ph.empty() || e.ph == ph)) out.push_back(e);
    return out;
}

// The page walks a core's counter track says it made: each sample holds until the next one, per
// 1 us interval (2000 cycles).
std::uint64_t walksOfCounter(const std::vector<Event>& all, unsigned core) {
    std::vector<const Event*> samples;
    for (const Event& e : all)
        if (e.ph == "C" && e.name == "page walks (core" + std::to_string(core) + ")")
            samples.push_back(&e);
    std::uint64_t walks = 0;
    for (std::size_t i = 0; i + 1 < samples.size(); ++i)
        walks += samples[i]->args["value"].get<std::uint64_t>() *
                 ((samples[i + 1]->ts - samples[i]->ts) / 2000);
    if (!samples.empty()) {
        EXPECT_EQ(samples.back()->args["value"], 0) << "core" << core;
    }
    return walks;
}

nlohmann::json readJson(const std::string& path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in);
}

std::string slurp(const std::string& path) {
    std::stringstream s;
    s << std::ifstream(path).rdbuf();
    return s.str();
}

// One run of `system` with a timeline (no window): its statistics and timeline events.
struct Run {
    nlohmann::json stats;
    std::vector<Event> all;
};
Run runWithTimeline(const SystemConfig& system) {
    Platform platform(system);
    platform.enableTimeline(0, 0);
    platform.run();
    EXPECT_EQ(platform.error(), "");
    return {platform.stats().toJson(), events(platform.timelineJson())};
}

// shootdown_test.cpp's step by step: a discard of one page by thread 0 of 4 at instruction 2000.
std::string discardSystem() {
    return system(4, threadsScenario(
                         4, "          - {at: 2000, discard: {start: 0x10002000, size: 4KiB}}\n"));
}

// Two cores: "app" on core 0 with one event of each kind (its fork's child runs on core 1),
// "victim" on core 1 protects its data read-only and is killed by its next store.
std::string eventsScenario() {
    const std::string vmas = "    vmas:\n      - {start: 0x400000, size: 64KiB, prot: rx}\n"
                             "      - {start: 0x10000000, size: 64KiB, prot: rw}\n";
    const std::string stream = "{pattern: stream, footprint: 16KiB, data_base: 0x10000000, "
                               "code_footprint: 4KiB, refs_per_instruction: 1, ";
    return "processes:\n  - name: app\n    core: 0\n" + vmas + "    workload: " + stream +
           "instructions: 6000, write_fraction: 0}\n    events:\n"
           "      - {at: 1000, map: {start: 0x20000000, size: 64KiB, prot: rw}}\n"
           "      - {at: 2000, protect: {start: 0x10000000, size: 4KiB, prot: r}}\n"
           "      - {at: 3000, discard: {start: 0x10002000, size: 8KiB}}\n"
           "      - {at: 4000, fork: child}\n"
           "      - {at: 4500, unmap: {start: 0x20000000, size: 64KiB}}\n"
           "      - {at: 5000, exit: true}\n"
           "  - name: child\n    forked_from: app\n    core: 1\n    workload: " +
           stream + "instructions: 2000, write_fraction: 0}\n" + "  - name: victim\n    core: 1\n" +
           vmas + "    workload: " + stream +
           "instructions: 4000, write_fraction: 0.5}\n    events:\n"
           "      - {at: 1000, protect: {start: 0x10000000, size: 64KiB, prot: r}}\n";
}

// The samples of a core's page-walk counter: (cycle, walks in the 1 us from there).
std::vector<std::pair<std::uint64_t, std::uint64_t>> counterOf(const std::vector<Event>& all,
                                                               unsigned core) {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
    for (const Event& e : all)
        if (e.ph == "C" && e.name == "page walks (core" + std::to_string(core) + ")")
            out.emplace_back(e.ts, e.args["value"].get<std::uint64_t>());
    return out;
}

// Core 0 has its counter track as every core: walks per 1 us of simulated time by when each
// walk starts, a sample where the count changes, 0 after the last; what it adds up to is the
// walker's count. (Before, samples came only at quantum syncs in user code.)
TEST(Timeline, PageWalkCounterOnEveryCore) {
    const auto [s, all] = runWithTimeline(makeSystem(system(2, eventsScenario())));
    using Samples = std::vector<std::pair<std::uint64_t, std::uint64_t>>;
    EXPECT_EQ(counterOf(all, 0), (Samples{{0, 1},
                                          {2000, 2},
                                          {6000, 1},
                                          {8000, 2},
                                          {10000, 1},
                                          {16000, 0},
                                          {18000, 1},
                                          {20000, 2},
                                          {22000, 1},
                                          {24000, 0},
                                          {46000, 3},
                                          {48000, 1},
                                          {50000, 0}}));
    EXPECT_EQ(counterOf(all, 1), (Samples{{0, 1},
                                          {2000, 2},
                                          {4000, 3},
                                          {6000, 2},
                                          {8000, 0},
                                          {14000, 1},
                                          {16000, 0},
                                          {184000, 4},
                                          {186000, 1},
                                          {188000, 0}}));
    EXPECT_EQ(walksOfCounter(all, 0), 19u);
    EXPECT_EQ(walksOfCounter(all, 0), u(s["cores"][0]["walker"]["walks"]));
    EXPECT_EQ(walksOfCounter(all, 1), 14u);
    EXPECT_EQ(walksOfCounter(all, 1), u(s["cores"][1]["walker"]["walks"]));
    // Without --timeline-window the walks themselves are not drawn.
    EXPECT_TRUE(named(all, "walk").empty());
}

// The default system (two cores, four processes, threads, swapping): every core's track adds up
// to its walker's count.
TEST(Timeline, PageWalkCounterOfTheDefaultSystem) {
    Config c = Config::fromFile(std::string(TLMMU_SOURCE_DIR) + "/configs/default.yaml");
    const auto [s, all] = runWithTimeline(SystemConfig::fromConfig(c));
    for (unsigned core = 0; core < 2; ++core) {
        const auto samples = counterOf(all, core);
        ASSERT_FALSE(samples.empty()) << "core" << core;
        EXPECT_EQ(samples.front().first, 0u) << "core" << core;
        for (std::size_t i = 0; i < samples.size(); ++i) {
            EXPECT_EQ(samples[i].first % 2000, 0u) << "core" << core;
            if (i) {
                EXPECT_NE(samples[i].second, samples[i - 1].second) << "core" << core;
            }
        }
        EXPECT_GT(walksOfCounter(all, core), 0u) << "core" << core;
        EXPECT_EQ(walksOfCounter(all, core), u(s["cores"][core]["walker"]["walks"]))
            << "core" << core;
    }
}

// Each scenario event is a slice named after its kind and arguments, with them as arguments; a
// task's exit and a process's kill are instants, and so are context switches; no slice has no
// length.
TEST(Timeline, ScenarioEventsExitsKillsAndSwitches) {
    const auto [s, all] = runWithTimeline(makeSystem(system(2, eventsScenario())));
    struct Want {
        unsigned core;
        std::string name;
        std::uint64_t ts, dur;
    };
    for (const Want& w : std::vector<Want>{{0, "map 0x20000000+64KiB rw", 8041, 200},
                                           {0, "protect 0x10000000+4KiB r", 12767, 1500},
                                           {0, "discard 0x10002000+8KiB", 15667, 3300},
                                           {0, "fork child", 23793, 22315},
                                           {0, "unmap 0x20000000+64KiB", 47308, 1200},
                                           {0, "exit", 49108, 166624},
                                           {1, "protect 0x10000000+64KiB r", 8341, 7600}}) {
        const auto e = named(all, w.name, "X");
        ASSERT_EQ(e.size(), 1u) << w.name;
        EXPECT_EQ(e[0].tid, w.core) << w.name;
        EXPECT_EQ(e[0].ts, w.ts) << w.name;
        EXPECT_EQ(e[0].dur, w.dur) << w.name;
    }
    EXPECT_EQ(named(all, "map 0x20000000+64KiB rw")[0].args,
              (nlohmann::json{{"task", "app"},
                              {"instruction", 1000},
                              {"start", "0x20000000"},
                              {"size", 65536},
                              {"prot", "rw"}}));
    EXPECT_EQ(named(all, "fork child")[0].args,
              (nlohmann::json{{"task", "app"}, {"instruction", 4000}}));
    EXPECT_EQ(named(all, "protect 0x10000000+64KiB r")[0].args["task"], "victim");
    // The kill and the exit where the teardown of the address space ended (each teardown with
    // its 48 one-cycle interrupt windows, one per 64 page-table entries it visits).
    const auto kill = named(all, "kill victim");
    ASSERT_EQ(kill.size(), 1u);
    EXPECT_EQ(kill[0].ph, "i");
    EXPECT_EQ(kill[0].tid, 1u);
    EXPECT_EQ(kill[0].ts, 183667u);
    EXPECT_EQ(kill[0].args, (nlohmann::json{{"reason", "write to a read-only mapping"},
                                            {"task", "victim"},
                                            {"va", 0x10001f48}}));
    EXPECT_EQ(s["processes"]["victim"]["killed"],
              "process victim killed: write to a read-only mapping (permission fault on write "
              "at VA 0x10001f48)");
    const auto fault = named(all, "fault permission");
    ASSERT_EQ(fault.size(), 1u);
    EXPECT_EQ(fault[0].ts + fault[0].dur, kill[0].ts); // the handler's end (teardown in it)
    for (const auto& [name, core, ts] :
         std::vector<std::tuple<std::string, unsigned, std::uint64_t>>{
             {"exit app", 0, 49108 + 166624}, {"exit child", 1, 354191}}) {
        const auto e = named(all, name);
        ASSERT_EQ(e.size(), 1u) << name;
        EXPECT_EQ(e[0].ph, "i") << name;
        EXPECT_EQ(e[0].tid, core) << name;
        EXPECT_EQ(e[0].ts, ts) << name;
    }
    EXPECT_TRUE(named(all, "exit victim").empty()); // killed, not exited
    // Context switches: instants where the task switched to starts, one per switch counted.
    const auto child = named(all, "switch to child");
    ASSERT_EQ(child.size(), 1u);
    EXPECT_EQ(child[0].ph, "i");
    EXPECT_EQ(child[0].tid, 1u);
    EXPECT_EQ(child[0].ts, 184167u);
    EXPECT_EQ(child[0].args, (nlohmann::json{{"from", "victim"}, {"cycles", 500}}));
    EXPECT_EQ(named(all, "switch to app", "i").size(), 1u);
    EXPECT_EQ(named(all, "switch to victim", "i").size(), 1u);
    EXPECT_EQ(u(s["cores"][0]["context_switches"]), 1u);
    EXPECT_EQ(u(s["cores"][1]["context_switches"]), 2u);
    for (const Event& e : all) {
        if (e.ph == "X") {
            EXPECT_GT(e.dur, 0u) << e.name;
        }
        EXPECT_NE(e.name, "os event");
    }
}

// A discard by thread 0 while threads 1-3 run (shootdown_test.cpp's step by step): an arrow from
// the initiator's IPI send (600 cycles into its shootdown, 1000 before the IPI arrives) to each
// target's handler, where it starts serving the request (after reading its 3 words).
TEST(Timeline, IpiArrowFromSendToHandler) {
    const auto [s, all] = runWithTimeline(makeSystem(discardSystem()));
    const auto shootdown = named(all, "shootdown");
    ASSERT_EQ(shootdown.size(), 1u);
    EXPECT_EQ(shootdown[0].ts, 14341u);
    const auto sends = named(all, "ipi", "s"), ends = named(all, "ipi", "f");
    ASSERT_EQ(sends.size(), 3u);
    ASSERT_EQ(ends.size(), 3u);
    EXPECT_EQ(u(s["cores"][0]["ipi"]["sent"]), 3u);
    std::map<unsigned, std::uint64_t> handler_begin;
    for (const Event& h : named(all, "shootdown handler"))
        handler_begin[h.tid] = h.ts;
    EXPECT_EQ(handler_begin,
              (std::map<unsigned, std::uint64_t>{{1, 16341}, {2, 16341}, {3, 16341}}));
    std::set<unsigned> targets;
    for (const Event& from : sends) {
        EXPECT_EQ(from.tid, 0u);
        EXPECT_EQ(from.ts, shootdown[0].ts + 600);
        EXPECT_EQ(from.raw["cat"], "flow");
        const Event* to = nullptr;
        for (const Event& f : ends)
            if (f.raw["id"] == from.raw["id"]) to = &f;
        ASSERT_NE(to, nullptr) << from.raw["id"];
        EXPECT_EQ(to->raw["bp"], "e"); // bound to the handler slice around it
        EXPECT_EQ(to->ts, handler_begin.at(to->tid) + 300) << "core" << to->tid;
        targets.insert(to->tid);
    }
    EXPECT_EQ(targets, (std::set<unsigned>{1, 2, 3}));
    for (const Event& irq : named(all, "irq"))
        EXPECT_EQ(irq.ts, shootdown[0].ts + 600 + 1000) << "core" << irq.tid;
}

// Runs the program with `args`; its exit status.
int runTlmmu(const std::string& config, const std::string& args) {
    const std::string cmd = std::string(TLMMU_BINARY_DIR) + "/testbench/tlmmu -q --config " +
                            writeFile("program.yaml", config) + " " + args;
    return WEXITSTATUS(std::system(cmd.c_str()));
}

// --timeline-window 0:2000 (ns: the first 4000 cycles): a slice per page walk that overlaps it,
// with the levels read (from the top down), the PTE writes and the latency; as many per 1 us
// as the counter says.
TEST(Timeline, PageWalkSlicesInsideTheWindow) {
    const std::string cfg = discardSystem();
    const std::string out = writeFile("t.json", ""), stats = writeFile("s.json", "");
    ASSERT_EQ(
        runTlmmu(cfg, "--timeline " + out + " --timeline-window 0:2000 --stats-json " + stats), 0);
    const auto all = events(readJson(out));
    std::map<std::pair<unsigned, std::uint64_t>, std::uint64_t> per_us;
    for (const Event& w : named(all, "walk")) {
        EXPECT_EQ(w.ph, "X");
        EXPECT_LT(w.ts, 4000u);
        EXPECT_EQ(w.dur, w.args["latency_cycles"].get<std::uint64_t>());
        ++per_us[{w.tid, w.ts / 2000}];
    }
    for (unsigned core = 0; core < 4; ++core)
        for (const auto& [ts, walks] : counterOf(all, core))
            EXPECT_EQ((per_us[{core, ts / 2000}]), walks) << "core" << core << " at " << ts;
    std::vector<Event> core0;
    for (const Event& w : named(all, "walk"))
        if (w.tid == 0) core0.push_back(w);
    ASSERT_EQ(core0.size(), 3u);
    // The code page: the root's entry is empty; after the fault (core 0's own: the four threads'
    // faults on it run side by side under the read lock), the whole walk, which sets the leaf's
    // A (a write); the data page: the page-walk cache skips to level 1.
    auto walk = [](Addr va, const std::vector<unsigned>& levels, std::uint64_t latency,
                   const char* fault, unsigned writes = 0) {
        nlohmann::json args = {{"va", va},
                               {"levels_read", levels},
                               {"pte_writes", writes},
                               {"latency_cycles", latency}};
        if (fault) args["fault"] = fault;
        return args;
    };
    EXPECT_EQ(core0[0].ts, 1u);
    EXPECT_EQ(core0[0].args, walk(0x400000, {3}, 100, "not_present"));
    EXPECT_EQ(core0[1].ts, 1764u);
    EXPECT_EQ(core0[1].args, walk(0x400000, {3, 2, 1, 0}, 500, nullptr, 1));
    EXPECT_EQ(core0[2].ts, 2264u);
    EXPECT_EQ(core0[2].args, walk(0x10000000, {1}, 100, "not_present"));
    // Nothing after the window, counters included.
    for (const Event& e : all)
        EXPECT_LT(e.ts, 4000u) << e.name;
}

// A timeline changes no statistic: the same run with and without it (and with a window) writes
// the same statistics, byte for byte; and the same run gives the same timeline.
TEST(Timeline, StatisticsDoNotChange) {
    const std::string dir = std::filesystem::path(writeFile("a.json", "")).parent_path();
    const std::string base = "--config " + std::string(TLMMU_SOURCE_DIR) + "/configs/default.yaml";
    auto run = [&](const std::string& args) {
        const std::string cmd =
            std::string(TLMMU_BINARY_DIR) + "/testbench/tlmmu -q " + base + " " + args;
        return WEXITSTATUS(std::system(cmd.c_str()));
    };
    ASSERT_EQ(run("--stats-json " + dir + "/a.json"), 0);
    ASSERT_EQ(run("--stats-json " + dir + "/b.json --timeline " + dir + "/b.tl.json"), 0);
    ASSERT_EQ(run("--stats-json " + dir + "/c.json --timeline " + dir +
                  "/c.tl.json --timeline-window 1000:200000"),
              0);
    ASSERT_EQ(run("--stats-json " + dir + "/d.json --timeline " + dir + "/d.tl.json"), 0);
    const std::string a = slurp(dir + "/a.json");
    EXPECT_GT(a.size(), 1000u);
    EXPECT_EQ(slurp(dir + "/b.json"), a);
    EXPECT_EQ(slurp(dir + "/c.json"), a);
    EXPECT_GT(slurp(dir + "/b.tl.json").size(), 1000u);
    EXPECT_EQ(slurp(dir + "/d.tl.json"), slurp(dir + "/b.tl.json"));
    EXPECT_NE(slurp(dir + "/c.tl.json").find("\"walk\""), std::string::npos);
}

} // namespace
} // namespace tlmmu::test
