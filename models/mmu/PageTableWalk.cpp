#include "mmu/PageTableWalk.h"

namespace tlmmu {

namespace {

constexpr unsigned kRestrictable = PTE_F_W | PTE_F_U | PTE_F_X;

WalkResult fail(WalkResult result, FaultKind kind, int level) {
    result.fault = kind;
    result.fault_level = level;
    return result;
}

} // namespace

WalkResult walkPageTable(const PteFormat& format, const WalkRequest& request, PteMemory& memory) {
    const pte_format& fmt = format.raw();
    const int top = static_cast<int>(format.levels()) - 1;
    WalkResult result;
    if (!pte_va_canonical(&fmt, request.va)) return fail(result, FaultKind::NonCanonical, top);

    const bool from_root = request.start_level < 0;
    int level = from_root ? top : request.start_level;
    Addr table = from_root ? request.root : request.start_table;
    // x86 W/U/NX are hierarchical: each table entry on the path can only take rights away.
    unsigned path = (fmt.x86_style && !from_root) ? (request.start_flags & 0xffu) : 0xffu;

    for (;; --level) {
        const Addr pte_addr =
            table +
            Addr{pte_index(&fmt, request.va, static_cast<unsigned>(level))} * format.pteBytes();
        std::uint64_t raw = 0;
        // Counted even when it fails: `reads` is the number of PTE reads issued.
        ++result.reads;
        if (!memory.readPte(pte_addr, format.pteBytes(), raw))
            return fail(result, FaultKind::BusError, level);

        pte_decoded pte{};
        int misaligned = 0;
        pte_decode(&fmt, raw, static_cast<unsigned>(level), &pte, &misaligned);
        switch (pte.kind) {
        case PTE_KIND_INVALID:
            return fail(result, FaultKind::NotPresent, level);
        case PTE_KIND_RESERVED:
            return fail(result,
                        misaligned ? FaultKind::MisalignedSuperpage : FaultKind::ReservedBits,
                        level);
        case PTE_KIND_TABLE:
            table = pte.ppn << format.pageShift();
            if (fmt.x86_style) path &= pte.flags | ~kRestrictable;
            result.tables_read_mask |= 1u << level;
            result.next_table[level] = table;
            result.path_flags[level] = path;
            continue; // level 0 never decodes as TABLE, so the loop always ends
        case PTE_KIND_LEAF:
            break;
        }

        unsigned flags = pte.flags | PTE_F_V;
        if (fmt.x86_style) flags &= path | ~kRestrictable;
        if (checkAccess(flags, request.access, request.priv) != FaultKind::None)
            return fail(result, FaultKind::Permission, level);

        const unsigned needed = PTE_F_A | (request.access == AccessType::Write ? PTE_F_D : 0u);
        if ((flags & needed) != needed) {
            // Without hardware A/D management the firmware sets them on the resulting fault.
            if (!request.hardware_ad) return fail(result, FaultKind::Permission, level);
            ++result.writes;
            if (!memory.writePte(pte_addr, format.pteBytes(), pte_set_flags(&fmt, raw, needed)))
                return fail(result, FaultKind::BusError, level);
            flags |= needed;
        }

        const unsigned vpn_low_bits = static_cast<unsigned>(level) * format.indexBits();
        const std::uint64_t low_mask =
            vpn_low_bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << vpn_low_bits) - 1;
        result.entry.vpn = (request.va >> format.pageShift()) & ~low_mask;
        result.entry.ppn = pte.ppn;
        result.entry.level = static_cast<std::uint8_t>(level);
        result.entry.asid = request.asid;
        result.entry.flags = static_cast<std::uint8_t>(flags);
        return result;
    }
}

} // namespace tlmmu
