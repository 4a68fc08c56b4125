// tlmmu-trace: converts traces to the binary format, prints statistics, dumps them as text.
//   tlmmu-trace convert IN OUT [--compress none|gz|xz]   lackey or binary in, binary out
//   tlmmu-trace stats FILE
//   tlmmu-trace dump FILE [--limit N]                    lackey-format text on stdout
// Exit codes as tlmmu's (docs/errors.md): 0 done; 2 refused before any work (command line, an
// input that cannot be opened or whose first record is bad, an empty trace, OUT naming IN);
// 1 failed on the way (a malformed record further in, a write error). One line on stderr.
// Every command reads through the simulator's own readers (openTrace), so `dump` prints only
// records that tlmmu accepts, and stops with the reader's error at the first one it refuses.
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <limits>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_set>

#include <CLI/CLI.hpp>

#include "common/Types.h"
#include "workload/BinaryTraceWriter.h"
#include "workload/OpenTrace.h"
#include "workload/TraceFile.h"

using namespace tlmmu;

namespace {

constexpr unsigned kPageBits = 12;

constexpr int kFailed = 1, kRefused = 2;

// An error found before any work was done: exit 2.
struct Refused : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::unique_ptr<Workload> openOrRefuse(const std::string& path) {
    try {
        return openTrace(path, "auto");
    } catch (const InputError& e) {
        throw Refused(e.what());
    }
}

int convert(const std::string& in, const std::string& out, const std::string& compress) {
    const Compression compression = parseCompression(compress);
    struct stat si {
    }, so{};
    // OUT must not be IN under any name (hard links, ./x and x): writing it would destroy it.
    if (::stat(in.c_str(), &si) == 0 && ::stat(out.c_str(), &so) == 0 && si.st_dev == so.st_dev &&
        si.st_ino == so.st_ino)
        throw Refused(out + ": is the input file " + in + "; convert writes a new file");
    auto workload = openOrRefuse(in);
    // Written beside OUT and renamed over it only when complete: a failure leaves OUT as it was.
    const std::string tmp = out + ".tmp" + std::to_string(::getpid());
    try {
        BinaryTraceWriter writer(tmp, compression);
        Instruction insn;
        while (workload->next(insn))
            writer.write(insn);
        writer.close();
        if (std::rename(tmp.c_str(), out.c_str()) != 0)
            throw InputError(out + ": cannot write: " + std::strerror(errno));
        std::printf("%s: %" PRIu64 " records\n", out.c_str(), writer.records());
    } catch (...) {
        std::remove(tmp.c_str());
        throw;
    }
    return 0;
}

void addPages(std::unordered_set<std::uint64_t>& pages, Addr addr, std::uint32_t size) {
    const Addr last = addr + (size ? size - 1 : 0); // a reference may straddle pages
    for (Addr page = addr >> kPageBits; page <= last >> kPageBits; ++page)
        pages.insert(page);
}

int stats(const std::string& path) {
    auto workload = openOrRefuse(path);
    std::uint64_t instructions = 0, continuations = 0, loads = 0, stores = 0, modifies = 0;
    std::unordered_set<std::uint64_t> codePages, dataPages, allPages;
    Instruction insn;
    while (workload->next(insn)) {
        if (insn.size != 0) {
            ++instructions;
            addPages(codePages, insn.pc, insn.size);
        } else {
            ++continuations;
        }
        for (unsigned i = 0; i < insn.num_refs; ++i) {
            const DataRef& ref = insn.refs[i];
            switch (ref.kind) {
            case RefKind::Load:
                ++loads;
                break;
            case RefKind::Store:
                ++stores;
                break;
            case RefKind::Modify:
                ++modifies;
                break;
            }
            addPages(dataPages, ref.addr, ref.size);
        }
    }
    allPages = codePages;
    allPages.insert(dataPages.begin(), dataPages.end());
    std::printf("trace: %s\n", workload->describe().c_str());
    std::printf("instructions: %" PRIu64 "\n", instructions);
    std::printf("continuation_records: %" PRIu64 "\n", continuations);
    std::printf("loads: %" PRIu64 "\n", loads);
    std::printf("stores: %" PRIu64 "\n", stores);
    std::printf("modifies: %" PRIu64 "\n", modifies);
    std::printf("pages: %zu\n", allPages.size());
    std::printf("code_pages: %zu\n", codePages.size());
    std::printf("data_pages: %zu\n", dataPages.size());
    return 0;
}

// Prints in lackey's own layout, so that the output parses back to the same records
// (continuation records come out as data lines, which the parser attaches the same way).
int dump(const std::string& path, std::uint64_t limit) {
    auto workload = openOrRefuse(path);
    static const char kKind[] = {'L', 'S', 'M'};
    std::uint64_t instructions = 0;
    Instruction insn;
    while (workload->next(insn)) {
        if (insn.size != 0) {
            if (instructions == limit) break;
            ++instructions;
            std::printf("I  %08" PRIx64 ",%" PRIu32 "\n", insn.pc, insn.size);
        }
        for (unsigned i = 0; i < insn.num_refs; ++i)
            std::printf(" %c %08" PRIx64 ",%" PRIu32 "\n",
                        kKind[static_cast<unsigned>(insn.refs[i].kind)], insn.refs[i].addr,
                        insn.refs[i].size);
    }
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) throw InputError("stdout: write failed");
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"tlmmu-trace: convert, summarise and dump tlmmu workload traces"};
    app.require_subcommand(1);

    std::string in, out, compress = "none", file;
    std::uint64_t limit = std::numeric_limits<std::uint64_t>::max();

    auto* convertCmd = app.add_subcommand("convert", "convert a lackey or binary trace to binary");
    convertCmd->add_option("IN", in, "input trace (lackey or binary; plain, gzip or xz)")
        ->required();
    convertCmd->add_option("OUT", out, "output binary trace")->required();
    convertCmd->add_option("--compress", compress, "compression of OUT")
        ->check(CLI::IsMember({"none", "gz", "xz"}));

    auto* statsCmd = app.add_subcommand("stats", "count instructions, references and pages");
    statsCmd->add_option("FILE", file, "trace (lackey or binary)")->required();

    auto* dumpCmd = app.add_subcommand("dump", "print a trace as lackey text");
    dumpCmd->add_option("FILE", file, "trace (lackey or binary)")->required();
    dumpCmd->add_option("--limit", limit, "stop after N instructions");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "tlmmu-trace: error: " << e.what() << " (see tlmmu-trace --help)\n";
        return kRefused;
    }

    try {
        if (*convertCmd) return convert(in, out, compress);
        if (*statsCmd) return stats(file);
        if (*dumpCmd) return dump(file, limit);
    } catch (const Refused& e) {
        std::cerr << "tlmmu-trace: error: " << e.what() << "\n";
        return kRefused;
    } catch (const std::exception& e) {
        std::cerr << "tlmmu-trace: error: " << e.what() << "\n";
        return kFailed;
    }
    return kFailed;
}
