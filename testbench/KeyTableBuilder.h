// What the key table's groups (KeyTableCore.cpp, KeyTableWorkload.cpp, KeyTableFirmware.cpp)
// declare their keys with: conditions, a key under construction (Key), the table it goes into
// (Table) and the field accessors AT, FW and WL. Only the table's own sources include it.
#pragma once

#include <type_traits>

#include "KeyTable.h"
#include "SystemConfig.h"

namespace tlmmu::keytable {

using Op = Condition::Op;

inline Condition is(const std::string& key, std::vector<std::string> values) {
    return {key, Op::Is, std::move(values), 0};
}
inline Condition isNot(const std::string& key, std::vector<std::string> values) {
    return {key, Op::IsNot, std::move(values), 0};
}
inline Condition nonZero(const std::string& key) {
    return {key, Op::NonZero, {}, 0};
}
inline Condition atLeast(const std::string& key, std::uint64_t n) {
    return {key, Op::AtLeast, {}, n};
}
inline Condition empty(const std::string& key) {
    return {key, Op::Empty, {}, 0};
}
inline Condition notEmpty(const std::string& key) {
    return {key, Op::NotEmpty, {}, 0};
}

// The conditions most keys share.
inline const Condition kMulticore = atLeast("cores", 2);
inline const Condition kNoScenario = empty("workload.scenario");
inline const Condition kScenario = notEmpty("workload.scenario");
inline const Condition kIpi = is("firmware.shootdown.mechanism", {"ipi"});

// Writes a resolved value into a field, by the field's type (a Choice key gives its value).
template <class T> void assign(T& field, KeyType type, const nlohmann::json& v, std::int64_t c) {
    if constexpr (std::is_same_v<T, std::string>) {
        field = v.get<std::string>();
    } else if constexpr (std::is_enum_v<T>) {
        field = static_cast<T>(c);
    } else if constexpr (std::is_same_v<T, bool>) {
        field = type == KeyType::Choice ? c != 0 : v.get<bool>();
    } else if constexpr (std::is_floating_point_v<T>) {
        field = v.get<double>();
    } else {
        if (type == KeyType::Boolean)
            field = static_cast<T>(v.get<bool>());
        else if (type == KeyType::Choice)
            field = static_cast<T>(c);
        else
            field = static_cast<T>(v.get<std::uint64_t>());
    }
}

// A key under construction: key("seed").integer(1).meaning("...").to(AT(seed)).
class Key {
  public:
    explicit Key(std::string name) { k_.name = std::move(name); }
    Key& integer(std::uint64_t def, std::uint64_t min = 0, std::uint64_t max = UINT64_MAX) {
        k_.type = KeyType::Integer, k_.def = def, k_.min = min, k_.max = max;
        return *this;
    }
    Key& number(double def, double lo, double hi) {
        k_.type = KeyType::Number, k_.def = def, k_.lo = lo, k_.hi = hi;
        return *this;
    }
    Key& boolean(bool def) {
        k_.type = KeyType::Boolean, k_.def = def;
        return *this;
    }
    Key& size(std::uint64_t def, std::uint64_t min = 0, std::uint64_t max = UINT64_MAX) {
        k_.type = KeyType::Size, k_.def = def, k_.min = min, k_.max = max;
        return *this;
    }
    Key& path() {
        k_.type = KeyType::Path, k_.def = "";
        return *this;
    }
    // Values by name; each receives its index unless given (name, value) pairs.
    Key& choice(const std::string& def, const std::vector<std::string>& names) {
        std::vector<Choice> c;
        for (std::size_t i = 0; i < names.size(); ++i)
            c.push_back({names[i], static_cast<std::int64_t>(i)});
        return choice(def, c);
    }
    Key& choice(const std::string& def, std::vector<Choice> choices) {
        k_.type = KeyType::Choice, k_.def = def, k_.choices = std::move(choices);
        return *this;
    }
    Key& unit(std::string u) {
        k_.unit = std::move(u);
        return *this;
    }
    Key& meaning(std::string m) {
        k_.meaning = std::move(m);
        return *this;
    }
    Key& when(std::vector<Condition> c) {
        k_.when.insert(k_.when.end(), c.begin(), c.end());
        return *this;
    }
    KeyDef take() { return std::move(k_); }

  private:
    KeyDef k_;
};

} // namespace tlmmu::keytable

// Field accessors for the table (the key's type decides how the value converts).
#define AT(expr)                                                                                   \
    [](SystemConfig & s) -> auto& {                                                                \
        return s.expr;                                                                             \
    }
#define FW(field)                                                                                  \
#field, [](SystemConfig & s) -> auto& {                                                        \
        return s.firmware.field;                                                                   \
    }
#define WL(expr)                                                                                   \
    [](WorkloadSpec & w) -> auto& {                                                                \
        return w.expr;                                                                             \
    }

namespace tlmmu::keytable {

class Table {
  public:
    // Adds the key; `to` fields convert by the key's declared type.
    template <class... Fields> void add(Key key, Fields... fields) {
        KeyDef k = key.take();
        (addStore(k, fields), ...);
        keys_.push_back(std::move(k));
    }
    template <class... Fields> void addFw(Key key, const char* name, Fields... fields) {
        KeyDef k = key.take();
        k.fw_field = name;
        (addStore(k, fields), ...);
        keys_.push_back(std::move(k));
    }
    template <class Field> void addWorkload(Key key, const char* leaf, Field field) {
        KeyDef k = key.take();
        const KeyType type = k.type;
        k.scenario_leaf = leaf;
        k.workload_store = [field, type](WorkloadSpec& w, const nlohmann::json& v, std::int64_t c) {
            assign(field(w), type, v, c);
        };
        k.store = [ws = k.workload_store](SystemConfig& s, const nlohmann::json& v,
                                          std::int64_t c) { ws(s.workload, v, c); };
        keys_.push_back(std::move(k));
    }
    std::vector<KeyDef> take() { return std::move(keys_); }

  private:
    template <class Field> void addStore(KeyDef& k, Field field) {
        const KeyType type = k.type;
        auto previous = k.store;
        k.store = [previous, field, type](SystemConfig& s, const nlohmann::json& v,
                                          std::int64_t c) {
            if (previous) previous(s, v, c);
            assign(field(s), type, v, c);
        };
    }
    std::vector<KeyDef> keys_;
};

// The groups of keys, each appended in the order of docs/keys.md (buildTable calls them in turn).
void addSystemKeys(Table& t);   // seed, cores, core.*, sim.*
void addMmuKeys(Table& t);      // mmu.*, tlb.*
void addWalkerKeys(Table& t);   // walker.* but walker.cache_level (a cache key)
void addMemoryKeys(Table& t);   // memory.*, interconnect.*
void addCacheKeys(Table& t);    // cache.*, walker.cache_level
void addWorkloadKeys(Table& t); // workload.*, sched.*
void addFirmwareKeys(Table& t); // swap.*, firmware.*, ipi.*, invalidation.*
void addCheckerKeys(Table& t);  // checker.*

} // namespace tlmmu::keytable
