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
//       workload: {pattern: random, footprint: 4MiB, instructions: 100000}  # or format: lackey,
//       trace: F events:
//         - {at: 50000, fork: child}
//         - {at: 60000, protect: {start: 0x10000000, size: 4KiB, prot: r}}
//         - {at: 90000, exit: true}
//     - name: child            # created by parent's fork: no vmas of its own (it inherits them)
//       core: 1
//       forked_from: parent
//       workload: {...}
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/Task.h"
#include "mmu/PteFormat.h"
#include "workload/SyntheticWorkload.h"

namespace tlmmu {

struct ScenarioVma {
    Addr start = 0;
    std::uint64_t size = 0;
    unsigned prot = 0; // FW_PROT_*
    int kind = 0;      // fw_vma_kind
    int shm = -1;      // index into Scenario::shared
};

struct ScenarioProcess {
    std::string name;
    unsigned core = 0;
    std::string forked_from; // empty: created at start
    std::vector<ScenarioVma> vmas;
    std::string workload_format = "synthetic"; // synthetic|lackey|binary
    std::string trace;
    SyntheticParams synthetic;
    bool checked = false;          // stores write known values, loads are verified (Core)
    std::vector<TaskEvent> events; // child pointers filled by the platform (child_index)
    std::vector<int> event_child;  // per event: index of the forked process, or -1
};

struct ScenarioShared {
    std::string name;
    std::uint64_t size = 0;
};

struct Scenario {
    std::vector<ScenarioShared> shared;
    std::vector<ScenarioProcess> processes;

    // page_size: the base page (VMAs must be aligned to it); cores: how many exist. format:
    // when given, VMAs and event ranges must lie in its canonical virtual address space.
    // Throws InputError "FILE:LINE: entry: what", for every limit of the firmware too
    // (FW_MAX_* in firmware/kernel/mm.h; docs/errors.md lists them).
    static Scenario fromFile(const std::string& path, unsigned cores, std::uint64_t page_size,
                             std::uint64_t seed, const PteFormat* format = nullptr);
    // The same from YAML text; `file` names it in messages and anchors relative trace paths.
    // open_traces false: trace paths are not opened (the fuzz target checks text only).
    static Scenario fromText(const std::string& text, const std::string& file, unsigned cores,
                             std::uint64_t page_size, std::uint64_t seed,
                             const PteFormat* format = nullptr, bool open_traces = true);
    // The workload of process i (opens its trace).
    std::unique_ptr<Workload> makeWorkload(std::size_t i) const;
};

} // namespace tlmmu
