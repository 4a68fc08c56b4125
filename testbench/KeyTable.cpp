#include "KeyTable.h"

#include <algorithm>
#include <sstream>

#include "Config.h"
#include "KeyTableBuilder.h"
#include "common/Stats.h"

namespace tlmmu {

namespace {

// Every key, group by group, in the order of docs/keys.md.
std::vector<KeyDef> buildTable() {
    using namespace keytable;
    Table t;
    addSystemKeys(t);
    addMmuKeys(t);
    addWalkerKeys(t);
    addMemoryKeys(t);
    addCacheKeys(t);
    addWorkloadKeys(t);
    addFirmwareKeys(t);
    addCheckerKeys(t);
    return t.take();
}

using Op = Condition::Op;

std::string numberText(double v) {
    std::ostringstream o;
    o << v;
    return o.str();
}

std::string valueText(const nlohmann::json& v) {
    if (v.is_string()) return v.get<std::string>().empty() ? "\"\"" : v.get<std::string>();
    if (v.is_number_float()) return numberText(v.get<double>());
    return v.dump();
}

} // namespace

bool Condition::holds(const nlohmann::json& v) const {
    switch (op) {
    case Op::Is:
    case Op::IsNot: {
        const std::string s = v.is_string() ? v.get<std::string>() : v.dump();
        const bool in = std::find(values.begin(), values.end(), s) != values.end();
        return op == Op::Is ? in : !in;
    }
    case Op::NonZero:
        return v.is_number() ? v.get<double>() != 0 : !v.is_null();
    case Op::AtLeast:
        return v.is_number() && v.get<std::uint64_t>() >= bound;
    case Op::Empty:
        return v.is_string() && v.get<std::string>().empty();
    case Op::NotEmpty:
        return v.is_string() && !v.get<std::string>().empty();
    }
    return true;
}

std::string Condition::text() const {
    std::string list;
    for (const auto& v : values)
        list += (list.empty() ? "" : " or ") + v;
    switch (op) {
    case Op::Is:
        return key + " is " + list;
    case Op::IsNot:
        return key + " is not " + list;
    case Op::NonZero:
        return key + " is not 0";
    case Op::AtLeast:
        return key + " is at least " + std::to_string(bound);
    case Op::Empty:
        return key + " is not set";
    case Op::NotEmpty:
        return key + " is set";
    }
    return key;
}

std::string Condition::actual(const nlohmann::json& v) const {
    if (op == Op::Empty) return key + " is " + valueText(v);
    if (op == Op::NotEmpty) return key + " is not set";
    return key + " is " + valueText(v);
}

std::string KeyDef::typeName() const {
    switch (type) {
    case KeyType::Integer:
        return "integer";
    case KeyType::Number:
        return "number";
    case KeyType::Boolean:
        return "boolean";
    case KeyType::Choice:
        return "string";
    case KeyType::Size:
        return "size";
    case KeyType::Path:
        return "path";
    }
    return "";
}

std::string KeyDef::allowed() const {
    switch (type) {
    case KeyType::Integer:
        return "[" + std::to_string(min) + ", " + std::to_string(max) +
               "] (decimal, or hex with 0x)";
    case KeyType::Number:
        return "[" + numberText(lo) + ", " + numberText(hi) + "]";
    case KeyType::Boolean:
        return "true, false";
    case KeyType::Choice: {
        std::string list;
        for (const auto& c : choices)
            list += (list.empty() ? "" : ", ") + c.name;
        return list;
    }
    case KeyType::Size:
        return "bytes in [" + formatSize(min) + ", " +
               (max == UINT64_MAX ? std::string("2^64-1") : formatSize(max)) +
               "]: an integer or with K/M/G/T[i][B] (4096, 64KiB, 4GiB)";
    case KeyType::Path:
        return "a file (relative to the configuration file's folder); empty: none";
    }
    return "";
}

const Choice* KeyDef::choice(const std::string& n) const {
    for (const auto& c : choices)
        if (c.name == n) return &c;
    return nullptr;
}

std::string KeyDef::inapplicable(const nlohmann::json& resolved, std::string* decider) const {
    for (const Condition& c : when) {
        const auto ptr = Stats::pointer(c.key);
        const nlohmann::json v = resolved.contains(ptr) ? resolved[ptr] : nlohmann::json();
        if (c.holds(v)) continue;
        if (decider) *decider = c.key;
        return "it applies when " + c.text() + "; " + c.actual(v);
    }
    return "";
}

const std::vector<KeyDef>& keyTable() {
    static const std::vector<KeyDef> table = [] {
        std::vector<KeyDef> t = buildTable();
        for (KeyDef& k : t)
            k.workload = k.name.rfind("workload.", 0) == 0;
        return t;
    }();
    return table;
}

const KeyDef* findKey(const std::string& name) {
    for (const KeyDef& k : keyTable())
        if (k.name == name) return &k;
    return nullptr;
}

std::vector<const KeyDef*> workloadKeys() {
    std::vector<const KeyDef*> keys;
    for (const KeyDef& k : keyTable())
        if (k.workload_store) keys.push_back(&k);
    return keys;
}

namespace {
std::string defaultText(const KeyDef& k) {
    return valueText(k.def);
}
std::string whenText(const KeyDef& k) {
    std::string text;
    for (const Condition& c : k.when)
        text += (text.empty() ? "" : " and ") + c.text();
    return text;
}
} // namespace

std::string describeKeys(bool as_json) {
    nlohmann::json all = nlohmann::json::object();
    std::ostringstream text;
    for (const KeyDef& k : keyTable()) {
        nlohmann::json j = {{"type", k.typeName()},   {"default", k.def},
                            {"allowed", k.allowed()}, {"meaning", k.meaning},
                            {"unit", k.unit},         {"applies_when", whenText(k)}};
        if (k.type == KeyType::Integer || k.type == KeyType::Size)
            j["min"] = k.min, j["max"] = k.max;
        if (k.type == KeyType::Number) j["min"] = k.lo, j["max"] = k.hi;
        if (k.type == KeyType::Choice) {
            j["choices"] = nlohmann::json::array();
            for (const auto& c : k.choices)
                j["choices"].push_back(c.name);
        }
        all[k.name] = j;
        text << k.name << "  (" << k.typeName() << ", default " << k.def.dump()
             << (k.unit.empty() ? "" : " " + k.unit) << "; " << k.allowed() << ")\n    "
             << k.meaning;
        if (!k.when.empty()) text << "\n    applies when " << whenText(k);
        text << "\n";
    }
    return as_json ? all.dump(2) + "\n" : text.str();
}

std::string keysMarkdown() {
    std::ostringstream md;
    md << "# Configuration keys\n\n"
          "Generated from the key table (testbench/KeyTable.cpp) by `tlmmu --keys-markdown`; a "
          "test fails when this file is stale. Every key of a configuration file or a `--set`: "
          "its type, default, unit, allowed values, meaning, and when it can have an effect "
          "(a key set where it cannot is a warning, or an error with `--strict`; see the "
          "README). In a scenario, a thread's `workload:` takes the keys marked *scenario* "
          "under their short name.\n\n"
          "| key | type | default | unit | allowed | meaning | applies when |\n"
          "|---|---|---|---|---|---|---|\n";
    auto cell = [](std::string s) {
        std::string out;
        for (char c : s)
            out += c == '|' ? std::string("\\|") : std::string(1, c);
        return out;
    };
    for (const KeyDef& k : keyTable()) {
        std::string name = "`" + k.name + "`";
        if (!k.scenario_leaf.empty()) name += " (*scenario*: `" + k.scenario_leaf + "`)";
        md << "| " << name << " | " << k.typeName() << " | " << cell(defaultText(k)) << " | "
           << k.unit << " | " << cell(k.allowed()) << " | " << cell(k.meaning) << " | "
           << cell(whenText(k)) << " |\n";
    }
    return md.str();
}

} // namespace tlmmu
