#include "core/Core.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include "hal.h"

namespace tlmmu {

namespace {
std::uint64_t ipiFlowKey(std::uint64_t initiator, std::uint64_t target, std::uint64_t seq) {
    return initiator << 56 | target << 48 | (seq & 0xffffffffffffu);
}
} // namespace

Core::Core(sc_core::sc_module_name name, const CoreConfig& config, const Clock& clock,
           OperatingSystem& os)
    : sc_module(name), translate_socket("translate_socket"), data_socket("data_socket"),
      config_(config), os_(os), time_(clock), hal_(data_socket, translate_socket, time_, config.id),
      base_whole_(static_cast<std::uint64_t>(std::llround(config.base_cpi * 1e6)) / 1000000),
      base_micro_(static_cast<std::uint64_t>(std::llround(config.base_cpi * 1e6)) % 1000000) {
    data_socket.register_invalidate_direct_mem_ptr(this, &Core::invalidate_direct_mem_ptr);
    translation_.set_extension(&ext_);
    translation_.set_command(tlm::TLM_IGNORE_COMMAND);
    cache_trans_.set_extension(&cache_kind_);
    cache_trans_.set_command(tlm::TLM_IGNORE_COMMAND);
    ext_.core_id = config.id;
    hal_.setInterruptEntry([this] { return interruptEntry(); });
    hal_.setOsHook([this](HostHal::OsNotice notice, int id) {
        if (notice == HostHal::OsNotice::TaskRunnable)
            os_.taskRunnable(config_.id, id);
        else
            os_.mmReleased(config_.id, id);
    });
    hal_.setSleep([this](const sc_core::sc_time& max, const sc_core::sc_event& wake) {
        if (!interruptDue()) wait(max, wake | irq_event_);
        LocalTime::checkRunning();
    });
    hal_.setTraceHook([this](unsigned event, std::uint64_t arg, std::uint64_t now) {
        if (event == HAL_TRACE_SHOOTDOWN_BEGIN) shootdown_start_ = now;
        if (event == HAL_TRACE_SHOOTDOWN_END) {
            shootdown_latency_.add(now - shootdown_start_);
            if (timeline_)
                timeline_->slice(config_.id, "shootdown",
                                 time_.clock().cycles(shootdown_start_).value(),
                                 time_.clock().cycles(now).value(), {{"targets", arg}});
        }
        if (event == HAL_TRACE_IPI_HANDLER_BEGIN)
            handler_start_ps_ = time_.clock().cycles(now).value();
        if (event == HAL_TRACE_IPI_HANDLER_END && timeline_)
            timeline_->slice(config_.id, "shootdown handler", handler_start_ps_,
                             time_.clock().cycles(now).value(), {{"requests", arg}});
        // An arrow from each IPI send to the handler that serves its request, by (initiator,
        // target, sequence number).
        if (event == HAL_TRACE_IPI_SEND && timeline_)
            timeline_->flowBegin(ipiFlowKey(config_.id, arg & 0xff, arg >> 8), config_.id,
                                 time_.clock().cycles(now).value());
        if (event == HAL_TRACE_IPI_SERVE && timeline_)
            timeline_->flowEnd(ipiFlowKey(static_cast<unsigned>(arg & 0xff), config_.id, arg >> 8),
                               config_.id, time_.clock().cycles(now).value(), "ipi");
        if (event == HAL_TRACE_FRAME_FREE && checker_) {
            const std::uint64_t low = (std::uint64_t{1} << config_.page_shift) - 1;
            checker_->frameFreed(arg & ~low, static_cast<unsigned>(arg & low),
                                 time_.clock().cycles(now).value());
        }
    });
    SC_THREAD(run);
    // The firmware runs on this thread's stack (the default of a SystemC thread is small).
    set_stack_size(4 << 20);
}

// The payload would delete its extensions; ext_ is a member, not heap-allocated.
Core::~Core() {
    translation_.clear_extension(&ext_);
    cache_trans_.clear_extension(&cache_kind_);
}

void Core::account(std::uint64_t& category, std::uint64_t cycles) {
    category += cycles;
    cycles_ += cycles;
    if (running_) running_->cycles += cycles;
}

// Runs firmware with time (it advances the core's local time itself); what it takes is
// accounted to `category`, but for its waits on other cores (shootdown) and the interrupt
// handlers it took meanwhile (ipi).
template <class Fn> std::uint64_t Core::timedFirmware(std::uint64_t& category, Fn&& fn) {
    const std::uint64_t cycles = hal_.run(std::forward<Fn>(fn), true);
    const auto [wait, irq] = hal_.takeWaitAndIrqCycles();
    account(category, cycles - wait - irq);
    if (wait) account(shootdown_, wait);
    if (irq) account(ipi_, irq);
    // Back in user code only within the quantum: the firmware may have run far ahead (a long
    // fault), and what other cores did meanwhile (an invalidation of this TLB) must land first,
    // not in this core's past, before the retried access or the next instruction uses the TLB.
    if (time_.needSync()) time_.sync();
    return cycles;
}

std::uint64_t Core::nowPs() const {
    return time_.now().value();
}

void Core::raise(const sc_core::sc_time& at) {
    if (timeline_) timeline_->instant(config_.id, "irq", at.value());
    if (!irq_pending_ || at < irq_at_) irq_at_ = at;
    irq_pending_ = true;
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    irq_event_.notify(at > now ? at - now : sc_core::SC_ZERO_TIME);
}

std::uint64_t Core::interruptEntry() {
    if (!irq_pending_ || sc_core::sc_time_stamp() + hal_.delay() < irq_at_) return 0;
    irq_pending_ = false;
    irq_at_ = sc_core::sc_max_time();
    ++interrupts_;
    const std::uint64_t start = hal_.nowCycles();
    const bool was = hal_.irqEnable(false);
    os_.interrupt(config_.id);
    hal_.irqEnable(was);
    const std::uint64_t end = hal_.nowCycles();
    if (timeline_)
        timeline_->slice(config_.id, "interrupt", time_.clock().cycles(start).value(),
                         time_.clock().cycles(end).value());
    return end - start;
}

void Core::takeInterrupt() {
    timedFirmware(ipi_, [this] { interruptEntry(); });
}

void Core::run() {
    try {
        // Creating the initial tasks and prefaulting are boot work: untimed.
        hal_.run([&] { os_.boot(config_.id); }, false);
        // Every core boots before any runs: boot work is untimed and may not wait for a core
        // that already runs (one delta cycle, no simulated time).
        wait(sc_core::SC_ZERO_TIME);
        time_.reset();
        while (!config_.max_instructions || instructions_ < config_.max_instructions) {
            OperatingSystem::Dispatch next;
            const std::uint64_t cycles = hal_.run([&] { next = os_.schedule(config_.id); }, true);
            // A switch is paid by the task switched to.
            if (next.task && next.task != running_) {
                if (timeline_)
                    timeline_->instant(
                        config_.id, "switch to " + next.task->name, nowPs(),
                        {{"from", running_ ? running_->name : ""}, {"cycles", cycles}});
                ++switches_, running_ = next.task;
            }
            account(os_cycles_, cycles);
            if (!next.task) {
                if (os_.finished(config_.id)) break;
                time_.sync();
                // A fork on another core, or an interrupt (this core's TLB may still hold
                // translations that others shoot down).
                if (!interruptDue()) wait(os_.runnable(config_.id) | irq_event_);
                if (interruptDue()) takeInterrupt();
                continue;
            }
            time_.limitQuantum(next.quantum_cycles);
            runTask(*next.task, next.slice_cycles);
        }
        time_.sync(); // simulated time reaches this core's last cycle
        if (timeline_) {
            // The last interval's count, and where the count falls back to 0.
            sampleWalks(nowPs());
            drawWalks(walk_interval_, walks_in_interval_);
            if (walks_in_interval_) drawWalks(walk_interval_ + 1, 0);
            if (memory_lines_) {
                sampleMemoryLines();
                sampleMemoryLines(); // and none from here on
            }
        }
        // Idle from now on, but still a core: it takes the interrupts other cores send it
        // (its TLB may hold translations they shoot down). A thread that waits for an event
        // nobody notifies does not keep the simulation going.
        for (;;) {
            if (!interruptDue()) wait(irq_event_);
            if (interruptDue()) takeInterrupt();
            time_.sync();
        }
    } catch (const InputError& e) {
        error_ = e.what();
    } catch (const FirmwarePanic& e) {
        error_ = std::string(name()) + ": firmware panic: " + e.what();
    } catch (const std::runtime_error& e) {
        error_ = std::string(name()) + ": " + e.what();
    } catch (const RunStopped&) {
        return; // another core failed: its error is the run's
    }
    // The run has failed: stop the other cores. They would otherwise go on without this one,
    // waiting for its acknowledgements or for a lock it holds, for a very long simulated time.
    if (!error_.empty()) LocalTime::stopAll();
}

void Core::runTask(Task& task, std::uint64_t slice_cycles) {
    const std::uint64_t slice_end = slice_cycles ? cycles_ + slice_cycles : ~std::uint64_t{0};
    Instruction insn;
    while (task.state == Task::State::Runnable &&
           (!config_.max_instructions || instructions_ < config_.max_instructions)) {
        if (task.instructions >= task.os_stop) {
            // (The OS draws each event it runs on the timeline.)
            timedFirmware(os_cycles_, [&] { os_.atInstruction(task); });
            if (task.state != Task::State::Runnable) break;
        }
        if (!task.workload->next(insn)) {
            // The stream is over: the OS tears the task down (it may have to wait for other
            // cores, e.g. for an address space's lock), in time like any OS work.
            timedFirmware(os_cycles_, [&] { os_.exit(task); });
            break;
        }
        execute(task, insn);
        if (irq_pending_ && interruptDue()) {
            takeInterrupt();
            if (task.state == Task::State::Runnable)
                timedFirmware(os_cycles_, [&] { os_.returnToUser(task); });
            if (task.state != Task::State::Runnable) break;
        }
        if (time_.needSync()) {
            if (timeline_ && memory_lines_) sampleMemoryLines();
            time_.sync();
        }
        if (cycles_ >= slice_end) break;
    }
}

void Core::execute(Task& task, const Instruction& insn) {
    if (insn.size) {
        ++instructions_;
        ++task.instructions;
        std::uint64_t base = base_whole_;
        base_micro_acc_ += base_micro_;
        if (base_micro_acc_ >= 1000000) base_micro_acc_ -= 1000000, ++base;
        charge(base_, base);
        if (!access(task, insn.pc, insn.size, AccessType::Execute, nullptr)) return;
    }
    for (unsigned i = 0; i < insn.num_refs; ++i) {
        const DataRef& ref = insn.refs[i];
        const AccessType a = ref.kind == RefKind::Load ? AccessType::Read : AccessType::Write;
        if (!access(task, ref.addr, ref.size, a, &ref)) return;
    }
}

// Every base page the reference touches is translated, in address order, and its bytes moved
// before the next page is translated (so a fault on a later page cannot leave an earlier
// page's translation stale).
bool Core::access(Task& task, Addr va, std::uint32_t size, AccessType access, const DataRef* ref) {
    if (size > 1 && va + (size - 1) < va) {
        std::ostringstream msg;
        msg << task.workload->describe() << ": a " << size << "-byte reference at VA 0x" << std::hex
            << va << " wraps past the top of the address space";
        throw InputError(msg.str());
    }
    const Addr page = Addr{1} << config_.page_shift;
    Addr pa = 0;
    if (!translate(task, va, access, pa)) return false;
    std::uint32_t n =
        static_cast<std::uint32_t>(std::min<std::uint64_t>(size, page - (va & (page - 1))));
    if (ref) {
        if (ref->kind == RefKind::Load)
            ++loads_;
        else
            ++stores_;
        if (config_.cached_data)
            timeData(*ref, pa, n);
        else if (config_.data_latency_cycles)
            charge(data_, config_.data_latency_cycles);
        ++store_value_; // a store writes a value that changes with every store
        moveData(task, *ref, va, pa, n, 0);
    } else if (config_.cached_fetch && access == AccessType::Execute) {
        timeFetch(pa, n);
    }
    if (n >= size) return true;
    ++page_crossings_;
    for (std::uint32_t done = n; done < size; done += n) {
        const Addr at = va + done;
        if (!translate(task, at, access, pa)) return false;
        n = static_cast<std::uint32_t>(std::min<std::uint64_t>(size - done, page));
        if (ref) {
            if (config_.cached_data) timeData(*ref, pa, n);
            moveData(task, *ref, at, pa, n, done);
        } else if (config_.cached_fetch && access == AccessType::Execute) {
            timeFetch(pa, n);
        }
    }
    return true;
}

void Core::timeData(const DataRef& ref, Addr pa, std::uint32_t n) {
    charge(data_,
           cacheCycles(ref.kind == RefKind::Load ? CacheAccessKind::Load : CacheAccessKind::Store,
                       pa, n));
}

// One L1I access per line the fetches enter (the fetch unit reads whole lines): a fetch within
// the line the previous one ended in costs nothing more.
void Core::timeFetch(Addr pa, std::uint32_t n) {
    const Addr first = pa >> config_.line_shift, last = (pa + n - 1) >> config_.line_shift;
    if (first != fetch_line_ || last != first)
        charge(data_, cacheCycles(CacheAccessKind::Fetch, pa, n));
    fetch_line_ = last;
}

std::uint64_t Core::cacheCycles(CacheAccessKind kind, Addr pa, std::uint32_t n) {
    cache_kind_.kind = kind;
    cache_trans_.set_address(pa);
    cache_trans_.set_data_length(n);
    cache_trans_.set_streaming_width(n);
    cache_trans_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    data_socket->b_transport(cache_trans_, delay);
    const std::uint64_t cycles = time_.clock().toCycles(delay);
    const unsigned hidden =
        kind == CacheAccessKind::Fetch ? config_.l1i_hit_cycles : config_.l1d_hit_cycles;
    return cycles > hidden ? cycles - hidden : 0;
}

void Core::checkGranted(Task& task, Addr va, Addr pa, AccessType access, unsigned level) {
    checker_->access(config_.id, task.pid, va, pa, config_.page_shift + level * config_.index_bits,
                     access, time_.now().value());
}

// A translation the Mmu's grant does not cover: through the Mmu, and the OS on a fault.
bool Core::translateThroughMmu(Task& task, Addr va, AccessType access, Addr& pa) {
    ext_.va = va;
    ext_.access = access;
    ext_.priv = Privilege::User;
    ext_.op = TranslationExtension::Op::Translate;
    TranslationGrant& granted = grants_[access == AccessType::Execute ? 0 : 1];
    for (unsigned attempt = 0;; ++attempt) {
        ++translations_;
        sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
        translate_socket->b_transport(translation_, delay);
        granted = ext_.grant;
        // The Mmu reports its latency in cycles too (delay == tlb + walk cycles).
        if (ext_.tlb_cycles) charge(tlb_, ext_.tlb_cycles);
        const std::uint64_t walk_begin = timeline_ ? nowPs() : 0;
        if (ext_.walk_cycles) charge(walk_, ext_.walk_cycles);
        if (timeline_ && ext_.walked) {
            countWalk(walk_begin);
            if (timeline_->windowed()) {
                nlohmann::json levels = nlohmann::json::array();
                for (unsigned i = ext_.walk_reads; i > 0; --i)
                    levels.push_back(ext_.walk_level + i - 1);
                nlohmann::json args = {{"va", va},
                                       {"levels_read", std::move(levels)},
                                       {"pte_writes", ext_.walk_writes},
                                       {"latency_cycles", ext_.walk_cycles}};
                if (ext_.fault != FaultKind::None) args["fault"] = toString(ext_.fault);
                timeline_->slice(config_.id, "walk", walk_begin, nowPs(), std::move(args));
            }
        }
        if (ext_.fault == FaultKind::None) {
            pa = ext_.pa;
            if (checker_) {
                // A walk, or the retry after a trap that refilled the TLB in software.
                const unsigned shift = config_.page_shift + ext_.level * config_.index_bits;
                if (ext_.walked || attempt > 0) checker_->filled(config_.id, task.pid, va, shift);
                checker_->access(config_.id, task.pid, va, pa, shift, access, time_.now().value());
            }
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
        const std::uint64_t begin = timeline_ ? nowPs() : 0;
        const std::uint64_t cycles =
            timedFirmware(fault_, [&] { outcome = os_.fault(task, va, access, kind); });
        if (timeline_)
            timeline_->slice(config_.id, std::string("fault ") + toString(kind), begin, nowPs(),
                             {{"va", va}, {"task", task.name}});
        fault_latency_.add(cycles);
        task.fault_cycles += cycles;
        if (outcome.killed) {
            std::ostringstream msg;
            msg << "process " << task.name << " killed: " << outcome.report << " ("
                << toString(kind) << " fault on " << toString(access) << " at VA 0x" << std::hex
                << va << ")";
            // (The OS words it itself when the task only ended with its killed process.)
            if (task.kill_report.empty()) task.kill_report = msg.str();
            return false;
        }
    }
}

void Core::countWalk(std::uint64_t at_ps) {
    sampleWalks(at_ps);
    ++walks_in_interval_;
}

void Core::sampleWalks(std::uint64_t at_ps) {
    const std::uint64_t interval = at_ps / kWalkSamplePs;
    if (interval <= walk_interval_) return;
    drawWalks(walk_interval_, walks_in_interval_);
    if (interval > walk_interval_ + 1) drawWalks(walk_interval_ + 1, 0); // none in between
    walk_interval_ = interval;
    walks_in_interval_ = 0;
}

void Core::sampleMemoryLines() {
    const std::uint64_t n = *memory_lines_ - memory_lines_seen_;
    if (!llc_sampled_ || n != llc_sample_)
        if (timeline_->counter(config_.id, "LLC misses", quantum_start_ps_, static_cast<double>(n)))
            llc_sampled_ = true, llc_sample_ = n;
    memory_lines_seen_ = *memory_lines_;
    quantum_start_ps_ = nowPs();
}

void Core::drawWalks(std::uint64_t interval, std::uint64_t walks) {
    if (walk_sampled_ && walks == walk_sample_) return;
    if (timeline_->counter(config_.id, "page walks", interval * kWalkSamplePs,
                           static_cast<double>(walks)))
        walk_sampled_ = true, walk_sample_ = walks;
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

// Moves n bytes of `ref` (those from byte `done` on) at VA va / PA pa, all in one base page:
// loads read memory, stores write the store value's bytes (byte i of a reference is byte i%8
// of the value, little-endian).
void Core::moveData(Task& task, const DataRef& ref, Addr va, Addr pa, std::uint32_t n,
                    std::uint32_t done) {
    while (n > 0) {
        const std::uint32_t m = static_cast<std::uint32_t>(
            std::min<std::uint64_t>(n, 0x1000 - (pa & 0xfff))); // within one DMI page
        std::uint8_t* host = dmiPage(pa);
        if (!host) {
            std::ostringstream msg;
            msg << "data access of process " << task.name << " at VA 0x" << std::hex << va
                << " reached PA 0x" << pa << ", where there is no memory";
            throw std::runtime_error(msg.str());
        }
        std::uint8_t* p = host + (pa & 0xfff);
        if (task.checked.active()) {
            task.checked.access(ref.kind, va, p, m, done, store_value_, task.instructions);
        } else if (done == 0 && m <= 8) {
            // The common case, one word: the same bytes as the loop below, at memcpy speed.
            std::uint64_t v = 0;
            if (ref.kind != RefKind::Store)
                std::memcpy(&v, p, m), load_xor_ ^= static_cast<std::uint8_t>(v ^ (v >> 32));
            if (ref.kind != RefKind::Load) std::memcpy(p, &store_value_, m);
        } else {
            for (std::uint32_t i = 0; i < m; ++i) {
                if (ref.kind != RefKind::Store) load_xor_ ^= p[i];
                if (ref.kind != RefKind::Load)
                    p[i] = static_cast<std::uint8_t>(store_value_ >> (8 * ((done + i) & 7)));
            }
        }
        n -= m, done += m, va += m, pa += m;
    }
}

void Core::invalidate_direct_mem_ptr(sc_dt::uint64, sc_dt::uint64) {
    for (auto& s : dmi_)
        s = DmiSlot{};
}

void Core::registerStats(Stats& stats, const std::string& prefix) const {
    stats.counter(prefix + ".instructions", &instructions_,
                  {"instructions", "instructions this core retired"});
    stats.derived(prefix + ".cycles", [this] { return cycles(); },
                  {"cycles", "this core's cycles: the sum of its CPI stack"});
    stats.derived(prefix + ".cpi",
                  [this] {
                      return instructions_ ? static_cast<double>(cycles()) /
                                                 static_cast<double>(instructions_)
                                           : 0.0;
                  },
                  {"cycles/instruction", "cycles per retired instruction", false});
    stats.counter(prefix + ".cpi_stack.base", &base_,
                  {"cycles", "the base CPI of the instructions retired"});
    stats.counter(prefix + ".cpi_stack.tlb", &tlb_,
                  {"cycles", "TLB lookups (L1 and L2 latencies)"});
    stats.counter(prefix + ".cpi_stack.walk", &walk_,
                  {"cycles", "page walks (hardware, or the software refill handler)"});
    stats.counter(prefix + ".cpi_stack.fault", &fault_,
                  {"cycles", "page-fault handling in the firmware"});
    stats.counter(prefix + ".cpi_stack.data", &data_,
                  {"cycles", "data-access latency: core.data_latency_cycles each, or (cache.data) "
                             "what data references and, with an L1I, fetches waited on the "
                             "caches beyond an L1 hit"});
    stats.counter(
        prefix + ".cpi_stack.os", &os_cycles_,
        {"cycles", "context switches and system calls (fork, map, unmap, protect, exit)"});
    stats.counter(prefix + ".cpi_stack.shootdown", &shootdown_,
                  {"cycles", "firmware waiting on other cores: locks, acknowledgements"});
    stats.counter(prefix + ".cpi_stack.ipi", &ipi_, {"cycles", "interrupt handlers"});
    stats.counter(prefix + ".interrupts", &interrupts_, {"interrupts", "interrupts taken"});
    stats.counter(prefix + ".context_switches", &switches_,
                  {"switches", "context switches on this core"});
    stats.counter(
        prefix + ".translations", &translations_,
        {"translations", "translations asked of the MMU (one per page an access touches)"});
    stats.counter(prefix + ".page_crossings", &page_crossings_,
                  {"accesses", "accesses that straddle a page boundary"});
    stats.counter(prefix + ".loads", &loads_, {"loads", "data loads"});
    stats.counter(prefix + ".stores", &stores_, {"stores", "data stores"});
    for (unsigned k = 1; k < faults_.size(); ++k)
        stats.counter(prefix + ".faults." + toString(static_cast<FaultKind>(k)), &faults_[k],
                      {"faults", "faults of this kind taken on this core"});
    stats.histogram(prefix + ".fault_latency", &fault_latency_,
                    {"cycles", "from the faulting access to its retry"});
    stats.histogram(
        prefix + ".shootdown_latency", &shootdown_latency_,
        {"cycles",
         "shootdowns this core initiated: from the first change to the last acknowledgement"});
}

} // namespace tlmmu
