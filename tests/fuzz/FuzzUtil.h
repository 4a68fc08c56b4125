// Shared by the fuzz targets: input as a file (the trace readers read files), and the rule that
// an InputError is the expected answer to bad input while anything else is a finding.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <unistd.h>

#include "common/Types.h"
#include "workload/Workload.h"

namespace tlmmu::fuzz {

// One file per fuzzing process, rewritten for every input.
inline const std::string& inputPath() {
    static const std::string path = [] {
        // In memory where there is /dev/shm: opening and closing files is most of the time.
        const char* dir = std::getenv("TLMMU_FUZZ_TMPDIR");
        if (!dir || !*dir) dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        return std::string(dir) + "/tlmmu_fuzz_" + std::to_string(::getpid());
    }();
    return path;
}

inline const std::string& writeInput(const std::uint8_t* data, std::size_t size) {
    const std::string& path = inputPath();
    static const int cleanup = std::atexit([] { std::remove(inputPath().c_str()); });
    (void)cleanup;
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0) std::abort();
    return path;
}

// Runs `body`; an InputError (a clear refusal) is fine, any other exception is a finding.
template <class Fn> void expectOnlyInputErrors(Fn&& body) {
    try {
        body();
    } catch (const InputError&) {
    } catch (const std::exception& e) {
        std::fprintf(stderr, "finding: exception other than InputError: %s\n", e.what());
        std::abort();
    }
}

// Reads `trace` to its end twice, rewinding between: `check` sees every record, and both passes
// must give the same records (compared by count and a checksum). Returns the count.
template <class Check> std::uint64_t readTwiceAlike(Workload& trace, Check&& check) {
    Instruction insn;
    std::uint64_t first_n = 0, first_sum = 0;
    for (int pass = 0; pass < 2; ++pass) {
        std::uint64_t n = 0, sum = 0;
        while (trace.next(insn)) {
            check(insn);
            ++n;
            sum += insn.pc + insn.num_refs;
        }
        if (pass == 0) {
            first_n = n, first_sum = sum;
            trace.rewind();
        } else if (n != first_n || sum != first_sum) {
            std::abort();
        }
    }
    return first_n;
}

} // namespace tlmmu::fuzz
