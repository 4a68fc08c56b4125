// The lackey reader (and the gzip/xz detection under it) on arbitrary bytes.
#include "FuzzUtil.h"
#include "workload/LackeyTrace.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string& path = tlmmu::fuzz::writeInput(data, size);
    tlmmu::fuzz::expectOnlyInputErrors([&] {
        tlmmu::LackeyTrace trace(path); // rewind must give the same records again
        tlmmu::fuzz::readTwiceAlike(trace, [](const tlmmu::Instruction& insn) {
            if (insn.num_refs > tlmmu::Instruction::kMaxRefs) std::abort();
            if (insn.size > tlmmu::kMaxAccessBytes) std::abort();
            for (unsigned i = 0; i < insn.num_refs; ++i)
                if (insn.refs[i].size == 0 || insn.refs[i].size > tlmmu::kMaxAccessBytes)
                    std::abort();
        });
    });
    return 0;
}
