// The champsim reader (and the gzip/xz detection under it) on arbitrary bytes: every record
// within the ChampSim shape and one the writer takes back, rewind giving the same records.
#include "FuzzUtil.h"
#include "workload/ChampSimTrace.h"
#include "workload/ChampSimTraceWriter.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string& path = tlmmu::fuzz::writeInput(data, size);
    tlmmu::fuzz::expectOnlyInputErrors([&] {
        namespace fmt = tlmmu::champfmt;
        tlmmu::ChampSimTrace trace(path);
        const std::uint64_t n =
            tlmmu::fuzz::readTwiceAlike(trace, [](const tlmmu::Instruction& insn) {
                if (insn.size != fmt::kFetchBytes) std::abort();
                if (insn.num_refs > fmt::kSources + fmt::kDestinations) std::abort();
                for (unsigned i = 0; i < insn.num_refs; ++i)
                    if (insn.refs[i].addr == 0 || insn.refs[i].size != fmt::kDataBytes)
                        std::abort();
                if (!tlmmu::ChampSimTraceWriter::representable(insn)) std::abort();
            });
        if (n != trace.records()) std::abort();
    });
    return 0;
}
