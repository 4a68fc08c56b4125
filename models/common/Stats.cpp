#include "common/Stats.h"

#include <algorithm>
#include <cmath>

#include <stdexcept>

namespace tlmmu {

void Histogram::add(std::uint64_t value) {
    unsigned b = 0;
    while (b < 64 && (value >> b) != 0)
        ++b;
    if (buckets_.size() <= b) buckets_.resize(b + 1, 0);
    ++buckets_[b];
    min_ = count_ == 0 ? value : std::min(min_, value);
    max_ = std::max(max_, value);
    ++count_;
    sum_ += value;
    if (count_ <= kExactValues)
        values_.push_back(value);
    else
        values_.clear();
}

void Histogram::merge(const Histogram& other) {
    if (other.count_ == 0) return;
    if (buckets_.size() < other.buckets_.size()) buckets_.resize(other.buckets_.size(), 0);
    for (std::size_t b = 0; b < other.buckets_.size(); ++b)
        buckets_[b] += other.buckets_[b];
    min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
    const bool exact = count_ + other.count_ <= kExactValues;
    count_ += other.count_;
    sum_ += other.sum_;
    if (exact)
        values_.insert(values_.end(), other.values_.begin(), other.values_.end());
    else
        values_.clear();
}

std::uint64_t Histogram::percentile(double q) const {
    if (count_ == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
    const std::uint64_t k = std::max<std::uint64_t>(1, std::min(rank, count_));
    if (values_.size() == count_) {
        std::vector<std::uint64_t> sorted = values_;
        std::nth_element(sorted.begin(), sorted.begin() + (k - 1), sorted.end());
        return sorted[k - 1];
    }
    std::uint64_t seen = 0;
    for (std::size_t b = 0; b < buckets_.size(); ++b) {
        seen += buckets_[b];
        if (seen >= k) return std::min(max_, b == 0 ? 0 : (std::uint64_t{1} << b) - 1);
    }
    return max_;
}

nlohmann::json Histogram::toJson() const {
    nlohmann::json j;
    j["count"] = count_;
    j["sum"] = sum_;
    j["min"] = min_;
    j["max"] = max_;
    j["mean"] = count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0;
    j["p50"] = percentile(0.5);
    j["p90"] = percentile(0.9);
    j["p99"] = percentile(0.99);
    j["percentiles_exact"] = values_.size() == count_;
    // Buckets as [low, high] -> count, only the non-empty ones.
    nlohmann::json buckets = nlohmann::json::array();
    for (std::size_t b = 0; b < buckets_.size(); ++b) {
        if (!buckets_[b]) continue;
        const std::uint64_t lo = b == 0 ? 0 : (std::uint64_t{1} << (b - 1));
        const std::uint64_t hi = b == 0 ? 0 : (std::uint64_t{1} << (b - 1)) * 2 - 1;
        buckets.push_back({{"low", lo}, {"high", hi}, {"count", buckets_[b]}});
    }
    j["buckets"] = buckets;
    return j;
}

namespace {
bool isNameChar(char c, bool first) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (!first && ((c >= '0' && c <= '9') || c == '-'));
}
} // namespace

void Stats::checkPath(const std::string& path) const {
    // name ( '[' digits ']' )* ( '.' name ( '[' digits ']' )* )*
    auto bad = [&](const std::string& why) {
        throw std::invalid_argument("statistics path '" + path + "': " + why);
    };
    std::size_t i = 0;
    for (;;) {
        const std::size_t start = i;
        while (i < path.size() && isNameChar(path[i], i == start))
            ++i;
        if (i == start)
            bad("each part must be a name ([A-Za-z_][A-Za-z0-9_-]*), got '" + path.substr(start) +
                "'");
        while (i < path.size() && path[i] == '[') {
            const std::size_t digits = ++i;
            while (i < path.size() && path[i] >= '0' && path[i] <= '9')
                ++i;
            if (i == digits || i == path.size() || path[i] != ']') bad("bad index");
            ++i;
        }
        if (i == path.size()) break;
        if (path[i] != '.') bad("unexpected '" + std::string(1, path[i]) + "'");
        ++i;
    }
    // A value and a group of the same name cannot both exist ("a.b" and "a.b.c").
    auto it = entries_.lower_bound(path);
    if (it != entries_.end() && it->first != path && it->first.size() > path.size() &&
        it->first.compare(0, path.size(), path) == 0 &&
        (it->first[path.size()] == '.' || it->first[path.size()] == '['))
        bad("is also a group (" + it->first + ")");
    for (std::size_t cut = path.find_first_of(".["); cut != std::string::npos;
         cut = path.find_first_of(".[", cut + 1))
        if (entries_.count(path.substr(0, cut)))
            bad("'" + path.substr(0, cut) + "' is already a value");
}

void Stats::add(const std::string& path, std::function<nlohmann::json()> read, const char* kind,
                StatInfo info) {
    checkPath(path);
    if (info.meaning.empty())
        throw std::invalid_argument("statistics path '" + path + "': no meaning given");
    if (!entries_.emplace(path, Entry{std::move(read), kind, std::move(info)}).second)
        throw std::invalid_argument("statistics path '" + path + "': registered twice");
}

void Stats::counter(const std::string& path, const std::uint64_t* value, StatInfo info) {
    add(
        path, [value] { return nlohmann::json(*value); }, "counter", std::move(info));
}
void Stats::histogram(const std::string& path, const Histogram* h, StatInfo info) {
    add(
        path, [h] { return h->toJson(); }, "histogram", std::move(info));
}
void Stats::derived(const std::string& path, std::function<nlohmann::json()> fn, StatInfo info) {
    add(path, std::move(fn), "derived", std::move(info));
}
void Stats::constant(const std::string& path, nlohmann::json value, StatInfo info) {
    add(
        path, [v = std::move(value)] { return v; }, "constant", std::move(info));
}

std::vector<StatDescription> Stats::describe() const {
    std::vector<StatDescription> out;
    out.reserve(entries_.size());
    for (const auto& [path, e] : entries_)
        out.push_back({path, e.kind, e.info});
    return out;
}

std::string Stats::folded(const std::string& path) {
    std::string out;
    for (std::size_t i = 0; i < path.size(); ++i) {
        out += path[i];
        if (path[i] != '[') continue;
        while (i + 1 < path.size() && path[i + 1] != ']')
            ++i;
        out += 'i';
    }
    return out;
}

nlohmann::json::json_pointer Stats::pointer(const std::string& path) {
    std::string p;
    for (char c : path) {
        if (c == '.' || c == '[')
            p += '/';
        else if (c == ']')
            continue;
        else if (c == '~')
            p += "~0";
        else if (c == '/')
            p += "~1";
        else
            p += c;
    }
    return nlohmann::json::json_pointer("/" + p);
}

nlohmann::json Stats::toJson() const {
    nlohmann::json root = nlohmann::json::object();
    for (const auto& [path, e] : entries_)
        root[pointer(path)] = e.read();
    return root;
}

namespace {
// RFC 4180: a field that holds a comma, quote or line break is quoted, quotes doubled.
void csvField(std::ostream& out, const std::string& v) {
    if (v.find_first_of(",\"\n\r") == std::string::npos) {
        out << v;
        return;
    }
    out << '"';
    for (char c : v)
        out << (c == '"' ? std::string("\"\"") : std::string(1, c));
    out << '"';
}

void flatten(const nlohmann::json& j, const std::string& prefix, std::ostream& out) {
    if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it)
            flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
    } else if (j.is_array()) {
        for (std::size_t i = 0; i < j.size(); ++i)
            flatten(j[i], prefix + "[" + std::to_string(i) + "]", out);
    } else {
        csvField(out, prefix);
        out << ',';
        if (j.is_string()) {
            csvField(out, j.get<std::string>());
        } else {
            out << j.dump();
        }
        out << '\n';
    }
}
} // namespace

void Stats::writeCsv(std::ostream& out) const {
    out << "stat,value\n";
    flatten(toJson(), "", out);
}

} // namespace tlmmu
