#include "CheckerNotifier.h"

#include <memory>

namespace tlmmu {

void CheckerNotifier::unmapped(const OsTask& t, Addr start, std::uint64_t size,
                               std::uint64_t since) {
    // Every thread of the address space sees the range gone (their views of shared objects are
    // their own copies; the private shadow is one).
    for (OsTask* other : tasks_.ofProcess(t.process))
        other->checked.unmapped(start, size);
    if (checker_) checker_->revoked(t.pid, start, start + size, 0, since);
}

void CheckerNotifier::protectedTo(const OsTask& t, Addr start, std::uint64_t size, unsigned prot,
                                  std::uint64_t since) {
    if (checker_) checker_->revoked(t.pid, start, start + size, prot, since);
}

void CheckerNotifier::discarding(OsTask& t, Addr start, std::uint64_t size) {
    t.checked.discarding(start, size);
}

void CheckerNotifier::discarded(OsTask& t, Addr start, std::uint64_t size, std::uint64_t since,
                                int rc) {
    t.checked.discarded(start, size, rc == 0);
    if (rc == 0 && checker_) checker_->revoked(t.pid, start, start + size, 0, since);
}

void CheckerNotifier::forked(fw_kernel* k, const OsTask& parent, OsTask& child,
                             std::uint64_t since) {
    if (parent.checked.shadow)
        child.checked.shadow = std::make_shared<DataShadow>(*parent.checked.shadow);
    child.checked.shared = parent.checked.shared;
    // No translation cached before the fork may write the private pages (read-only ones stay
    // good; the firmware flushes only if it write-protected something).
    fw_vma_desc v{};
    for (unsigned i = 0; checker_ && fw_process_vma(k, parent.pid, i, &v) == FW_OK; ++i)
        if (v.kind != FW_VMA_SHARED && (v.prot & FW_PROT_W))
            checker_->writesRevoked(parent.pid, v.start, v.start + v.len, since);
}

} // namespace tlmmu
