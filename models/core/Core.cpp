#include "core/Core.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>
#include <unordered_set>

namespace tlmmu {

Core::Core(sc_core::sc_module_name name, const CoreConfig& config, const Clock& clock,
           OperatingSystem& os)
    : sc_module(name), translate_socket("translate_socket"), data_socket("data_socket"),
      config_(config), clock_(clock), os_(os),
      hal_(data_socket, translate_socket, clock, config.id),
      base_whole_(static_cast<std::uint64_t>(std::llround(config.base_cpi * 1e6)) / 1000000),
      base_micro_(static_cast<std::uint64_t>(std::llround(config.base_cpi * 1e6)) % 1000000) {
    data_socket.register_invalidate_direct_mem_ptr(this, &Core::invalidate_direct_mem_ptr);
    translation_.set_extension(&ext_);
    translation_.set_command(tlm::TLM_IGNORE_COMMAND);
    ext_.core_id = config.id;
    SC_THREAD(run);
    // The firmware runs on this thread's stack (the default of a SystemC thread is small).
    set_stack_size(4 << 20);
}

// The payload would delete its extensions; ext_ is a member, not heap-allocated.
Core::~Core() {
    translation_.clear_extension(&ext_);
}

void Core::addTask(Task* task) {
    task->home = this;
    tasks_.push_back(task);
}

void Core::charge(std::uint64_t& category, std::uint64_t cycles) {
    category += cycles;
    cycles_ += cycles;
    local_cycles_ += cycles;
    if (running_) running_->cycles += cycles;
}

// Runs firmware with time; what it takes is charged to `category`.
template <class Fn> std::uint64_t Core::timedFirmware(std::uint64_t& category, Fn&& fn) {
    const std::uint64_t cycles = clock_.toCycles(hal_.run(std::forward<Fn>(fn), true));
    charge(category, cycles);
    return cycles;
}

// Temporal decoupling, Accellera's quantum-keeper pattern with the local time kept in cycles:
// the core runs ahead of simulated time by up to one global quantum, then yields.
void Core::sync() {
    qk_.set(clock_.cycles(local_cycles_));
    qk_.sync();
    local_cycles_ = 0;
}

void Core::prefault(Task& task) {
    Instruction insn;
    const Addr page = Addr{1} << config_.page_shift;
    std::unordered_set<Addr> seen; // each page once: the firmware walks per call
    auto each_page = [&](Addr va, std::uint32_t size) {
        for (Addr p = va & ~(page - 1); p < va + std::max<std::uint32_t>(size, 1); p += page)
            if (seen.insert(p).second) os_.prefault(task, p);
    };
    hal_.run(
        [&] {
            std::uint64_t n = 0;
            while ((!config_.max_instructions || n < config_.max_instructions) &&
                   task.workload->next(insn)) {
                if (insn.size) ++n, each_page(insn.pc, insn.size);
                for (unsigned i = 0; i < insn.num_refs; ++i)
                    each_page(insn.refs[i].addr, insn.refs[i].size);
            }
        },
        false);
    task.workload->rewind();
}

// Round robin over the runnable tasks, starting after the current one.
Task* Core::pickNext(Task* current) {
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
        Task* t = tasks_[(next_task_ + i) % tasks_.size()];
        if (t->state == Task::State::Runnable && t != current) {
            next_task_ = (next_task_ + i + 1) % tasks_.size();
            return t;
        }
    }
    return current && current->state == Task::State::Runnable ? current : nullptr;
}

void Core::runEvents(Task& task) {
    while (task.state == Task::State::Runnable && task.next_event < task.events.size() &&
           task.events[task.next_event].at <= task.instructions) {
        const TaskEvent& e = task.events[task.next_event++];
        timedFirmware(os_cycles_, [&] { os_.event(task, e); });
        if (e.kind == TaskEvent::Kind::Unmap && task.shadow) task.shadow->clear(e.start, e.size);
        if (e.kind == TaskEvent::Kind::Fork) {
            // The child sees what the parent wrote before the fork, then its own writes.
            if (task.shadow) e.child->shadow = std::make_shared<DataShadow>(*task.shadow);
            e.child->shared = task.shared;
            e.child->state = Task::State::Runnable;
            if (e.child->home != this) sync(); // crossing cores: the other core sees it now
            e.child->home->wake();
        }
        if (e.kind == TaskEvent::Kind::Exit) finish(task);
    }
}

// The task ran to its end, exited or was killed: children it would still have forked never
// come to be.
void Core::finish(Task& task) {
    if (task.state == Task::State::Done) return;
    task.state = Task::State::Done;
    hal_.run([&] { os_.finished(task); }, false);
    for (std::size_t i = task.next_event; i < task.events.size(); ++i)
        if (task.events[i].kind == TaskEvent::Kind::Fork) {
            task.events[i].child->state = Task::State::Done;
            task.events[i].child->home->wake();
        }
}

void Core::run() {
    try {
        // Creating the initial processes and prefaulting are boot work: untimed.
        for (Task* t : tasks_)
            if (!t->parent) {
                hal_.run([&] { os_.start(*t); }, false);
                t->state = Task::State::Runnable;
            }
        if (config_.prefault)
            for (Task* t : tasks_)
                if (!t->parent) prefault(*t);
        qk_.reset();
        quantum_cycles_ =
            std::max<std::uint64_t>(1, clock_.toCycles(tlm::tlm_global_quantum::instance().get()));
        Instruction insn;
        Task* task = nullptr;
        while (!config_.max_instructions || instructions_ < config_.max_instructions) {
            Task* next = pickNext(task);
            if (!next) {
                const bool pending = std::any_of(tasks_.begin(), tasks_.end(), [](Task* t) {
                    return t->state == Task::State::Pending;
                });
                if (!pending) break;
                sync();
                wait(task_ready_); // a fork on another core will make one runnable
                continue;
            }
            if (next != running_) {
                ++switches_;
                running_ = next;
                timedFirmware(os_cycles_, [&] { os_.switchTo(*next); });
            }
            task = next;
            const std::uint64_t slice_end = cycles() + config_.time_slice_cycles;
            while (task->state == Task::State::Runnable &&
                   (!config_.max_instructions || instructions_ < config_.max_instructions)) {
                if (task->next_event < task->events.size()) {
                    runEvents(*task);
                    if (task->state != Task::State::Runnable) break;
                }
                if (!task->workload->next(insn)) {
                    finish(*task);
                    break;
                }
                execute(*task, insn);
                if (local_cycles_ >= quantum_cycles_) sync();
                if (config_.time_slice_cycles && cycles() >= slice_end) break;
            }
        }
        sync(); // simulated time reaches this core's last cycle
    } catch (const InputError& e) {
        error_ = e.what();
    } catch (const FirmwarePanic& e) {
        error_ = std::string(name()) + ": firmware panic: " + e.what();
    }
}

void Core::execute(Task& task, const Instruction& insn) {
    Addr pa[2];
    if (insn.size) {
        ++instructions_;
        ++task.instructions;
        std::uint64_t base = base_whole_;
        base_micro_acc_ += base_micro_;
        if (base_micro_acc_ >= 1000000) base_micro_acc_ -= 1000000, ++base;
        charge(base_, base);
        if (!translateRange(task, insn.pc, insn.size, AccessType::Execute, pa)) return;
    }
    for (unsigned i = 0; i < insn.num_refs; ++i) {
        const DataRef& ref = insn.refs[i];
        const AccessType access = ref.kind == RefKind::Load ? AccessType::Read : AccessType::Write;
        if (!translateRange(task, ref.addr, ref.size, access, pa)) return;
        dataAccess(task, ref, pa);
    }
}

bool Core::translateRange(Task& task, Addr va, std::uint32_t size, AccessType access,
                          Addr* pa_parts) {
    const Addr first = va >> config_.page_shift;
    const Addr last = (va + (size ? size - 1 : 0)) >> config_.page_shift;
    if (!translate(task, va, access, pa_parts[0])) return false;
    if (last != first) {
        ++page_crossings_;
        if (!translate(task, last << config_.page_shift, access, pa_parts[1])) return false;
    }
    return true;
}

bool Core::translate(Task& task, Addr va, AccessType access, Addr& pa) {
    ext_.va = va;
    ext_.access = access;
    ext_.priv = Privilege::User;
    ext_.op = TranslationExtension::Op::Translate;
    for (unsigned attempt = 0;; ++attempt) {
        ++translations_;
        sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
        translate_socket->b_transport(translation_, delay);
        // The Mmu reports its latency in cycles too (delay == tlb + walk cycles).
        if (ext_.tlb_cycles) charge(tlb_, ext_.tlb_cycles);
        if (ext_.walk_cycles) charge(walk_, ext_.walk_cycles);
        if (ext_.fault == FaultKind::None) {
            pa = ext_.pa;
            return true;
        }
        const FaultKind kind = ext_.fault;
        ++faults_[static_cast<unsigned>(kind)];
        ++task.faults[static_cast<unsigned>(kind)];
        // A fault that the handler claims to have fixed but that comes straight back is a
        // firmware bug; stop rather than spin.
        if (attempt >= 3) {
            std::ostringstream msg;
            msg << "translation of VA 0x" << std::hex << va << " faults repeatedly ("
                << toString(kind) << ")";
            throw FirmwarePanic(msg.str());
        }
        OperatingSystem::FaultOutcome outcome;
        const std::uint64_t cycles =
            timedFirmware(fault_, [&] { outcome = os_.fault(task, va, access, kind); });
        fault_latency_.add(cycles);
        task.fault_cycles += cycles;
        if (outcome.killed) {
            std::ostringstream msg;
            msg << "process " << task.name << " killed: " << outcome.report << " ("
                << toString(kind) << " fault on " << toString(access) << " at VA 0x" << std::hex
                << va << ")";
            task.kill_report = msg.str();
            finish(task);
            return false;
        }
    }
}

std::uint8_t* Core::dmiPage(Addr pa) {
    const std::uint64_t page = pa >> 12;
    DmiSlot& slot = dmi_[page & (dmi_.size() - 1)];
    if (slot.page == page) return slot.ptr;
    tlm::tlm_generic_payload trans;
    tlm::tlm_dmi dmi;
    trans.set_address(pa);
    trans.set_command(tlm::TLM_READ_COMMAND);
    if (!data_socket->get_direct_mem_ptr(trans, dmi) || !dmi.is_read_write_allowed())
        return nullptr;
    // Memory grants whole 4 KiB pages; keep the pointer to this page's first byte.
    const Addr base = pa & ~Addr{0xfff};
    if (dmi.get_start_address() > base || dmi.get_end_address() < base + 0xfff) return nullptr;
    slot.page = page;
    slot.ptr = dmi.get_dmi_ptr() + (base - dmi.get_start_address());
    return slot.ptr;
}

void Core::dataAccess(Task& task, const DataRef& ref, const Addr* pa_parts) {
    if (ref.kind == RefKind::Load)
        ++loads_;
    else
        ++stores_;
    if (config_.data_latency_cycles) charge(data_, config_.data_latency_cycles);
    // Move the bytes: loads read memory, stores write a value that changes with every store.
    ++store_value_;
    const Addr page = Addr{1} << config_.page_shift;
    const Addr second_page = (ref.addr | (page - 1)) + 1; // VA where pa_parts[1] begins
    for (std::uint32_t done = 0; done < ref.size;) {
        const Addr va = ref.addr + done;
        const bool first = va < second_page;
        const Addr pa = first ? pa_parts[0] + done : pa_parts[1] + (va - second_page);
        // Bytes left in this base page, and in this 4 KiB DMI page.
        std::uint64_t n = ref.size - done;
        n = std::min<std::uint64_t>(n, first ? second_page - va : page - (va - second_page));
        n = std::min<std::uint64_t>(n, 0x1000 - (pa & 0xfff));
        std::uint8_t* host = dmiPage(pa);
        if (!host) {
            ++data_errors_;
            return;
        }
        std::uint8_t* p = host + (pa & 0xfff);
        if (task.checked) {
            checkedAccess(task, ref.kind, va, p, n, done);
        } else if (done == 0 && n <= 8) {
            // The common case, one word: the same bytes as the loop below, at memcpy speed
            // (byte i of a store is byte i of store_value_, little-endian).
            std::uint64_t v = 0;
            if (ref.kind != RefKind::Store)
                std::memcpy(&v, p, n), load_xor_ ^= static_cast<std::uint8_t>(v ^ (v >> 32));
            if (ref.kind != RefKind::Load) std::memcpy(p, &store_value_, n);
        } else {
            for (std::uint64_t i = 0; i < n; ++i) {
                if (ref.kind != RefKind::Store) load_xor_ ^= p[i];
                if (ref.kind != RefKind::Load)
                    p[i] = static_cast<std::uint8_t>(store_value_ >> (8 * ((done + i) & 7)));
            }
        }
        done += static_cast<std::uint32_t>(n);
    }
}

// Checked mode: loads are compared with what the process (or the shared object) last stored
// there, stores write values salted with the task so that another process's data never passes.
void Core::checkedAccess(Task& task, RefKind kind, Addr va, std::uint8_t* p, std::uint64_t n,
                         std::uint32_t done) {
    for (std::uint64_t i = 0; i < n; ++i) {
        const Addr a = va + i;
        DataShadow* shadow = task.shadow.get();
        Addr key = a;
        for (const auto& w : task.shared)
            if (a - w.start < w.size) {
                shadow = w.shadow.get();
                key = a - w.start;
                break;
            }
        if (kind != RefKind::Store) {
            ++task.data_checks;
            const std::uint8_t expected = shadow->get(key);
            if (p[i] != expected && task.data_mismatches++ == 0) {
                std::ostringstream msg;
                msg << "VA 0x" << std::hex << a << " read 0x" << unsigned(p[i]) << ", expected 0x"
                    << unsigned(expected) << std::dec << " (instruction " << task.instructions
                    << ")";
                task.first_mismatch = msg.str();
            }
        }
        if (kind != RefKind::Load) {
            const std::uint64_t value = (std::uint64_t{task.salt} << 40) ^ store_value_;
            p[i] = static_cast<std::uint8_t>(value >> (8 * ((done + i) & 7)));
            shadow->set(key, p[i]);
        }
    }
}

void Core::invalidate_direct_mem_ptr(sc_dt::uint64, sc_dt::uint64) {
    for (auto& s : dmi_)
        s = DmiSlot{};
}

void Core::registerStats(Stats& stats, const std::string& prefix) const {
    stats.counter(prefix + ".instructions", &instructions_);
    stats.derived(prefix + ".cycles", [this] { return cycles(); });
    stats.derived(prefix + ".cpi", [this] {
        return instructions_ ? static_cast<double>(cycles()) / static_cast<double>(instructions_)
                             : 0.0;
    });
    stats.counter(prefix + ".cpi_stack.base", &base_);
    stats.counter(prefix + ".cpi_stack.tlb", &tlb_);
    stats.counter(prefix + ".cpi_stack.walk", &walk_);
    stats.counter(prefix + ".cpi_stack.fault", &fault_);
    stats.counter(prefix + ".cpi_stack.data", &data_);
    stats.counter(prefix + ".cpi_stack.os", &os_cycles_);
    stats.counter(prefix + ".context_switches", &switches_);
    stats.counter(prefix + ".translations", &translations_);
    stats.counter(prefix + ".page_crossings", &page_crossings_);
    stats.counter(prefix + ".loads", &loads_);
    stats.counter(prefix + ".stores", &stores_);
    stats.counter(prefix + ".data_errors", &data_errors_);
    for (unsigned k = 1; k < faults_.size(); ++k)
        stats.counter(prefix + ".faults." + toString(static_cast<FaultKind>(k)), &faults_[k]);
    stats.histogram(prefix + ".fault_latency", &fault_latency_);
}

} // namespace tlmmu
