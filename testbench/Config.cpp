#include "Config.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/Stats.h"
#include "common/Types.h"

namespace tlmmu {

namespace {
std::string dirOf(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? "." : path.substr(0, slash);
}

unsigned editDistance(const std::string& a, const std::string& b) {
    std::vector<unsigned> prev(b.size() + 1), cur(b.size() + 1);
    for (unsigned j = 0; j <= b.size(); ++j)
        prev[j] = j;
    for (unsigned i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (unsigned j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}
} // namespace

YAML::Node loadYaml(const std::string& text, const std::string& origin) {
    try {
        return YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw InputError(origin + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
}

YAML::Node loadYamlFile(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw InputError(path + ": cannot open: " + std::strerror(errno));
    std::stringstream text;
    text << in.rdbuf();
    return loadYaml(text.str(), path);
}

Config Config::fromFile(const std::string& path) {
    const YAML::Node root = loadYamlFile(path);
    Config c;
    if (root.IsNull()) return c;
    if (!root.IsMap()) throw InputError(path + ": the top level must be a mapping of keys");
    c.flatten(root, "", path, dirOf(path));
    return c;
}

Config Config::fromString(const std::string& yaml, const std::string& origin) {
    const YAML::Node root = loadYaml(yaml, origin);
    Config c;
    if (root.IsMap())
        c.flatten(root, "", origin, ".");
    else if (!root.IsNull())
        throw InputError(origin + ": the top level must be a mapping of keys");
    return c;
}

Config Config::fromNode(const YAML::Node& node, const std::string& file,
                        const std::string& prefix) {
    Config c;
    if (node.IsMap())
        c.flatten(node, prefix, file, dirOf(file));
    else if (!node.IsNull())
        throw InputError(file + ":" + std::to_string(node.Mark().line + 1) + ": " + prefix +
                         ": expected a mapping of keys");
    return c;
}

void Config::flatten(const YAML::Node& node, const std::string& prefix, const std::string& file,
                     const std::string& base_dir) {
    for (const auto& kv : node) {
        const std::string key = (prefix.empty() ? "" : prefix + ".") + kv.first.as<std::string>();
        if (kv.second.IsMap()) {
            flatten(kv.second, key, file, base_dir);
        } else {
            items_[key] = Item{kv.second, file + ":" + std::to_string(kv.first.Mark().line + 1),
                               base_dir, false};
        }
    }
}

void Config::set(const std::string& assignment) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0)
        throw InputError("--set " + assignment + ": expected key=value");
    const std::string key = assignment.substr(0, eq);
    YAML::Node value;
    try {
        value = YAML::Load(assignment.substr(eq + 1));
    } catch (const YAML::Exception& e) {
        throw InputError("--set " + key + ": " + e.msg);
    }
    items_[key] = Item{value, "--set " + key, ".", false};
}

Config::Item* Config::find(const std::string& key) {
    known_[key] = true;
    auto it = items_.find(key);
    if (it == items_.end()) return nullptr;
    it->second.used = true;
    return &it->second;
}

void Config::fail(const Item& item, const std::string& key, const std::string& what) const {
    std::string got;
    if (item.node.IsScalar())
        got = "'" + item.node.Scalar() + "'";
    else if (item.node.IsSequence())
        got = "a list";
    else if (item.node.IsMap())
        got = "a mapping";
    else
        got = "an empty value";
    throw InputError(item.where + ": " + key + ": " + what + ", got " + got);
}

template <class T> void Config::record(const std::string& key, const T& value) {
    resolved_[Stats::pointer(key)] = value;
}

std::optional<std::uint64_t> parseUint(const std::string& s) {
    if (s.empty() || s[0] == '-') return std::nullopt; // stoull would wrap a negative
    try {
        std::size_t used = 0;
        const std::uint64_t v = std::stoull(s, &used, 0);
        if (used == s.size()) return v;
    } catch (const std::exception&) {
    }
    return std::nullopt;
}

std::optional<std::uint64_t> parseSize(const std::string& s) {
    if (s.empty() || s[0] == '-') return std::nullopt;
    std::size_t used = 0;
    std::uint64_t v = 0;
    try {
        v = std::stoull(s, &used, 0);
    } catch (const std::exception&) {
        return std::nullopt;
    }
    static const std::pair<const char*, unsigned> units[] = {
        {"", 0},     {"B", 0},  {"K", 10},  {"KB", 10},  {"KiB", 10}, {"M", 20},  {"MB", 20},
        {"MiB", 20}, {"G", 30}, {"GB", 30}, {"GiB", 30}, {"T", 40},   {"TB", 40}, {"TiB", 40}};
    const std::string suffix = s.substr(used);
    for (const auto& [name, shift] : units)
        if (suffix == name) {
            if (shift && v > (UINT64_MAX >> shift)) return std::nullopt;
            return v << shift;
        }
    return std::nullopt;
}

std::string formatSize(std::uint64_t bytes) {
    static const char* const units[] = {"", "KiB", "MiB", "GiB", "TiB"};
    unsigned u = 0;
    while (u + 1 < 5 && bytes != 0 && bytes % 1024 == 0)
        bytes /= 1024, ++u;
    return std::to_string(bytes) + units[u];
}

std::uint64_t Config::getUint(const std::string& key, std::uint64_t def, std::uint64_t min,
                              std::uint64_t max) {
    std::uint64_t v = def;
    if (Item* it = find(key)) {
        const std::string range =
            "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
        const auto parsed = it->node.IsScalar() ? parseUint(it->node.Scalar()) : std::nullopt;
        if (!parsed || *parsed < min || *parsed > max) fail(*it, key, "expected " + range);
        v = *parsed;
    }
    record(key, v);
    return v;
}

double Config::getDouble(const std::string& key, double def, double min, double max) {
    double v = def;
    if (Item* it = find(key)) {
        std::ostringstream range;
        range << "a number in [" << min << ", " << max << "]";
        if (!it->node.IsScalar()) fail(*it, key, "expected " + range.str());
        try {
            std::size_t used = 0;
            v = std::stod(it->node.Scalar(), &used);
            if (used != it->node.Scalar().size() || !std::isfinite(v))
                throw std::invalid_argument("");
        } catch (const std::exception&) {
            fail(*it, key, "expected " + range.str());
        }
        if (v < min || v > max) fail(*it, key, "expected " + range.str());
    }
    record(key, v);
    return v;
}

bool Config::getBool(const std::string& key, bool def) {
    bool v = def;
    if (Item* it = find(key)) {
        const std::string s = it->node.IsScalar() ? it->node.Scalar() : "";
        if (s == "true" || s == "yes" || s == "on")
            v = true;
        else if (s == "false" || s == "no" || s == "off")
            v = false;
        else
            fail(*it, key, "expected true or false");
    }
    record(key, v);
    return v;
}

std::string Config::getString(const std::string& key, const std::string& def,
                              const std::vector<std::string>& allowed) {
    std::string v = def;
    if (Item* it = find(key)) {
        std::string list;
        for (const auto& a : allowed)
            list += (list.empty() ? "" : ", ") + a;
        if (!it->node.IsScalar() && !it->node.IsNull())
            fail(*it, key, allowed.empty() ? "expected a string" : "expected one of " + list);
        v = it->node.IsNull() ? "" : it->node.Scalar();
        if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), v) == allowed.end())
            fail(*it, key, "expected one of " + list);
    }
    record(key, v);
    return v;
}

std::uint64_t Config::getSize(const std::string& key, std::uint64_t def) {
    std::uint64_t v = def;
    if (Item* it = find(key)) {
        const auto parsed = it->node.IsScalar() ? parseSize(it->node.Scalar()) : std::nullopt;
        if (!parsed) fail(*it, key, "expected a byte size such as 4096, 64KiB, 4GiB");
        v = *parsed;
    }
    record(key, v);
    return v;
}

std::string Config::getPath(const std::string& key, const std::string& def) {
    std::string v = def;
    if (Item* it = find(key)) {
        if (!it->node.IsScalar() && !it->node.IsNull()) fail(*it, key, "expected a file path");
        v = it->node.IsNull() ? "" : it->node.Scalar(); // `key:` or --set key= : no file
        if (!v.empty() && v[0] != '/' && it->base_dir != ".") v = it->base_dir + "/" + v;
    }
    record(key, v);
    return v;
}

void Config::checkUnused() const {
    for (const auto& [key, item] : items_) {
        if (item.used) continue;
        std::string best;
        unsigned best_d = 4;
        for (const auto& [k, _] : known_) {
            const unsigned d = editDistance(key, k);
            if (d < best_d) best_d = d, best = k;
        }
        throw InputError(item.where + ": unknown key '" + key + "'" +
                         (best.empty() ? "" : " (did you mean '" + best + "'?)") +
                         "; tlmmu --list-keys shows every key");
    }
}

} // namespace tlmmu
