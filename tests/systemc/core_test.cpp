// Core against a fake OS and a fake Mmu: a processor that executes, translates every page a
// reference touches, traps into the OS (with firmware time on the core's own local time), hands
// control back at the instruction counts the OS asks for, and is preempted by its time slice.
// No policy in the core: every decision is the fake OS's. One TEST per process (ScTest).
#include <map>
#include <set>
#include <vector>

#include <tlm_utils/simple_target_socket.h>

#include "ScTest.h"
#include "core/Core.h"
#include "memory/Memory.h"

extern "C" {
#include "hal.h"
}

namespace tlmmu::test {
namespace {

constexpr Addr kPaOffset = 0x100000; // PA = low 24 bits of the VA + 1 MiB for mapped pages

// Translates mapped 4 KiB pages at 1 cycle; an unmapped page is a NotPresent fault after a
// 10-cycle walk. Records every translated page.
struct FakeMmu : sc_core::sc_module {
    tlm_utils::simple_target_socket<FakeMmu> translate_socket;
    std::set<Addr> mapped;
    std::vector<Addr> translated; // pages, in order
    explicit FakeMmu(sc_core::sc_module_name n) : sc_module(n), translate_socket("translate") {
        translate_socket.register_b_transport(this, &FakeMmu::b_transport);
    }
    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time&) {
        auto* e = t.get_extension<TranslationExtension>();
        if (e->op != TranslationExtension::Op::Translate) return;
        const Addr page = e->va >> 12;
        translated.push_back(page);
        e->tlb_cycles = 1;
        e->walk_cycles = 0;
        if (mapped.count(page)) {
            e->fault = FaultKind::None;
            e->pa = (e->va & 0xffffff) + kPaOffset;
        } else {
            e->fault = FaultKind::NotPresent;
            e->walk_cycles = 10;
        }
    }
};

// A fixed list of instructions.
struct ListWorkload : Workload {
    std::vector<Instruction> list;
    std::size_t at = 0;
    bool next(Instruction& insn) override {
        if (at == list.size()) return false;
        insn = list[at++];
        return true;
    }
    void rewind() override { at = 0; }
    std::string describe() const override { return "list"; }
};

Instruction insn(Addr pc, std::vector<DataRef> refs = {}) {
    Instruction i;
    i.pc = pc;
    i.size = 4;
    for (const DataRef& r : refs)
        i.refs[i.num_refs++] = r;
    return i;
}

// Maps each faulting page (100 cycles of firmware time), or kills when asked; hands out its tasks
// round robin with a fixed slice; records what it was asked.
struct FakeOs : OperatingSystem {
    FakeMmu& mmu;
    std::vector<Task*> tasks;
    std::uint64_t slice = 0;
    std::set<Addr> kill_at; // pages whose fault kills
    std::vector<std::string> log;
    sc_core::sc_event never;
    std::size_t next = 0;
    explicit FakeOs(FakeMmu& m) : mmu(m) {}

    void boot(unsigned) override {
        for (Task* t : tasks)
            t->state = Task::State::Runnable;
    }
    Dispatch schedule(unsigned) override {
        for (std::size_t i = 0; i < tasks.size(); ++i) {
            Task* t = tasks[(next + i) % tasks.size()];
            if (t->state == Task::State::Runnable) {
                next = (next + i + 1) % tasks.size();
                log.push_back("run " + t->name);
                return {t, slice};
            }
        }
        return {};
    }
    bool finished(unsigned) const override {
        for (Task* t : tasks)
            if (t->state != Task::State::Done) return false;
        return true;
    }
    const sc_core::sc_event& runnable(unsigned) const override { return never; }
    void atInstruction(Task& t) override {
        log.push_back("stop " + t.name + " at " + std::to_string(t.instructions));
        t.os_stop = ~std::uint64_t{0};
    }
    FaultOutcome fault(Task& t, Addr va, AccessType, FaultKind) override {
        hal_charge_cycles(100);
        if (kill_at.count(va >> 12)) {
            t.state = Task::State::Done;
            return {true, "test kill"};
        }
        mmu.mapped.insert(va >> 12);
        return {};
    }
    void taskRunnable(unsigned, int) override {}
    void mmReleased(unsigned, int) override {}
    void interrupt(unsigned) override { log.push_back("interrupt"); }
    void exit(Task& t) override {
        t.state = Task::State::Done;
        log.push_back("exit " + t.name);
    }
};

struct Bench {
    Clock clock{1.0};
    MemoryConfig mc;
    FakeMmu mmu{"mmu"};
    FakeOs os{mmu};
    std::unique_ptr<Memory> memory;
    std::unique_ptr<Core> core;
    std::vector<std::unique_ptr<Task>> tasks;
    explicit Bench(std::uint64_t slice = 0) {
        mc.size = 64 << 20;
        mc.latency_cycles = 50;
        memory = std::make_unique<Memory>("memory", mc, clock);
        CoreConfig cc;
        core = std::make_unique<Core>("core", cc, clock, os);
        core->translate_socket.bind(mmu.translate_socket);
        core->data_socket.bind(memory->target_socket);
        os.slice = slice;
    }
    ListWorkload& addTask(const std::string& name) {
        auto t = std::make_unique<Task>();
        t->name = name;
        auto w = std::make_unique<ListWorkload>();
        ListWorkload& ref = *w;
        t->workload = std::move(w);
        os.tasks.push_back(t.get());
        tasks.push_back(std::move(t));
        return ref;
    }
};

// A 12 KiB reference that starts inside a page touches 4 pages: each is translated (and its
// fault handled) in address order, the instruction completes, and it counts one crossing.
TEST_F(ScTest, ReferenceSpanningFourPagesTranslatesEachPage) {
    Bench b;
    b.mmu.mapped.insert(0x400);
    b.addTask("t").list = {insn(0x400000, {{0x10000800, 12 << 10, RefKind::Store}})};
    run([] {});
    EXPECT_EQ(b.core->error(), "");
    EXPECT_EQ(b.core->instructions(), 1u);
    // fetch; then pages 0x10000..0x10003, each faulting once and retried.
    const std::vector<Addr> expected = {0x400,   0x10000, 0x10000, 0x10001, 0x10001,
                                        0x10002, 0x10002, 0x10003, 0x10003};
    EXPECT_EQ(b.mmu.translated, expected);
    // base 1 + TLB 1 per translation + 4 faults x (10-cycle walk + 100 firmware cycles).
    EXPECT_EQ(b.core->cycles(), 1u + 9u + 4u * 110u);
}

// Firmware time is the core's local time: simulated time at the end is the sum of the CPI stack.
TEST_F(ScTest, FirmwareTimeIsTheCoresTime) {
    Bench b;
    b.addTask("t").list = {insn(0x400000), insn(0x400004, {{0x10000000, 8, RefKind::Load}})};
    run([] {});
    EXPECT_EQ(b.core->error(), "");
    // Instruction 1: fault (10 + 100) + retry; instruction 2: hit, data fault (110) + retry.
    EXPECT_EQ(b.core->cycles(), 2u + 5u + 2u * 110u);
    EXPECT_EQ(sc_core::sc_time_stamp(), b.clock.cycles(b.core->cycles()));
}

// The OS gets control when the task reaches os_stop instructions, not before.
TEST_F(ScTest, HandsControlToTheOsAtTheInstructionItAskedFor) {
    Bench b;
    b.mmu.mapped.insert(0x400);
    auto& w = b.addTask("t");
    for (int i = 0; i < 8; ++i)
        w.list.push_back(insn(0x400000 + 4 * i));
    b.tasks[0]->os_stop = 5;
    run([] {});
    EXPECT_EQ(b.os.log, (std::vector<std::string>{"run t", "stop t at 5", "exit t"}));
    EXPECT_EQ(b.core->instructions(), 8u);
}

// A time slice preempts: the OS alternates two tasks every slice.
TEST_F(ScTest, TimeSliceGivesTheOsTheChoice) {
    Bench b(3);
    b.mmu.mapped.insert(0x400);
    for (const char* n : {"a", "b"}) {
        auto& w = b.addTask(n);
        for (int i = 0; i < 3; ++i)
            w.list.push_back(insn(0x400000 + 4 * i));
    }
    run([] {});
    // 2 cycles per instruction (base + TLB): a slice of 3 cycles runs 2 instructions.
    EXPECT_EQ(b.os.log, (std::vector<std::string>{"run a", "run b", "run a", "exit a", "run b",
                                                  "exit b"}));
    EXPECT_EQ(b.core->instructions(), 6u);
}

// A task killed by its fault stops at once; the rest of its reference is not performed.
TEST_F(ScTest, KilledTaskStops) {
    Bench b;
    b.mmu.mapped.insert(0x400);
    b.os.kill_at.insert(0x10001);
    b.addTask("t").list = {insn(0x400000, {{0x10000ffc, 8, RefKind::Load}}), insn(0x400004)};
    run([] {});
    EXPECT_EQ(b.core->instructions(), 1u);
    EXPECT_NE(b.tasks[0]->kill_report.find("process t killed: test kill"), std::string::npos)
        << b.tasks[0]->kill_report;
}

// A reference past the top of the address space is an error that names the reference, not a
// wrap to address 0.
TEST_F(ScTest, ReferenceWrappingPastTheTopIsAnError) {
    Bench b;
    b.mmu.mapped.insert(0x400);
    b.addTask("t").list = {insn(0x400000, {{~Addr{0} - 3, 8, RefKind::Load}})};
    run([] {});
    EXPECT_EQ(b.core->error(), "list: a 8-byte reference at VA 0xfffffffffffffffc wraps past the "
                               "top of the address space");
}

} // namespace
} // namespace tlmmu::test
