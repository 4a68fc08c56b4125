// The key table is the one declaration of every key: each entry must reach parsing (the value
// lands in the system), --list-keys (text and JSON), --print-config, docs/keys.md and, for the
// firmware's keys, the firmware's configuration, with no edit elsewhere.
#include <cstring>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "KeyTable.h"
#include "SystemConfig.h"

namespace tlmmu {
namespace {

std::string writeFile(const std::string& name, const std::string& text) {
    const std::string path = ::testing::TempDir() + "keys_test_" + name;
    std::ofstream(path) << text;
    return path;
}

std::string scenarioFile() {
    return writeFile("scenario.yaml", "processes:\n  - name: p\n    vmas: [{start: 0x400000, "
                                      "size: 4KiB, prot: rx}]\n    workload: {instructions: "
                                      "10}\n");
}

// Values other than the default, as YAML text, most likely valid first.
std::vector<std::string> otherValues(const KeyDef& k) {
    std::vector<std::string> v;
    switch (k.type) {
    case KeyType::Integer:
    case KeyType::Size: {
        const std::uint64_t d = k.def.get<std::uint64_t>();
        for (std::uint64_t c : {d * 2, d + 1, d - 1, d / 2, std::uint64_t{4096}})
            if (c != d && c >= k.min && c <= k.max && (d == 0 || c / 2 == d || c != d * 2))
                v.push_back(std::to_string(c));
        break;
    }
    case KeyType::Number: {
        const double d = k.def.get<double>();
        for (double c : {d * 2, (k.lo + k.hi) / 2})
            if (c != d && c >= k.lo && c <= k.hi) {
                std::ostringstream o;
                o << c;
                v.push_back(o.str());
            }
        break;
    }
    case KeyType::Boolean:
        v.push_back(k.def.get<bool>() ? "false" : "true");
        break;
    case KeyType::Choice:
        for (auto it = k.choices.rbegin(); it != k.choices.rend(); ++it)
            if (it->name != k.def.get<std::string>()) v.push_back(it->name);
        break;
    case KeyType::Path:
        v.push_back(k.name == "workload.scenario" ? scenarioFile() : writeFile("file", ""));
        break;
    }
    return v;
}

// --set lines that make every condition of k hold.
std::vector<std::string> conditionsFor(const KeyDef& k) {
    std::vector<std::string> sets;
    for (const Condition& c : k.when) {
        const KeyDef* d = findKey(c.key);
        switch (c.op) {
        case Condition::Op::Is:
            sets.push_back(c.key + "=" + c.values.front());
            break;
        case Condition::Op::IsNot:
            for (const Choice& ch : d->choices)
                if (std::find(c.values.begin(), c.values.end(), ch.name) == c.values.end()) {
                    sets.push_back(c.key + "=" + ch.name);
                    break;
                }
            break;
        case Condition::Op::NonZero:
            // A size (a cache's) must make whole sets: 32 KiB does for every default geometry.
            if (d->def.get<std::uint64_t>() == 0)
                sets.push_back(c.key + (d->type == KeyType::Size ? "=32KiB" : "=1"));
            break;
        case Condition::Op::AtLeast:
            sets.push_back(c.key + "=" + std::to_string(c.bound));
            break;
        case Condition::Op::Empty:
            break;
        case Condition::Op::NotEmpty:
            sets.push_back(c.key + "=" + scenarioFile());
            break;
        }
    }
    // A trace format needs its trace.
    for (const std::string& s : sets)
        if (s.rfind("workload.format=", 0) == 0 && k.name != "workload.trace")
            sets.push_back("workload.trace=" + writeFile("trace", ""));
    return sets;
}

SystemConfig systemWith(const std::vector<std::string>& sets) {
    Config c;
    for (const auto& s : sets)
        c.set(s);
    return SystemConfig::fromConfig(c);
}

TEST(KeyTable, EveryKeyReachesParsingPrintConfigListsDocsAndTheFirmware) {
    const SystemConfig defaults = systemWith({});
    const std::string text = describeKeys(false), json = describeKeys(true);
    const nlohmann::json listed = nlohmann::json::parse(json);
    const std::string md = keysMarkdown();
    for (const KeyDef& k : keyTable()) {
        SCOPED_TRACE(k.name);
        EXPECT_FALSE(k.meaning.empty());
        EXPECT_TRUE(k.store);
        EXPECT_NE(text.find(k.name + "  ("), std::string::npos);
        ASSERT_TRUE(listed.contains(k.name));
        EXPECT_EQ(listed[k.name]["default"], k.def);
        EXPECT_EQ(listed[k.name]["meaning"], k.meaning);
        EXPECT_NE(md.find("| `" + k.name + "`"), std::string::npos);

        // Set it (with what makes it apply): its value is the system's, and it is printed.
        std::vector<std::string> sets = conditionsFor(k);
        if (k.name == "workload.format") sets.push_back("workload.trace=" + writeFile("t", ""));
        // The first other value the system accepts (some contradict another setting).
        std::string value;
        SystemConfig s;
        for (const std::string& candidate : otherValues(k)) {
            std::vector<std::string> with = sets;
            with.push_back(k.name + "=" + candidate);
            try {
                s = systemWith(with);
                value = candidate;
                break;
            } catch (const InputError&) {
            }
        }
        ASSERT_FALSE(value.empty()) << "no other value accepted";
        EXPECT_EQ(s.inapplicable(k.name), "");
        const nlohmann::json got = s.resolved[Stats::pointer(k.name)];
        const std::string got_text = got.is_string() ? got.get<std::string>() : got.dump();
        if (k.type == KeyType::Number)
            EXPECT_DOUBLE_EQ(got.get<double>(), std::stod(value));
        else
            EXPECT_EQ(got_text, value);
        const YAML::Node printed = YAML::Load(s.toYaml());
        YAML::Node node = printed;
        std::string rest = k.name;
        for (std::size_t dot; (dot = rest.find('.')) != std::string::npos;) {
            node.reset(node[rest.substr(0, dot)]);
            rest = rest.substr(dot + 1);
        }
        EXPECT_TRUE(node[rest].IsDefined()) << s.toYaml();
        if (!k.fw_field.empty()) {
            // Only the firmware key's own value changes in the firmware's configuration.
            const SystemConfig base = systemWith(conditionsFor(k));
            EXPECT_NE(std::memcmp(&base.firmware, &s.firmware, sizeof s.firmware), 0);
        }
    }
}

TEST(KeyTable, DocsKeysMdIsTheTable) {
    std::ifstream in(std::string(TLMMU_SOURCE_DIR) + "/docs/keys.md");
    std::stringstream file;
    file << in.rdbuf();
    EXPECT_EQ(file.str(), keysMarkdown())
        << "docs/keys.md is stale: build/testbench/tlmmu --keys-markdown > docs/keys.md";
}

} // namespace
} // namespace tlmmu
