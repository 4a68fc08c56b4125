// The lackey reader (and the gzip/xz detection under it) on arbitrary bytes.
#include "FuzzUtil.h"
#include "workload/LackeyTrace.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string& path = tlmmu::fuzz::writeInput(data, size);
    tlmmu::fuzz::expectOnlyInputErrors([&] {
        tlmmu::LackeyTrace trace(path);
        tlmmu::Instruction insn;
        for (int pass = 0; pass < 2; ++pass) { // rewind must give the same records again
            std::uint64_t n = 0, sum = 0;
            while (trace.next(insn)) {
                if (insn.num_refs > tlmmu::Instruction::kMaxRefs) std::abort();
                if (insn.size > tlmmu::kMaxAccessBytes) std::abort();
                for (unsigned i = 0; i < insn.num_refs; ++i)
                    if (insn.refs[i].size == 0 || insn.refs[i].size > tlmmu::kMaxAccessBytes)
                        std::abort();
                ++n;
                sum += insn.pc + insn.num_refs;
            }
            static std::uint64_t first_n, first_sum;
            if (pass == 0) {
                first_n = n, first_sum = sum;
                trace.rewind();
            } else if (n != first_n || sum != first_sum) {
                std::abort();
            }
        }
    });
    return 0;
}
