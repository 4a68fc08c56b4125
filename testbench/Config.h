// A YAML configuration with command-line overrides. Keys are dotted paths that follow the module
// tree ("tlb.l1d.entries"). Every read names its key; reading marks it used, and checkUnused()
// rejects every key nobody read, so a misspelt key is an error, never a silent default.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "KeyTable.h"

namespace tlmmu {

// A non-negative integer, all of the text: decimal digits without a leading zero ("010" and "09"
// are refused: never octal), or 0x/0X followed by hex digits; no sign, no spaces, no overflow.
std::optional<std::uint64_t> parseUint(const std::string& text);
// For a refused integer: " (no leading zeros: ...)" when that was the reason, else "".
std::string integerHint(const std::string& text);
// A byte size: an integer, or one with a K/M/G/T[i][B] suffix ("4GiB", "512M").
std::optional<std::uint64_t> parseSize(const std::string& text);
// The shortest exact spelling parseSize reads back: "4KiB", "2MiB", "1536".
std::string formatSize(std::uint64_t bytes);
// An address or value as messages write it: "0x400000".
std::string formatHex(std::uint64_t value);

// Parses a YAML file (or text from `origin`); syntax errors become InputError "FILE:LINE: ...".
YAML::Node loadYamlFile(const std::string& path);
YAML::Node loadYaml(const std::string& text, const std::string& origin);

class Config {
  public:
    Config() = default;
    static Config fromFile(const std::string& path); // throws InputError
    static Config fromString(const std::string& yaml, const std::string& origin = "<string>");
    // A mapping inside another YAML document (e.g. a scenario's workload), its keys prefixed.
    static Config fromNode(const YAML::Node& node, const std::string& file,
                           const std::string& prefix);
    // "key=value"; the value is read as YAML (so 12, 0x10, true, "text" all work).
    void set(const std::string& assignment);

    std::uint64_t getUint(const std::string& key, std::uint64_t def, std::uint64_t min = 0,
                          std::uint64_t max = UINT64_MAX);
    double getDouble(const std::string& key, double def, double min, double max);
    bool getBool(const std::string& key, bool def);
    std::string getString(const std::string& key, const std::string& def,
                          const std::vector<std::string>& allowed = {});
    // Byte sizes: an integer, or a number with K/M/G/T[i][B] suffix ("4GiB", "512M").
    std::uint64_t getSize(const std::string& key, std::uint64_t def);
    // A path: relative ones are taken relative to the configuration file's folder.
    std::string getPath(const std::string& key, const std::string& def);
    bool has(const std::string& key) const { return items_.count(key) != 0; }

    // Throws InputError for the first key never read, with a "did you mean" among the keys
    // read for which `suggestable` is true (never a key that would be refused in its turn).
    void checkUnused(const std::function<bool(const std::string&)>& suggestable = {}) const;
    nlohmann::json resolved() const { return resolved_; } // every key read, with its value

    // Reads the key `name` as `def` declares it (type, default, range, choices): the value, and
    // for a choice the value its field receives. `name` is def.name but for a scenario's
    // workload keys (their short name under the thread's path).
    struct Value {
        nlohmann::json value;
        std::int64_t choice = 0;
    };
    Value read(const KeyDef& def, const std::string& name);

    // Where an explicitly given key was set ("FILE:LINE" or "--set key"); empty if not given.
    std::string where(const std::string& key) const {
        const auto it = items_.find(key);
        return it == items_.end() ? "" : it->second.where;
    }
    // Which layer set it: 0 not given, 1 a configuration file, 2 the command line (--set). A
    // later layer describes a change of the system an earlier one describes.
    int layer(const std::string& key) const {
        const auto it = items_.find(key);
        return it == items_.end() ? 0 : it->second.layer;
    }

  private:
    struct Item {
        YAML::Node node;
        std::string where; // "FILE:LINE" or "--set"
        std::string base_dir;
        bool used = false;
        int layer = 1;
    };
    void flatten(const YAML::Node& node, const std::string& prefix, const std::string& file,
                 const std::string& base_dir);
    Item* find(const std::string& key);
    [[noreturn]] void fail(const Item& item, const std::string& key, const std::string& what) const;
    template <class T> void record(const std::string& key, const T& value);

    std::map<std::string, Item> items_;
    std::map<std::string, bool> known_; // keys the program asked for
    nlohmann::json resolved_ = nlohmann::json::object();
};

} // namespace tlmmu
