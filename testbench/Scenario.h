// A scenario: the processes of a run, their VMAs, workloads, cores and events (fork, map, unmap,
// protect, exit at instruction counts), and shared-memory objects. Read from YAML and checked
// whole before the run: every error names the file, line and the entry's path.
//
//   shared:
//     - {name: buf, size: 64KiB}
//   processes:
//     - name: parent
//       core: 0
//       vmas:
//         - {start: 0x400000, size: 64KiB, prot: rx}
//         - {start: 0x10000000, size: 4MiB, prot: rw}
//         - {start: 0x7ff00000, size: 1MiB, prot: rw, kind: stack}   # guard page below
//         - {start: 0x20000000, size: 64KiB, prot: rw, shared: buf}
//         - {start: 0x40000000, size: 8MiB, prot: rw, page_size: 2MiB}      # huge pages
//       workload: {pattern: random, footprint: 4MiB, instructions: 100000}  # or format: lackey,
//       trace: F events:
//         - {at: 50000, fork: child}
//         - {at: 60000, protect: {start: 0x10000000, size: 4KiB, prot: r}}
//         - {at: 70000, discard: {start: 0x10000000, size: 64KiB}}      # madvise(DONTNEED)
//         - {at: 90000, exit: true}
//     - name: child            # created by parent's fork: no vmas of its own (it inherits them)
//       core: 1
//       forked_from: parent
//       workload: {...}
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mmu/PteFormat.h"
#include "workload/SyntheticWorkload.h"

namespace tlmmu {

// What a task does at an instruction count (OS work, in firmware time).
struct TaskEvent {
    enum class Kind : std::uint8_t { Fork, Map, Unmap, Protect, Discard, Exit };
    std::uint64_t at = 0; // after this many of the task's instructions
    Kind kind = Kind::Exit;
    int child = -1; // Fork: index of the forked process
    Addr start = 0; // Map, Unmap, Protect, Discard
    std::uint64_t size = 0;
    unsigned prot = 0;       // FW_PROT_* (Map, Protect)
    int vma_kind = 0;        // fw_vma_kind (Map)
    unsigned page_level = 0; // Map: level of its pages (0 = base pages)
};

struct ScenarioVma {
    Addr start = 0;
    std::uint64_t size = 0;
    unsigned prot = 0;       // FW_PROT_*
    int kind = 0;            // fw_vma_kind
    int shm = -1;            // index into Scenario::shared
    unsigned page_level = 0; // level of its pages (0 = base pages; page_size: in the file)
};

// A workload: the workload.* keys of the key table (KeyTable.h) land here, for the run and
// for each thread of a scenario.
struct WorkloadSpec {
    std::string format; // synthetic|lackey|binary|champsim
    std::string trace;
    bool checked = false; // stores write known values, loads are verified (Core)
    SyntheticParams synthetic;
};

// One thread of a process: its core, instruction stream and events.
struct ScenarioThread {
    unsigned core = 0;
    WorkloadSpec workload;
    std::vector<TaskEvent> events; // in instruction order (repeats expanded)
};

struct ScenarioProcess {
    std::string name;
    std::string forked_from; // empty: created at start
    std::vector<ScenarioVma> vmas;
    // At least one; all share the address space. A process written without `threads` is one
    // thread (core, workload, events at process level). A forked process has one thread.
    std::vector<ScenarioThread> threads;
};

struct ScenarioShared {
    std::string name;
    std::uint64_t size = 0;
};

struct Scenario {
    std::vector<ScenarioShared> shared;
    std::vector<ScenarioProcess> processes;
    // Workload keys the file sets where they can have no effect ("FILE:LINE: key has no
    // effect: why"), for the configuration's warning.
    std::vector<std::string> ineffective;

    // VMAs must be aligned to their page size (a base page of `format` unless they say
    // page_size) and lie in the format's canonical virtual address space; cores: how many
    // exist. Throws InputError "FILE:LINE: entry: what", for every limit of the firmware too
    // (FW_MAX_* in firmware/kernel/mm.h; docs/errors.md lists them).
    static Scenario fromFile(const std::string& path, unsigned cores, const PteFormat& format,
                             std::uint64_t seed);
    // The same from YAML text; `file` names it in messages and anchors relative trace paths.
    // open_traces false: trace paths are not opened (the fuzz target checks text only).
    static Scenario fromText(const std::string& text, const std::string& file, unsigned cores,
                             const PteFormat& format, std::uint64_t seed,
                             bool open_traces = true);
    // The workload of thread t of process i (opens its trace).
    std::unique_ptr<Workload> makeWorkload(std::size_t i, std::size_t t) const;
};

} // namespace tlmmu
