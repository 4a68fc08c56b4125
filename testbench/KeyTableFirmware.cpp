// The key table's firmware group: the firmware's configuration (fw_kernel_config) and the
// devices it drives: swap, IPIs, the invalidation controller.
#include "KeyTableBuilder.h"

extern "C" {
#include "kernel/mm.h"
}

namespace tlmmu::keytable {

namespace {

std::vector<Choice> mechanismChoices() {
    std::vector<Choice> c;
    for (unsigned m = 0; m < fw_shootdown_mechanism_count(); ++m)
        c.push_back({fw_shootdown_mechanism_name(m), static_cast<std::int64_t>(m)});
    return c;
}

void addFirmwareCostKeys(Table& t) {
    t.addFw(
        Key("swap.slots")
            .integer(65536, 0, std::uint64_t{1} << 32)
            .unit("pages")
            .meaning("swap device size (0 = no swap device)"),
        "swap_slots", [](SystemConfig & s) -> auto& { return s.firmware.swap_slots; });
    t.add(Key("swap.latency_cycles")
              .integer(20000, 0, std::uint64_t{1} << 40)
              .unit("cycles")
              .meaning("swap device access time (NVMe-class: about 10 us at 2 GHz)")
              .when({nonZero("swap.slots")}),
          AT(swap_latency_cycles));
    t.addFw(Key("firmware.memory_limit_frames")
                .integer(0, 0, (1ull << 30) - 1)
                .unit("frames")
                .meaning("data frames in use never exceed this; beyond it pages are swapped "
                         "out (0 = no limit)"),
            FW(memory_limit_frames));
    t.addFw(Key("firmware.switch_cycles")
                .integer(500, 0, 100000000)
                .unit("cycles")
                .meaning("bookkeeping cost of a context switch"),
            FW(switch_cycles));
    t.addFw(Key("firmware.fork_cycles")
                .integer(5000, 0, 100000000)
                .unit("cycles")
                .meaning("bookkeeping cost of a fork (plus its page-table work)")
                .when({kScenario}),
            FW(fork_cycles));
    t.addFw(Key("firmware.syscall_entry_cycles")
                .integer(0, 0, 100000000)
                .unit("cycles")
                .meaning("system call entry (fork, map, unmap, protect, discard, exit)")
                .when({kScenario}),
            FW(syscall_entry_cycles));
    t.addFw(Key("firmware.syscall_exit_cycles")
                .integer(0, 0, 100000000)
                .unit("cycles")
                .meaning("system call exit")
                .when({kScenario}),
            FW(syscall_exit_cycles));
    t.addFw(Key("firmware.fault_entry_cycles")
                .integer(200, 0, 100000000)
                .unit("cycles")
                .meaning("trap entry and handler prologue, once per fault"),
            FW(fault_entry_cycles));
    t.addFw(Key("firmware.fault_exit_cycles")
                .integer(100, 0, 100000000)
                .unit("cycles")
                .meaning("handler epilogue and trap return, once per fault"),
            FW(fault_exit_cycles));
    t.add(Key("firmware.frames")
              .integer(0, 0, (1ull << 30) - 1)
              .unit("frames")
              .meaning("frames the firmware may allocate (0 = all memory above the first MiB)"),
          AT(firmware_frames));
    t.addFw(Key("firmware.irq_entry_cycles")
                .integer(200, 0, 100000000)
                .unit("cycles")
                .meaning("interrupt entry (a core taking an IPI)")
                .when({kMulticore}),
            FW(irq_entry_cycles));
    t.addFw(Key("firmware.irq_exit_cycles")
                .integer(100, 0, 100000000)
                .unit("cycles")
                .meaning("interrupt exit")
                .when({kMulticore}),
            FW(irq_exit_cycles));
}

// firmware.cost.*: the kernel's own instructions, cycles per operation (fw_costs). All 0 by
// default, so that a configuration without them times only the HAL's accesses and the entry
// and exit costs above.
void addKernelWorkKeys(Table& t) {
    struct Cost {
        const char* leaf;
        std::uint64_t fw_costs::*field;
        const char* meaning;
        std::vector<Condition> when;
    };
    const Cost costs[] = {
        {"syscall_dispatch",
         &fw_costs::syscall_dispatch,
         "per system call after its entry: Linux's syscall table dispatch and argument checks "
         "(do_syscall_64, the call's own checks)",
         {kScenario}},
        {"vma_lookup",
         &fw_costs::vma_lookup,
         "per VMA lookup: one per fault (lock_vma_under_rcu / find_vma) and one per madvise, "
         "mprotect or munmap (the range's first VMA: vma_find)",
         {}},
        {"page_alloc",
         &fw_costs::page_alloc,
         "per data page allocated, a base frame or a huge block (__alloc_pages' fast path "
         "from the per-CPU list)",
         {}},
        {"page_free",
         &fw_costs::page_free,
         "per data page freed when its last reference goes (free_unref_page)",
         {}},
        {"rmap_add",
         &fw_costs::rmap_add,
         "per new private mapping: the reverse map of a new page (folio_add_new_anon_rmap)",
         {}},
        {"rmap_remove",
         &fw_costs::rmap_remove,
         "per leaf unmapped: its reverse map and counters (folio_remove_rmap_ptes)",
         {}},
        {"lru_add",
         &fw_costs::lru_add,
         "per new page added to the LRU batch (folio_add_lru; the LRU lock at a batch's drain "
         "is timed apart)",
         {}},
        {"zap_pte",
         &fw_costs::zap_pte,
         "per leaf a zap clears (zap_pte_range's loop body: ptep_get_and_clear, the mmu_gather "
         "entry)",
         {}},
        {"flush_setup",
         &fw_costs::flush_setup,
         "per TLB flush of a range or an address space (flush_tlb_mm_range: "
         "get_flush_tlb_info, the cpumask work)",
         {}},
        {"ipi_request",
         &fw_costs::ipi_request,
         "initiator, per shootdown target: its request (smp_call_function_many_cond's csd "
         "set-up and llist_add)",
         {kMulticore, kIpi}},
        {"ipi_send",
         &fw_costs::ipi_send,
         "initiator, per ICR write (native_x2apic_icr_write): one per target, one per cluster "
         "with ipi.cluster_mode",
         {kMulticore}},
        {"irq_dispatch",
         &fw_costs::irq_dispatch,
         "target, per shootdown interrupt: the vector's dispatch and "
         "flush_smp_call_function_queue",
         {kMulticore, kIpi}},
        {"pti_cr3_switch",
         &fw_costs::pti_cr3_switch,
         "with firmware.pti, per CR3 write: one at every kernel entry from user space (system "
         "call, fault, interrupt, preemption: SWITCH_TO_KERNEL_CR3) and one at every return to "
         "it (SWITCH_TO_USER_CR3)",
         {is("firmware.pti", {"true"})}},
    };
    for (const Cost& c : costs)
        t.addFw(
            Key(std::string("firmware.cost.") + c.leaf)
                .integer(0, 0, 100000000)
                .unit("cycles")
                .meaning(c.meaning)
                .when(c.when),
            (std::string("cost.") + c.leaf).c_str(), [field = c.field](SystemConfig & s) -> auto& {
                return s.firmware.cost.*field;
            });
}

void addIpiKeys(Table& t) {
    t.add(Key("ipi.latency_cycles")
              .integer(1000, 0, 100000000)
              .unit("cycles")
              .meaning("IPI delivery, from the sender's write to the target's interrupt input")
              .when({kMulticore}),
          AT(ipi_latency_cycles));
    t.add(Key("ipi.drop_probability")
              .number(0.0, 0.0, 1.0)
              .meaning("fault injection: the chance that an IPI delivery is lost (the "
                       "firmware's acknowledgement timeout recovers it)")
              .when({kMulticore}),
          AT(ipi_drop_probability));
    t.addFw(Key("ipi.cluster_mode")
                .boolean(false)
                .meaning("x2APIC cluster mode (Linux's x2apic_cluster): one ICR write reaches "
                         "the targets of a cluster of 16 logical CPUs (false: physical mode, one "
                         "write a target); the sender's cost only, firmware.cost.ipi_send")
                .when({kMulticore}),
            FW(ipi_cluster_mode));
}

void addPtiKey(Table& t) {
    t.addFw(Key("firmware.pti")
                .boolean(false)
                .meaning("page-table isolation (Linux's PTI): user code runs under a user ASID "
                         "(the kernel's | the top bit of mmu.asid_bits, which must be 0 or at "
                         "least 2); a flush on a core invalidates the kernel ASID at once and the "
                         "user one whole at that core's next return to user space (directed and "
                         "broadcast flushes invalidate both at once); every kernel entry and exit "
                         "writes the root (firmware.cost.pti_cr3_switch); without ASIDs every "
                         "return to user space flushes the TLB"),
            FW(pti));
}

void addZeroPageKey(Table& t) {
    t.addFw(Key("firmware.zero_page")
                .boolean(false)
                .meaning("the shared zero page (Linux's my_zero_pfn, mm/memory.c "
                         "do_anonymous_page): a read fault on a never-written private base "
                         "page maps one zeroed frame read-only, allocating nothing; a later "
                         "write faults and gets a zeroed frame of its own (a COW fault); zaps "
                         "free nothing for it, fork shares it, reclaim never picks it"),
            FW(zero_page));
}

void addShootdownKeys(Table& t) {
    t.addFw(Key("firmware.shootdown.mechanism")
                .choice("ipi", mechanismChoices())
                .meaning("how a change reaches the other cores' TLBs: ipi (IPIs; the targets' "
                         "firmware flushes and acknowledges), directed (the invalidation "
                         "controller, one operation per target core, no target firmware) or "
                         "broadcast (one operation reaches every core, then a sync; global "
                         "ASIDs; no IPI, no target firmware)")
                .when({kMulticore}),
            FW(shootdown));
    const Condition controller = isNot("firmware.shootdown.mechanism", {"ipi"});
    t.add(Key("invalidation.base_cycles")
              .integer(0, 0, 100000000)
              .unit("cycles")
              .meaning("invalidation controller: fixed cost of an operation (directed: added to "
                       "the command; broadcast: to its completion, which the sync waits for)")
              .when({kMulticore, controller}),
          AT(invalidation_base_cycles));
    t.add(Key("invalidation.hop_cycles")
              .integer(0, 0, 100000000)
              .unit("cycles")
              .meaning("invalidation controller: per Mmu an operation reaches (a broadcast "
                       "reaches the k-th core after base + k hops)")
              .when({kMulticore, controller}),
          AT(invalidation_hop_cycles));
    t.addFw(Key("firmware.shootdown.ack_timeout_cycles")
                .integer(100000, 1, 1000000000)
                .unit("cycles")
                .meaning("an initiator resends its IPI to a target silent this long")
                .when({kMulticore, kIpi}),
            FW(ack_timeout_cycles));
    t.addFw(Key("firmware.shootdown.relax_cycles")
                .integer(20, 1, 1000000)
                .unit("cycles")
                .meaning("one polling step of the initiator's wait for acknowledgements (lock "
                         "waiters sleep until woken instead)")
                .when({kMulticore, kIpi}),
            FW(relax_cycles));
    t.addFw(Key("firmware.shootdown.flush_ceiling")
                .integer(FW_FLUSH_CEILING_PAGES, 1, 1u << 30)
                .unit("pages")
                .meaning("a range flush of more pages flushes the whole ASID instead (Linux "
                         "x86: 33)"),
            FW(flush_ceiling_pages));
    t.addFw(Key("firmware.shootdown.batch")
                .boolean(true)
                .meaning("one shootdown per range (false: one per page)")
                .when({kMulticore}),
            FW(batch));
    t.addFw(Key("firmware.shootdown.concurrent_flush")
                .boolean(false)
                .meaning("the initiator flushes locally while its IPIs travel")
                .when({kMulticore}),
            FW(concurrent_flush));
    t.addFw(Key("firmware.shootdown.early_ack")
                .boolean(false)
                .meaning("targets acknowledge on arrival and flush before returning to user code")
                .when({kMulticore}),
            FW(early_ack));
    t.addFw(Key("firmware.shootdown.lazy_tlb")
                .boolean(false)
                .meaning("cores not running the address space are not interrupted; they flush "
                         "when they next switch to it")
                .when({kMulticore}),
            FW(lazy_tlb));
    t.addFw(
        Key("firmware.shootdown.inject")
            .choice("none", std::vector<Choice>{{"none", 0},
                                                {"skip_ack_wait", FW_INJECT_SKIP_ACK_WAIT},
                                                {"skip_remote_flush", FW_INJECT_SKIP_REMOTE_FLUSH},
                                                {"skip_local_flush", FW_INJECT_SKIP_LOCAL_FLUSH}})
            .meaning("fault injection that makes stale translations possible (the checker "
                     "must catch it)")
            .when({kMulticore}),
        FW(inject));
}

} // namespace

void addFirmwareKeys(Table& t) {
    addFirmwareCostKeys(t);
    addKernelWorkKeys(t);
    addPtiKey(t);
    addZeroPageKey(t);
    addIpiKeys(t);
    addShootdownKeys(t);
}

} // namespace tlmmu::keytable
