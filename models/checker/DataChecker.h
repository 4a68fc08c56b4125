// Checked mode: stores write values salted per process, and every load is compared with a shadow
// of what that process should see (one shadow per address space; a forked child starts from a
// copy of its parent's; a shared-memory object has one shadow for all its mappers, indexed by
// offset). A load that returns anything else is a failure of the model. Plain C++: the core
// hands it the bytes it moved.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "checker/DataShadow.h"
#include "common/Types.h"
#include "workload/Workload.h"

namespace tlmmu {

struct CheckedView {
    bool enabled = false; // this task's loads are checked (workload `checked`)
    // Its stores are written known values and recorded, checked or not: in a run with checked
    // tasks every task records, so that a checked thread (or a sharer, or a forked child) reads
    // what an unchecked one of the same memory wrote.
    bool records = false;
    std::uint32_t salt = 0; // makes this process's stored values its own
    std::shared_ptr<DataShadow> shadow;
    struct SharedWindow {
        Addr start;
        std::uint64_t size;
        std::uint64_t offset;               // in the object, of start
        std::shared_ptr<DataShadow> shadow; // the object's, indexed by offset
    };
    std::vector<SharedWindow> shared;

    // The core hands it the bytes of this task's data accesses.
    bool active() const { return (enabled || records) && shadow != nullptr; }
    std::uint64_t checks = 0, mismatches = 0;
    std::string first_mismatch;

    // n bytes at host pointer p are the bytes of VA va; `done` bytes of the reference came
    // before (they select the byte lane of store_value); instructions: for the report.
    void access(RefKind kind, Addr va, std::uint8_t* p, std::uint64_t n, std::uint32_t done,
                std::uint64_t store_value, std::uint64_t instructions);
    // A discard of the range begins, and ends (done: it succeeded): its private pages read as
    // zero when touched again (a shared VMA's read the object's again); meanwhile the other
    // threads may see either (DataShadow).
    void discarding(Addr start, std::uint64_t size);
    void discarded(Addr start, std::uint64_t size, bool done);
    // The range's private bytes read as zero from now on.
    void forget(Addr start, std::uint64_t size);
    // The range was unmapped: as forget, and no shared object is mapped there any more (what is
    // mapped there later is private, zero-filled).
    void unmapped(Addr start, std::uint64_t size);
};

} // namespace tlmmu
