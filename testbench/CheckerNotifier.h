// What the checkers are told when a change of an address space completes: the SafetyChecker
// (models/checker) which rights it took away since the change began, and checked mode's data
// shadows which ranges no longer hold what was stored. Without a SafetyChecker only the shadows
// follow.
#pragma once

#include <cstdint>

#include "TaskTable.h"
#include "checker/SafetyChecker.h"

extern "C" {
#include "kernel/mm.h"
}

namespace tlmmu {

class CheckerNotifier {
  public:
    CheckerNotifier(SafetyChecker* checker, const TaskTable& tasks)
        : checker_(checker), tasks_(tasks) {}

    // A change begins: the mark its completion passes on (0 without a SafetyChecker).
    std::uint64_t begin() { return checker_ ? checker_->begin() : 0; }
    // The range is gone for every thread of t's address space.
    void unmapped(const OsTask& t, Addr start, std::uint64_t size, std::uint64_t since);
    // The range keeps only `prot`.
    void protectedTo(const OsTask& t, Addr start, std::uint64_t size, unsigned prot,
                     std::uint64_t since);
    // A discard (madvise DONTNEED) of the range begins; it ends (rc: the call's result), and
    // the range's pages read as zero again (meanwhile other threads may see either).
    void discarding(OsTask& t, Addr start, std::uint64_t size);
    void discarded(OsTask& t, Addr start, std::uint64_t size, std::uint64_t since, int rc);
    // parent's fork created child: the child sees what the parent wrote before the fork, and
    // the parent's private writable pages are copy-on-write now.
    void forked(fw_kernel* k, const OsTask& parent, OsTask& child, std::uint64_t since);

  private:
    SafetyChecker* checker_;
    const TaskTable& tasks_;
};

} // namespace tlmmu
