// The one table of configuration keys, in the spirit of gem5's Param declarations: each key is
// declared once, with its type, default, allowed range or values, unit, meaning, the condition
// under which it can have an effect, and where its value goes (a field of SystemConfig, of the
// firmware's configuration, or of a workload). Parsing (SystemConfig::fromConfig), --list-keys,
// --list-keys-json, --print-config, the scenario's workload check and docs/keys.md all read it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tlmmu {

struct SystemConfig;
struct WorkloadSpec;

enum class KeyType : std::uint8_t { Integer, Number, Boolean, Choice, Size, Path };

// A condition on another key's resolved value.
struct Condition {
    enum class Op : std::uint8_t { Is, IsNot, NonZero, AtLeast, Empty, NotEmpty };
    std::string key;
    Op op = Op::Is;
    std::vector<std::string> values; // Is, IsNot
    std::uint64_t bound = 0;         // AtLeast
    bool holds(const nlohmann::json& value) const;
    // "workload.format is synthetic" (what must hold), and what holds instead.
    std::string text() const;
    std::string actual(const nlohmann::json& value) const;
};

struct Choice {
    std::string name;
    std::int64_t value; // what the key's field receives
};

struct KeyDef {
    using Store =
        std::function<void(SystemConfig&, const nlohmann::json& value, std::int64_t choice)>;
    using WorkloadStore =
        std::function<void(WorkloadSpec&, const nlohmann::json& value, std::int64_t choice)>;

    std::string name;
    KeyType type = KeyType::Integer;
    nlohmann::json def;
    std::uint64_t min = 0, max = UINT64_MAX; // Integer, Size
    double lo = 0, hi = 0;                   // Number
    std::vector<Choice> choices;             // Choice
    std::string unit;                        // "cycles", "bytes", "entries", ... ("" if none)
    std::string meaning;
    // It can have an effect only when every condition holds.
    std::vector<Condition> when;
    // A key of the workload (workload.*): a hardware key that only the workload leaves unused
    // is no contradiction (a preset describes hardware that some workloads do not exercise).
    bool workload = false;
    // The firmware configuration field it fills (fw_kernel_config), "" if none.
    std::string fw_field;
    Store store;
    // Keys of a workload (the run's, and each scenario thread's): where the value goes, and the
    // key's name inside a scenario's workload mapping ("pattern" for workload.synthetic.pattern).
    WorkloadStore workload_store;
    std::string scenario_leaf;

    std::string typeName() const; // integer, number, boolean, string, size, path
    std::string allowed() const;  // "[0, 16]", "lru, plru, fifo, random", ...
    // The choice of `name` (Choice keys), or null.
    const Choice* choice(const std::string& name) const;
    // "" when the key applies with these resolved values; else why not, and (decider) the key
    // whose value rules it out.
    std::string inapplicable(const nlohmann::json& resolved, std::string* decider = nullptr) const;
};

// Every key, in the order of docs/keys.md.
const std::vector<KeyDef>& keyTable();
// The key of that name, or null.
const KeyDef* findKey(const std::string& name);
// The keys of a workload (those with a workload_store), for a scenario's thread.
std::vector<const KeyDef*> workloadKeys();

// `tlmmu --list-keys` (text) and `--list-keys-json`; docs/keys.md.
std::string describeKeys(bool as_json);
std::string keysMarkdown();

} // namespace tlmmu
