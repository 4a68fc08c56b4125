#include "checker/SafetyChecker.h"

#include <sstream>

namespace tlmmu {

namespace {
// FW_PROT_* of firmware/kernel/mm.h.
constexpr unsigned kProtR = 1, kProtW = 2, kProtX = 4;

unsigned needed(AccessType kind) {
    return kind == AccessType::Write ? kProtW : kind == AccessType::Execute ? kProtX : kProtR;
}

std::uint64_t spaceKey(int space, std::uint64_t rest) {
    return (static_cast<std::uint64_t>(space) << 52) ^ rest;
}
std::uint64_t fillKey(int space, unsigned level_shift, Addr va) {
    return spaceKey(space, (static_cast<std::uint64_t>(level_shift) << 46) ^ (va >> level_shift));
}
} // namespace

void SafetyChecker::filled(unsigned core, int space, Addr va, unsigned level_shift) {
    fills_[core][fillKey(space, level_shift, va)] = ++seq_;
}

void SafetyChecker::frameFreed(Addr pa, unsigned order, std::uint64_t now_ps) {
    const std::uint64_t first = pa >> page_shift_, now = ++seq_;
    for (std::uint64_t f = first; f < first + (std::uint64_t{1} << order); ++f) {
        freed_[f] = now;
        const auto it = last_.find(f);
        if (it == last_.end()) continue;
        for (const auto& [core, a] : it->second)
            if (a.when_ps >= now_ps)
                violation(core, a.space, a.va, f << page_shift_, a.kind, a.when_ps,
                          "its frame was freed (at " + std::to_string(now_ps) +
                              " ps) before this access, whose core ran ahead");
        last_.erase(it);
    }
}

void SafetyChecker::revoked(int space, Addr start, Addr end, unsigned prot, std::uint64_t since) {
    for (Addr page = start >> page_shift_; page <= ((end - 1) >> page_shift_); ++page)
        revoked_[spaceKey(space, page)] = {since, prot};
    ++seq_;
}

void SafetyChecker::writesRevoked(int space, Addr start, Addr end, std::uint64_t since) {
    auto& ranges = write_revoked_[space];
    bool replaced = false;
    for (auto& r : ranges)
        if (r.start == start && r.end == end) r.since = since, replaced = true;
    if (!replaced) ranges.push_back({start, end, since});
    ++seq_;
}

void SafetyChecker::access(unsigned core, int space, Addr va, Addr pa, unsigned level_shift,
                           AccessType kind, std::uint64_t now_ps) {
    last_[pa >> page_shift_][core] = {now_ps, va, space, kind};
    const auto& fills = fills_[core];
    const auto f = fills.find(fillKey(space, level_shift, va));
    const std::uint64_t got = f == fills.end() ? 0 : f->second;
    if (const auto it = freed_.find(pa >> page_shift_); it != freed_.end() && it->second > got)
        return violation(core, space, va, pa, kind, now_ps,
                         "its frame was freed after the translation was cached");
    if (kind == AccessType::Write)
        if (const auto it = write_revoked_.find(space); it != write_revoked_.end())
            for (const auto& r : it->second)
                if (r.start <= va && va < r.end && r.since > got)
                    return violation(core, space, va, pa, kind, now_ps,
                                     "a completed fork made the page copy-on-write after it was "
                                     "cached");
    if (const auto it = revoked_.find(spaceKey(space, va >> page_shift_));
        it != revoked_.end() && it->second.since > got && (it->second.prot & needed(kind)) == 0)
        violation(core, space, va, pa, kind, now_ps,
                  "a completed unmap/discard/protect removed these rights after it was cached");
}

void SafetyChecker::violation(unsigned core, int space, Addr va, Addr pa, AccessType kind,
                              std::uint64_t now_ps, const std::string& why) {
    if (violations_++ != 0) return;
    std::ostringstream msg;
    msg << "core" << core << " at " << now_ps << " ps: " << toString(kind) << " of VA 0x"
        << std::hex << va << " (PA 0x" << pa << std::dec << ") by address space " << space
        << " through a stale translation: " << why;
    first_ = msg.str();
}

} // namespace tlmmu
