// A process as the cores see it: its instruction stream, its position, the scenario's events
// at instruction counts, and its statistics. The firmware knows it by pid.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "common/Types.h"
#include "core/DataShadow.h"
#include "workload/Workload.h"

namespace tlmmu {

class Core;
struct Task;

struct TaskEvent {
    enum class Kind : std::uint8_t { Fork, Map, Unmap, Protect, Exit };
    std::uint64_t at = 0; // after this many of the task's instructions
    Kind kind = Kind::Exit;
    Task* child = nullptr; // Fork
    Addr start = 0;        // Map, Unmap, Protect
    std::uint64_t size = 0;
    unsigned prot = 0; // FW_PROT_* (Map, Protect)
    int vma_kind = 0;  // fw_vma_kind (Map)
    int shm = -1;      // shared-memory object index (Map of a shared VMA)
};

struct Task {
    enum class State : std::uint8_t { Pending, Runnable, Done };

    std::string name;
    unsigned core = 0;
    Core* home = nullptr;
    int pid = 0; // firmware's id once created
    State state = State::Pending;
    std::unique_ptr<Workload> workload;
    std::vector<TaskEvent> events; // sorted by `at`
    std::size_t next_event = 0;
    Task* parent = nullptr; // the task whose Fork event creates this one (null: created at start)

    // Checked mode: stores write known values, every load is compared with the shadow.
    bool checked = false;
    std::uint32_t salt = 0; // makes this task's stored values its own
    std::shared_ptr<DataShadow> shadow;
    struct SharedWindow {
        Addr start;
        std::uint64_t size;
        std::shared_ptr<DataShadow> shadow; // the object's, indexed by offset
    };
    std::vector<SharedWindow> shared;
    std::uint64_t data_checks = 0, data_mismatches = 0;
    std::string first_mismatch;

    std::uint64_t instructions = 0;
    std::uint64_t cycles = 0; // core cycles spent on it (its instructions, faults, switches in)
    std::array<std::uint64_t, kFaultKinds> faults{}; // by FaultKind
    std::uint64_t fault_cycles = 0;
    std::string kill_report; // non-empty: killed by an illegal access
};

} // namespace tlmmu
