// C++ view of a page-table format (wraps abi/arch/pte_format.h, the single codec).
#pragma once

#include <string>

#include "arch/pte_format.h"
#include "common/Types.h"
#include "mmu/TlbEntry.h"

namespace tlmmu {

class PteFormat {
  public:
    // name: sv39|sv48|sv57|x86_64|x86_64_5level|x86_32|generic. Generic uses page_bits,
    // pte_bytes, levels. Throws InputError naming `key` when the name or parameters are bad.
    static PteFormat fromName(const std::string& name, const std::string& key = "mmu.format",
                              unsigned page_bits = 12, unsigned pte_bytes = 8, unsigned levels = 3);

    const pte_format& raw() const { return fmt_; }
    const std::string& name() const { return name_; }
    unsigned levels() const { return fmt_.levels; }
    unsigned pageShift() const { return fmt_.page_shift; }
    unsigned pteBytes() const { return fmt_.pte_bytes; }
    unsigned indexBits() const { return fmt_.index_bits; }
    unsigned vaBits() const { return fmt_.va_bits; }
    unsigned levelShift(unsigned level) const { return pte_level_shift(&fmt_, level); }
    bool leafAllowed(unsigned level) const { return (fmt_.leaf_level_mask >> level) & 1u; }
    PageGeometry geometry() const;
    // The user (lower) half of the canonical virtual address space is [0, userSpan()); the whole
    // space for a format without sign extension (x86_32, generic).
    std::uint64_t userSpan() const;
    // "sv39's 39-bit virtual address space", for messages.
    std::string describeVaSpace() const;
    std::uint64_t tableBytes() const { return std::uint64_t{1} << fmt_.page_shift; }

  private:
    pte_format fmt_{};
    std::string name_;
};

} // namespace tlmmu
