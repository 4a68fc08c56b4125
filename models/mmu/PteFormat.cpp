#include "mmu/PteFormat.h"

#include <algorithm>
#include <utility>

namespace tlmmu {

namespace {

struct NamedFormat {
    const char* name;
    pte_format_id id;
};

constexpr NamedFormat kFormats[] = {
    {"sv39", PTE_FMT_SV39},
    {"sv48", PTE_FMT_SV48},
    {"sv57", PTE_FMT_SV57},
    {"x86_64", PTE_FMT_X86_64},
    {"x86_64_5level", PTE_FMT_X86_64_5LEVEL},
    {"x86_32", PTE_FMT_X86_32},
    {"generic", PTE_FMT_GENERIC},
};

// "mmu.format" -> "mmu.generic.": the generic parameters live beside the format key.
std::string genericPrefix(const std::string& key) {
    const auto dot = key.rfind('.');
    return (dot == std::string::npos ? std::string() : key.substr(0, dot + 1)) + "generic.";
}

} // namespace

PteFormat PteFormat::fromName(const std::string& name, const std::string& key, unsigned page_bits,
                              unsigned pte_bytes, unsigned levels) {
    for (const auto& candidate : kFormats) {
        if (name != candidate.name) continue;
        PteFormat format;
        if (pte_format_init(&format.fmt_, candidate.id, page_bits, pte_bytes, levels) != 0) {
            const std::string prefix = genericPrefix(key);
            throw InputError(
                prefix + "page_bits / " + prefix + "pte_bytes / " + prefix +
                "levels: impossible generic format (page_bits=" + std::to_string(page_bits) +
                ", pte_bytes=" + std::to_string(pte_bytes) + ", levels=" + std::to_string(levels) +
                "; allowed: page_bits 10..21, pte_bytes 4 or 8, levels 1..6, and "
                "page_bits + levels*(page_bits - log2(pte_bytes)) <= 64)");
        }
        format.name_ = name;
        return format;
    }
    throw InputError(key + ": unknown format '" + name +
                     "' (allowed: sv39, sv48, sv57, x86_64, x86_64_5level, x86_32, generic)");
}

std::uint64_t PteFormat::userSpan() const {
    const unsigned bits = std::min(fmt_.va_bits, 63u);
    const std::uint64_t half = std::uint64_t{1} << (bits - 1);
    // Without sign extension the address just above the lower half is canonical too.
    if (fmt_.va_bits < 64 && pte_va_canonical(&fmt_, half)) return std::uint64_t{1} << bits;
    return half;
}

std::string PteFormat::describeVaSpace() const {
    return name_ + "'s " + std::to_string(fmt_.va_bits) + "-bit virtual address space";
}

PageGeometry PteFormat::geometry() const {
    PageGeometry geometry;
    geometry.page_shift = fmt_.page_shift;
    geometry.index_bits = fmt_.index_bits;
    geometry.levels = fmt_.levels;
    geometry.leaf_level_mask = fmt_.leaf_level_mask;
    return geometry;
}

} // namespace tlmmu
