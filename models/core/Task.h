// A task as the cores see it: its instruction stream, how far it got, where the OS wants control
// back, and its statistics. The OS (testbench/) owns tasks and their policy data; the firmware
// knows a task by tid and its address space by pid.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "checker/DataChecker.h"
#include "common/Types.h"
#include "workload/Workload.h"

namespace tlmmu {

struct Task {
    enum class State : std::uint8_t { Pending, Runnable, Done };

    std::string name;
    unsigned core = 0;
    int pid = 0; // the firmware's address space
    int tid = 0; // the firmware's task
    State state = State::Pending;
    std::unique_ptr<Workload> workload;
    // The core hands control to the OS (OperatingSystem::atInstruction) once the task has run
    // this many instructions.
    std::uint64_t os_stop = std::numeric_limits<std::uint64_t>::max();

    // Checked mode (models/checker): stores write known values, loads are compared.
    CheckedView checked;

    std::uint64_t instructions = 0;
    std::uint64_t cycles = 0; // core cycles spent on it (its instructions, faults, switches in)
    std::array<std::uint64_t, kFaultKinds> faults{}; // by FaultKind
    std::uint64_t fault_cycles = 0;
    std::string kill_report; // non-empty: killed by an illegal access
    // Scenario events (system calls) that failed with an error the program would see, the
    // task running on (an mprotect of a range no longer mapped: ENOMEM), and the first in words.
    std::uint64_t failed_events = 0;
    std::string first_failed_event;
};

} // namespace tlmmu
