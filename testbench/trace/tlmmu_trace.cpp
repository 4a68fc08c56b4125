// tlmmu-trace: converts traces between formats, prints statistics, dumps them as text.
//   tlmmu-trace convert IN OUT [--from F] [--to binary|champsim] [--compress none|gz|xz]
//   tlmmu-trace stats FILE [--from F]
//   tlmmu-trace dump FILE [--from F] [--limit N]        lackey-format text on stdout
// --from is the input's format, as workload.format: auto (lackey or binary, told by content;
// the default), lackey, binary, champsim (which has no magic to tell it by).
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
#include <unistd.h>
#include <unordered_set>

#include <CLI/CLI.hpp>

#include "OutputFile.h"
#include "common/Types.h"
#include "workload/BinaryTraceWriter.h"
#include "workload/ChampSimTraceWriter.h"
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

std::unique_ptr<Workload> openOrRefuse(const std::string& path, const std::string& format) {
    try {
        return openTrace(path, format);
    } catch (const InputError& e) {
        throw Refused(e.what());
    }
}

// "FILE: ..." of a writer that wrote `target` (a temporary file) told as the output's own.
std::string asOutput(std::string message, const std::string& target, const std::string& out) {
    for (std::size_t at = message.find(target); at != std::string::npos;
         at = message.find(target, at + out.size()))
        message.replace(at, target.size(), out);
    return message;
}

// Copies every record of `workload` into a new trace `target` of format `to`; returns the
// number of records written.
std::uint64_t writeAll(Workload& workload, const std::string& target, const std::string& to,
                       Compression compression) {
    Instruction insn;
    if (to == "champsim") {
        ChampSimTraceWriter writer(target, compression);
        while (workload.next(insn)) {
            if (!ChampSimTraceWriter::representable(insn))
                throw InputError(workload.where() +
                                 ": a data reference at address 0 cannot be written as champsim "
                                 "(0 marks an unused slot)");
            writer.write(insn);
        }
        writer.close();
        return writer.records();
    }
    BinaryTraceWriter writer(target, compression);
    while (workload.next(insn))
        writer.write(insn);
    writer.close();
    return writer.records();
}

// Every output path is checked against the input (and stdout) first: OUT may not be IN under any
// name (hard links, ./x and x). OUT is written to a temporary file beside it and renamed over it
// only when complete (a failure leaves OUT as it was); a device or FIFO is written in place.
int convert(Outputs& outputs, const std::string& in, const std::string& from,
            const std::string& out, const std::string& to, const std::string& compress) {
    const Compression compression = parseCompression(compress);
    outputs.input("IN", in);
    OutputFile* file = outputs.output("OUT", out);
    // The count goes to stdout, unless OUT is stdout.
    OutputFile* stdoutFile = out == "-" ? nullptr : outputs.output("stdout", "-");
    try {
        outputs.prepare();
    } catch (const InputError& e) {
        throw Refused(e.what());
    }
    auto workload = openOrRefuse(in, from);
    const std::string target = file->target();
    std::uint64_t records = 0;
    try {
        records = writeAll(*workload, target, to, compression);
    } catch (const InputError& e) {
        file->discard();
        throw InputError(asOutput(e.what(), target, out));
    }
    for (const std::string& e : outputs.commit())
        throw InputError(e);
    if (stdoutFile)
        if (const std::string e = stdoutFile->write(
                [&](std::ostream& o) { o << out << ": " << records << " records\n"; });
            !e.empty())
            throw InputError(e);
    return 0;
}

void addPages(std::unordered_set<std::uint64_t>& pages, Addr addr, std::uint32_t size) {
    const Addr last = addr + (size ? size - 1 : 0); // a reference may straddle pages
    for (Addr page = addr >> kPageBits; page <= last >> kPageBits; ++page)
        pages.insert(page);
}

// The input checked against stdout first (`stats t >> t` would read what it writes).
std::unique_ptr<Workload> openWithStdout(Outputs& outputs, const std::string& path,
                                         const std::string& format, OutputFile*& out) {
    outputs.input("FILE", path);
    out = outputs.output("stdout", "-");
    try {
        outputs.prepare();
    } catch (const InputError& e) {
        throw Refused(e.what());
    }
    return openOrRefuse(path, format);
}

int stats(Outputs& outputs, const std::string& path, const std::string& format) {
    OutputFile* out = nullptr;
    auto workload = openWithStdout(outputs, path, format, out);
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
    const std::string e = out->write([&](std::ostream& o) {
        o << "trace: " << workload->describe() << "\n";
        o << "instructions: " << instructions << "\n";
        o << "continuation_records: " << continuations << "\n";
        o << "loads: " << loads << "\n";
        o << "stores: " << stores << "\n";
        o << "modifies: " << modifies << "\n";
        o << "pages: " << allPages.size() << "\n";
        o << "code_pages: " << codePages.size() << "\n";
        o << "data_pages: " << dataPages.size() << "\n";
    });
    if (!e.empty()) throw InputError(e);
    return 0;
}

// Prints in lackey's own layout, so that the output parses back to the same records
// (continuation records come out as data lines, which the parser attaches the same way).
int dump(Outputs& outputs, const std::string& path, const std::string& format,
         std::uint64_t limit) {
    OutputFile* out = nullptr;
    auto workload = openWithStdout(outputs, path, format, out);
    static const char kKind[] = {'L', 'S', 'M'};
    std::uint64_t instructions = 0;
    Instruction insn;
    const std::string e = out->write([&](std::ostream& o) {
        char line[64];
        while (workload->next(insn)) {
            if (insn.size != 0) {
                if (instructions == limit) break;
                ++instructions;
                std::snprintf(line, sizeof line, "I  %08" PRIx64 ",%" PRIu32 "\n", insn.pc,
                              insn.size);
                o << line;
            }
            for (unsigned i = 0; i < insn.num_refs; ++i) {
                std::snprintf(line, sizeof line, " %c %08" PRIx64 ",%" PRIu32 "\n",
                              kKind[static_cast<unsigned>(insn.refs[i].kind)], insn.refs[i].addr,
                              insn.refs[i].size);
                o << line;
            }
        }
    });
    if (!e.empty()) throw InputError(e);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    Outputs outputs("tlmmu-trace"); // first: a signal at any time removes temporary files
    CLI::App app{"tlmmu-trace: convert, summarise and dump tlmmu workload traces"};
    app.require_subcommand(1);

    std::string in, out, compress = "none", file, from = "auto", to = "binary";
    std::uint64_t limit = std::numeric_limits<std::uint64_t>::max();

    const std::vector<std::string> formats = {"auto", "lackey", "binary", "champsim"};
    auto addFrom = [&](CLI::App* cmd, const char* what) {
        cmd->add_option("--from", from,
                        std::string("format of ") + what +
                            ": auto (lackey or binary, by content), lackey, binary, champsim")
            ->check(CLI::IsMember(formats));
    };

    auto* convertCmd = app.add_subcommand("convert", "convert a trace to binary or champsim");
    convertCmd->add_option("IN", in, "input trace (see --from; plain, gzip or xz)")->required();
    convertCmd->add_option("OUT", out, "output trace (see --to)")->required();
    addFrom(convertCmd, "IN");
    convertCmd->add_option("--to", to, "format of OUT: binary (default) or champsim")
        ->check(CLI::IsMember({"binary", "champsim"}));
    convertCmd->add_option("--compress", compress, "compression of OUT")
        ->check(CLI::IsMember({"none", "gz", "xz"}));

    auto* statsCmd = app.add_subcommand("stats", "count instructions, references and pages");
    statsCmd->add_option("FILE", file, "trace (see --from)")->required();
    addFrom(statsCmd, "FILE");

    auto* dumpCmd = app.add_subcommand("dump", "print a trace as lackey text");
    dumpCmd->add_option("FILE", file, "trace (see --from)")->required();
    addFrom(dumpCmd, "FILE");
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
        if (*convertCmd) return convert(outputs, in, from, out, to, compress);
        if (*statsCmd) return stats(outputs, file, from);
        if (*dumpCmd) return dump(outputs, file, from, limit);
    } catch (const Refused& e) {
        std::cerr << "tlmmu-trace: error: " << e.what() << "\n";
        return kRefused;
    } catch (const std::exception& e) {
        std::cerr << "tlmmu-trace: error: " << e.what() << "\n";
        return kFailed;
    }
    return kFailed;
}
