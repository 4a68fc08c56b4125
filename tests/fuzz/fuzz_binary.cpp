// The binary trace reader on arbitrary bytes (and through openTrace's format detection).
#include "FuzzUtil.h"
#include "workload/BinaryTrace.h"
#include "workload/OpenTrace.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string& path = tlmmu::fuzz::writeInput(data, size);
    tlmmu::fuzz::expectOnlyInputErrors([&] {
        tlmmu::BinaryTrace trace(path);
        tlmmu::Instruction insn;
        while (trace.next(insn)) {
            if (insn.num_refs > tlmmu::Instruction::kMaxRefs) std::abort();
            if (insn.size > tlmmu::kMaxAccessBytes) std::abort();
            for (unsigned i = 0; i < insn.num_refs; ++i)
                if (insn.refs[i].size == 0 || insn.refs[i].size > tlmmu::kMaxAccessBytes)
                    std::abort();
        }
    });
    tlmmu::fuzz::expectOnlyInputErrors([&] {
        auto workload = tlmmu::openTrace(path, "auto");
        tlmmu::Instruction insn;
        while (workload->next(insn)) {
        }
    });
    return 0;
}
