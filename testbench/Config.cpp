#include "Config.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <yaml-cpp/eventhandler.h>

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

namespace {
constexpr std::size_t kMaxYamlBytes = std::size_t{16} << 20;

// What a node is, in words, for messages.
std::string describeNode(const YAML::Node& n) {
    if (n.IsSequence()) return "a list";
    if (n.IsMap()) return "a mapping";
    if (n.IsNull()) return "an empty value";
    return "'" + n.Scalar() + "'";
}

// Checks what yaml-cpp accepts but a configuration or scenario must not contain: keys that are
// not plain scalars (complex keys such as `[a]: 1`), the same key twice in one mapping (yaml-cpp
// keeps both and callers would silently take the first or the last), and trees so large or so
// deep (aliases can make both out of a few bytes) that walking them would not end.
class YamlChecker {
  public:
    explicit YamlChecker(const std::string& origin) : origin_(origin) {}
    void check(const YAML::Node& n, unsigned depth) {
        if (++visited_ > kMaxNodes)
            fail(n, "more than " + std::to_string(kMaxNodes) +
                        " values (after expanding aliases); refused");
        if (depth > kMaxDepth)
            fail(n, "nested more than " + std::to_string(kMaxDepth) + " levels deep; refused");
        if (n.IsSequence()) {
            for (const auto& item : n)
                check(item, depth + 1);
        } else if (n.IsMap()) {
            std::map<std::string, int> seen; // key -> its line (1-based)
            for (const auto& kv : n) {
                if (!kv.first.IsScalar())
                    fail(kv.first, "a key must be a plain name, got " + describeNode(kv.first));
                const std::string key = kv.first.Scalar();
                const int line = kv.first.Mark().line + 1;
                const auto [it, fresh] = seen.emplace(key, line);
                if (!fresh)
                    fail(kv.first, "duplicate key '" + key + "' (first at line " +
                                       std::to_string(it->second) + ")");
                check(kv.second, depth + 1);
            }
        }
    }

  private:
    static constexpr unsigned kMaxDepth = 64;
    static constexpr std::uint64_t kMaxNodes = 1000000;
    [[noreturn]] void fail(const YAML::Node& at, const std::string& what) const {
        throw InputError(origin_ + ":" + std::to_string(at.Mark().line + 1) + ": " + what);
    }
    std::string origin_;
    std::uint64_t visited_ = 0;
};
} // namespace

namespace {
// Counts documents through yaml-cpp's event API, noting where each starts. (YAML::LoadAll cannot
// be used: yaml-cpp 0.7 loops forever, growing, on a stray ',' outside [ ] and { }, making empty
// documents that consume nothing; here two documents starting at one place show it.)
struct DocumentCounter : YAML::EventHandler {
    std::vector<YAML::Mark> starts;
    void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};
} // namespace

YAML::Node loadYaml(const std::string& text, const std::string& origin) {
    auto where = [&](const YAML::Mark& m) {
        return origin + (m.line >= 0 ? ":" + std::to_string(m.line + 1) : "");
    };
    YAML::Node root;
    try {
        std::istringstream in(text);
        YAML::Parser parser(in);
        DocumentCounter docs;
        for (int n = 0; n < 2 && parser.HandleNextDocument(docs); ++n) {
        }
        if (docs.starts.size() > 1) {
            if (docs.starts[1].pos == docs.starts[0].pos)
                throw InputError(where(docs.starts[0]) +
                                 ": not YAML that can be read (a ',' outside [ ] or { }?)");
            throw InputError(where(docs.starts[1]) +
                             ": a second YAML document ('---'); one file holds one document");
        }
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw InputError(origin + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    YamlChecker(origin).check(root, 0);
    return root;
}

YAML::Node loadYamlFile(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw InputError(path + ": is a directory, not a YAML file");
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw InputError(path + ": cannot open: " + std::strerror(errno));
    std::string text;
    char chunk[65536];
    std::size_t got;
    while ((got = std::fread(chunk, 1, sizeof chunk, f)) > 0) {
        text.append(chunk, got);
        if (text.size() > kMaxYamlBytes) {
            std::fclose(f);
            throw InputError(path + ": larger than " + std::to_string(kMaxYamlBytes >> 20) +
                             " MiB; refused (a configuration or scenario is a few KiB)");
        }
    }
    const int err = std::ferror(f) ? errno : 0;
    std::fclose(f);
    if (err) throw InputError(path + ": read error: " + std::strerror(err));
    return loadYaml(text, path);
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
            const std::string where = file + ":" + std::to_string(kv.first.Mark().line + 1);
            // `tlb.l1d.entries: 1` next to `tlb: {l1d: {entries: 2}}` is the same key twice.
            if (const auto it = items_.find(key); it != items_.end())
                throw InputError(where + ": key '" + key + "' given twice (also at " +
                                 it->second.where + ")");
            items_[key] = Item{kv.second, where, base_dir, false, 1};
        }
    }
}

void Config::set(const std::string& assignment) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0)
        throw InputError("--set " + assignment + ": expected key=value");
    const std::string key = assignment.substr(0, eq);
    const YAML::Node value = loadYaml(assignment.substr(eq + 1), "--set " + key);
    items_[key] = Item{value, "--set " + key, ".", false, 2};
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

namespace {
// One rule for every integer of a configuration or scenario: decimal digits without a leading
// zero ("010" is refused, not octal), or 0x/0X and hex digits; nothing else (no sign, no
// spaces), no overflow. Returns how many characters it used (0: none).
std::size_t parseInteger(const std::string& s, std::uint64_t& out) {
    std::uint64_t v = 0;
    std::size_t i = 0;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        for (i = 2; i < s.size(); ++i) {
            const char c = s[i];
            const int d = c >= '0' && c <= '9'   ? c - '0'
                          : c >= 'a' && c <= 'f' ? c - 'a' + 10
                          : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                 : -1;
            if (d < 0) break;
            if (v >> 60) return 0; // overflow
            v = v << 4 | static_cast<unsigned>(d);
        }
        if (i == 2) return 0;
    } else {
        for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
            const unsigned d = static_cast<unsigned>(s[i] - '0');
            if (v > (UINT64_MAX - d) / 10) return 0; // overflow
            v = v * 10 + d;
        }
        if (i == 0 || (s[0] == '0' && i > 1)) return 0; // no digits, or a leading zero
    }
    out = v;
    return i;
}
} // namespace

std::string integerHint(const std::string& text) {
    if (text.size() > 1 && text[0] == '0' && text[1] >= '0' && text[1] <= '9')
        return " (no leading zeros: integers are decimal, or hex with 0x; octal is not read)";
    return "";
}

std::optional<std::uint64_t> parseUint(const std::string& s) {
    std::uint64_t v = 0;
    if (parseInteger(s, v) != s.size() || s.empty()) return std::nullopt;
    return v;
}

std::optional<std::uint64_t> parseSize(const std::string& s) {
    std::uint64_t v = 0;
    const std::size_t used = parseInteger(s, v);
    if (used == 0) return std::nullopt;
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

std::string formatHex(std::uint64_t value) {
    std::ostringstream s;
    s << "0x" << std::hex << value;
    return s.str();
}

std::uint64_t Config::getUint(const std::string& key, std::uint64_t def, std::uint64_t min,
                              std::uint64_t max) {
    std::uint64_t v = def;
    if (Item* it = find(key)) {
        const std::string range =
            "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
        const auto parsed = it->node.IsScalar() ? parseUint(it->node.Scalar()) : std::nullopt;
        if (!parsed || *parsed < min || *parsed > max)
            fail(*it, key,
                 "expected " + range + integerHint(it->node.IsScalar() ? it->node.Scalar() : ""));
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
        if (!parsed)
            fail(*it, key,
                 "expected a byte size such as 4096, 64KiB, 4GiB" +
                     integerHint(it->node.IsScalar() ? it->node.Scalar() : ""));
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

Config::Value Config::read(const KeyDef& k, const std::string& name) {
    switch (k.type) {
    case KeyType::Integer:
        return {getUint(name, k.def.get<std::uint64_t>(), k.min, k.max)};
    case KeyType::Number:
        return {getDouble(name, k.def.get<double>(), k.lo, k.hi)};
    case KeyType::Boolean:
        return {getBool(name, k.def.get<bool>())};
    case KeyType::Size: {
        const std::uint64_t v = getSize(name, k.def.get<std::uint64_t>());
        if (v < k.min || v > k.max)
            fail(items_.at(name), name,
                 "expected a byte size in [" + formatSize(k.min) + ", " + formatSize(k.max) + "]");
        return {v};
    }
    case KeyType::Path:
        return {getPath(name, k.def.get<std::string>())};
    case KeyType::Choice: {
        std::vector<std::string> names;
        for (const Choice& c : k.choices)
            names.push_back(c.name);
        const std::string v = getString(name, k.def.get<std::string>(), names);
        return {v, k.choice(v)->value};
    }
    }
    return {};
}

void Config::checkUnused(const std::function<bool(const std::string&)>& suggestable) const {
    for (const auto& [key, item] : items_) {
        if (item.used) continue;
        std::string best;
        unsigned best_d = 4;
        for (const auto& [k, _] : known_) {
            if (suggestable && !suggestable(k)) continue;
            const unsigned d = editDistance(key, k);
            if (d < best_d) best_d = d, best = k;
        }
        throw InputError(item.where + ": unknown key '" + key + "'" +
                         (best.empty() ? "" : " (did you mean '" + best + "'?)") +
                         "; tlmmu --list-keys shows every key");
    }
}

} // namespace tlmmu
