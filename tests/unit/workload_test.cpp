// Workload sources: lackey, binary and champsim trace readers (plain, gzip, xz), the binary and
// champsim writers, the openTrace factory, the synthetic generators, and scripts/trace-program with
// real valgrind.
#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

#include <boost/iostreams/copy.hpp>
#include <boost/iostreams/device/file.hpp>
#include <boost/iostreams/filter/gzip.hpp>
#include <boost/iostreams/filter/lzma.hpp>
#include <boost/iostreams/filtering_streambuf.hpp>
#include <gtest/gtest.h>

#include "common/Types.h"
#include "workload/BinaryTrace.h"
#include "workload/BinaryTraceWriter.h"
#include "workload/ChampSimTrace.h"
#include "workload/ChampSimTraceWriter.h"
#include "workload/LackeyTrace.h"
#include "workload/OpenTrace.h"
#include "workload/Random.h"
#include "workload/SyntheticWorkload.h"

using namespace tlmmu;
namespace fs = std::filesystem;
namespace io = boost::iostreams;

namespace tlmmu {
// Field-wise equality (unused refs slots are not part of the value) and a readable print.
bool operator==(const DataRef& a, const DataRef& b) {
    return a.addr == b.addr && a.size == b.size && a.kind == b.kind;
}
bool operator==(const Instruction& a, const Instruction& b) {
    return a.pc == b.pc && a.size == b.size && a.num_refs == b.num_refs &&
           std::equal(a.refs, a.refs + a.num_refs, b.refs);
}
void PrintTo(const Instruction& insn, std::ostream* os) {
    *os << std::hex << "{pc=0x" << insn.pc << std::dec << " size=" << insn.size << " refs=[";
    for (unsigned i = 0; i < insn.num_refs; ++i)
        *os << (i ? " " : "") << "LSM"[static_cast<int>(insn.refs[i].kind)] << std::hex << "0x"
            << insn.refs[i].addr << std::dec << "," << insn.refs[i].size;
    *os << "]}";
}
} // namespace tlmmu

namespace {

const std::string kSourceDir = TLMMU_SOURCE_DIR;
const std::string kSmallLackey = kSourceDir + "/tests/data/lackey_small.txt";
const std::string kSmallBinary = kSourceDir + "/tests/data/lackey_small.tlmmutr";

// A fresh directory per test, removed afterwards.
class TempDir {
  public:
    TempDir() {
        static std::atomic<int> counter{0};
        path_ = fs::temp_directory_path() /
                ("tlmmu_workload_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        fs::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

  private:
    fs::path path_;
};

void writeFile(const std::string& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary);
    out << content;
    ASSERT_TRUE(out.good()) << path;
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void compressFile(const std::string& from, const std::string& to, Compression compression) {
    io::filtering_ostreambuf out;
    // Fastest levels: the tests need valid streams, not small ones.
    if (compression == Compression::Gzip) out.push(io::gzip_compressor(io::gzip::best_speed));
    if (compression == Compression::Xz) out.push(io::lzma_compressor(io::lzma::best_speed));
    out.push(io::file_sink(to, std::ios::binary));
    io::file_source in(from, std::ios::binary);
    io::copy(in, out);
}

std::vector<Instruction> readAll(Workload& workload) {
    std::vector<Instruction> all;
    Instruction insn;
    while (workload.next(insn))
        all.push_back(insn);
    return all;
}

std::vector<Instruction> readAll(const std::string& path, const std::string& format = "auto") {
    auto workload = openTrace(path, format);
    return readAll(*workload);
}

// The exact InputError text of `body`, or a marker if it did not throw.
std::string errorOf(const std::function<void()>& body) {
    try {
        body();
    } catch (const InputError& e) {
        return e.what();
    }
    return "<no InputError>";
}

Instruction insn(Addr pc, std::uint32_t size, std::vector<DataRef> refs = {}) {
    Instruction i;
    i.pc = pc;
    i.size = size;
    i.num_refs = static_cast<std::uint8_t>(refs.size());
    std::copy(refs.begin(), refs.end(), i.refs);
    return i;
}

DataRef ref(RefKind kind, Addr addr, std::uint32_t size) {
    return DataRef{addr, size, kind};
}

const std::vector<Instruction>& smallExpected() {
    static const std::vector<Instruction> expected = {
        insn(0, 0, {ref(RefKind::Load, 0x1ffefffd78, 8)}), // before the first I: continuation
        insn(0x4011c70, 3,
             {ref(RefKind::Load, 0x1ffefffd78, 8), ref(RefKind::Store, 0x1ffefffd70, 8)}),
        insn(0x4011c73, 5),
        insn(0x4011c78, 4, {ref(RefKind::Modify, 0x60a010, 4)}),
        insn(0x4011c7c, 2,
             {ref(RefKind::Load, 0x60a018, 16), ref(RefKind::Store, 0x60a020, 1),
              ref(RefKind::Load, 0x7ff0001000, 4096)}),
    };
    return expected;
}

// Lackey text of a record stream, as valgrind prints it.
std::string toLackey(const std::vector<Instruction>& records) {
    std::string text;
    char line[64];
    for (const auto& r : records) {
        if (r.size) {
            std::snprintf(line, sizeof line, "I  %08llx,%u\n",
                          static_cast<unsigned long long>(r.pc), r.size);
            text += line;
        }
        for (unsigned i = 0; i < r.num_refs; ++i) {
            std::snprintf(line, sizeof line, " %c %08llx,%u\n",
                          "LSM"[static_cast<int>(r.refs[i].kind)],
                          static_cast<unsigned long long>(r.refs[i].addr), r.refs[i].size);
            text += line;
        }
    }
    return text;
}

std::vector<Instruction> generate(const SyntheticParams& params) {
    SyntheticWorkload workload(params);
    return readAll(workload);
}

} // namespace

// --- lackey ------------------------------------------------------------------------------------

TEST(LackeyTrace, ParsesSampleSkippingValgrindMessages) {
    LackeyTrace trace(kSmallLackey);
    EXPECT_EQ(readAll(trace), smallExpected());
    Instruction extra;
    EXPECT_FALSE(trace.next(extra)); // stays at the end
    EXPECT_EQ(trace.describe(), "lackey trace " + kSmallLackey);
}

TEST(LackeyTrace, RewindRestarts) {
    LackeyTrace trace(kSmallLackey);
    Instruction first;
    ASSERT_TRUE(trace.next(first));
    ASSERT_TRUE(trace.next(first));
    trace.rewind();
    EXPECT_EQ(readAll(trace), smallExpected());
    trace.rewind();
    EXPECT_EQ(readAll(trace), smallExpected());
}

TEST(LackeyTrace, GzipAndXzGiveIdenticalStreams) {
    TempDir dir;
    // Misleading names on purpose: compression is detected from the content.
    const std::string gz = dir.file("sample.txt"), xz = dir.file("sample.gz");
    compressFile(kSmallLackey, gz, Compression::Gzip);
    compressFile(kSmallLackey, xz, Compression::Xz);
    EXPECT_EQ(readAll(gz, "lackey"), smallExpected());
    EXPECT_EQ(readAll(xz, "lackey"), smallExpected());
    EXPECT_EQ(LackeyTrace(xz).describe(), "lackey trace " + xz + " (xz)");
    EXPECT_EQ(LackeyTrace(gz).describe(), "lackey trace " + gz + " (gzip)");
}

TEST(LackeyTrace, LargeFileAcrossChunksPlainGzipXz) {
    // Several MiB, so that lines straddle the reader's 1 MiB chunks, with continuation records.
    SyntheticParams params;
    params.pattern = "random";
    params.instructions = 120000;
    params.refs_per_instruction = 1.37;
    params.footprint = 1ull << 40; // long addresses
    auto records = generate(params);
    params.instructions = 200;
    params.refs_per_instruction = 18; // 16 refs + a continuation of 2
    auto wide = generate(params);
    records.insert(records.end(), wide.begin(), wide.end());
    TempDir dir;
    const std::string plain = dir.file("big.txt");
    writeFile(plain, toLackey(records));
    ASSERT_GT(fs::file_size(plain), 3u << 20);
    EXPECT_EQ(readAll(plain, "lackey"), records);
    compressFile(plain, dir.file("big.gz"), Compression::Gzip);
    compressFile(plain, dir.file("big.xz"), Compression::Xz);
    EXPECT_EQ(readAll(dir.file("big.gz"), "lackey"), records);
    EXPECT_EQ(readAll(dir.file("big.xz"), "lackey"), records);
}

TEST(LackeyTrace, MoreThanMaxRefsSplitsIntoContinuations) {
    TempDir dir;
    std::string text;
    char line[64];
    for (unsigned i = 0; i < 20; ++i) { // data before any instruction: continuations of nothing
        std::snprintf(line, sizeof line, " L %x,4\n", 0x1000 + i);
        text += line;
    }
    text += "I  00400000,4\n";
    for (unsigned i = 0; i < 35; ++i) {
        std::snprintf(line, sizeof line, " S %x,8\n", 0x2000 + i);
        text += line;
    }
    text += "I  00400004,4\n";
    writeFile(dir.file("t"), text);
    const auto records = readAll(dir.file("t"));
    ASSERT_EQ(records.size(), 6u);
    const std::vector<std::pair<Addr, std::uint32_t>> shape = {
        {0, 0}, {0, 0}, {0x400000, 4}, {0x400000, 0}, {0x400000, 0}, {0x400004, 4}};
    const std::vector<unsigned> counts = {16, 4, 16, 16, 3, 0};
    unsigned loads = 0, stores = 0;
    for (std::size_t i = 0; i < records.size(); ++i) {
        EXPECT_EQ(records[i].pc, shape[i].first) << i;
        EXPECT_EQ(records[i].size, shape[i].second) << i;
        EXPECT_EQ(records[i].num_refs, counts[i]) << i;
        for (unsigned r = 0; r < records[i].num_refs; ++r) {
            const DataRef& d = records[i].refs[r];
            if (d.kind == RefKind::Load)
                EXPECT_EQ(d.addr, 0x1000u + loads++);
            else
                EXPECT_EQ(d.addr, 0x2000u + stores++);
        }
    }
    EXPECT_EQ(loads, 20u);
    EXPECT_EQ(stores, 35u);
}

TEST(LackeyTrace, CompleteFinalLineWithoutNewline) {
    TempDir dir;
    writeFile(dir.file("t"), "I  00400000,4\n L 00001000,8");
    EXPECT_EQ(readAll(dir.file("t")),
              (std::vector<Instruction>{insn(0x400000, 4, {ref(RefKind::Load, 0x1000, 8)})}));
}

TEST(LackeyTrace, EmptyAndMessageOnlyFilesHaveNoInstructions) {
    TempDir dir;
    writeFile(dir.file("empty"), "");
    writeFile(dir.file("messages"), "==1== hello\n\n==1== bye\n");
    // The reader itself returns nothing; opening a trace for a run refuses it (it would run
    // nothing and look like success).
    for (const char* name : {"empty", "messages"}) {
        LackeyTrace trace(dir.file(name));
        EXPECT_TRUE(readAll(trace).empty()) << name;
        EXPECT_EQ(errorOf([&] { openTrace(dir.file(name), "lackey"); }),
                  dir.file(name) + ": empty trace (no records): nothing to run");
        EXPECT_EQ(errorOf([&] { openTrace(dir.file(name), "auto"); }),
                  dir.file(name) + ": empty trace (no records): nothing to run");
    }
}

TEST(LackeyTrace, MalformedRecordsNameFileAndLine) {
    struct Case {
        std::string text;
        int line;
        std::string shown;
    };
    const std::string longHex(100, 'f');
    const std::vector<Case> cases = {
        {"I  04011c70,3\n X 1000,8\n", 2, " X 1000,8"},                 // bad kind letter
        {"I  04011c70,3\n L 1000 8\n", 2, " L 1000 8"},                 // missing comma
        {"I  0401x,3\n", 1, "I  0401x,3"},                              // bad hex
        {"==1== hi\n\n L 10g0,8\n", 3, " L 10g0,8"},                    // bad hex, after skips
        {" L 1000,0\n", 1, " L 1000,0"},                                // size 0
        {" S 1000,4097\n", 1, " S 1000,4097"},                          // size > 4096
        {" M 1000,8 x\n", 1, " M 1000,8 x"},                            // trailing junk
        {"I  04011c70,3 \n", 1, "I  04011c70,3 "},                      // trailing blank
        {"I  04011c70,0\n", 1, "I  04011c70,0"},                        // instruction size 0
        {"I04011c70,3\n", 1, "I04011c70,3"},                            // no blank after I
        {" L ,8\n", 1, " L ,8"},                                        // no address
        {"I  04011c70,\n", 1, "I  04011c70,"},                          // no size
        {" L 1000,8\r\n", 1, " L 1000,8?"},                             // CR shown as '?'
        {"=1= x\n", 1, "=1= x"},                                        // not a valgrind message
        {"I  00400000,4\nI  0401", 2, "I  0401"},                       // incomplete final line
        {"I  " + longHex + ",4\n", 1, ("I  " + longHex).substr(0, 60)}, // > 16 digits, shown 60
    };
    TempDir dir;
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const std::string path = dir.file("bad" + std::to_string(i) + ".txt");
        writeFile(path, cases[i].text);
        EXPECT_EQ(errorOf([&] { readAll(path, "lackey"); }),
                  path + ":" + std::to_string(cases[i].line) + ": malformed lackey record '" +
                      cases[i].shown + "'")
            << "case " << i;
    }
}

TEST(LackeyTrace, LineLongerThanAChunkIsMalformed) {
    TempDir dir;
    const std::string path = dir.file("long.txt");
    writeFile(path, "I  00400000,4\n" + std::string(3 << 20, 'x') + "\n");
    EXPECT_EQ(errorOf([&] { readAll(path, "lackey"); }),
              path + ":2: malformed lackey record '" + std::string(60, 'x') + "'");
}

TEST(LackeyTrace, MissingFile) {
    const std::string path = "/nonexistent/dir/trace.txt";
    EXPECT_EQ(errorOf([&] { LackeyTrace trace(path); }),
              path + ": cannot open: No such file or directory");
    TempDir dir;
    EXPECT_EQ(errorOf([&] { LackeyTrace trace(dir.file("")); }),
              dir.file("") + ": cannot open: Is a directory");
}

TEST(LackeyTrace, TruncatedOrCorruptCompressedStreams) {
    TempDir dir;
    const std::string gz = dir.file("t.gz"), xz = dir.file("t.xz");
    compressFile(kSmallLackey, gz, Compression::Gzip);
    compressFile(kSmallLackey, xz, Compression::Xz);
    for (const auto& [path, name] : {std::pair{gz, "gzip"}, std::pair{xz, "xz"}}) {
        const std::string whole = readFile(path);
        const std::string cut = path + ".cut";
        writeFile(cut, whole.substr(0, whole.size() - 5));
        EXPECT_EQ(errorOf([&] { readAll(cut, "lackey"); }),
                  cut + ": truncated or corrupt " + name + " stream");
        std::string damaged = whole;
        damaged[whole.size() / 2] ^= 0x55;
        const std::string bad = path + ".bad";
        writeFile(bad, damaged);
        EXPECT_EQ(errorOf([&] { readAll(bad, "lackey"); }),
                  bad + ": truncated or corrupt " + name + " stream");
    }
}

// --- binary ------------------------------------------------------------------------------------

namespace {
std::vector<Instruction> edgeCases() {
    return {
        insn(0, 0, {ref(RefKind::Load, 0x1000, 8)}), // continuation before the first insn
        insn(~Addr{0} - 3, 4, {ref(RefKind::Store, ~Addr{0}, 1)}), // extremes, wrapping deltas
        insn(0, 15, {ref(RefKind::Modify, 0, 63), ref(RefKind::Load, 1, 64)}),
        insn(15, 15, {ref(RefKind::Load, 0x7fffffffffffffff, 4096), ref(RefKind::Load, 2, 1)}),
        insn(15, 0, {ref(RefKind::Store, 0x8000000000000000, 4095)}),
        insn(0x400000, 3),
        insn(0x400003, 3),
    };
}

void writeBinary(const std::string& path, const std::vector<Instruction>& records,
                 Compression compression = Compression::None) {
    BinaryTraceWriter writer(path, compression);
    for (const auto& r : records)
        writer.write(r);
    writer.close();
    EXPECT_EQ(writer.records(), records.size());
}
} // namespace

TEST(BinaryTrace, RoundTripIsExact) {
    SyntheticParams params;
    params.pattern = "zipf";
    params.instructions = 20000;
    params.refs_per_instruction = 2.7;
    auto records = edgeCases();
    auto gen = generate(params);
    records.insert(records.end(), gen.begin(), gen.end());
    params.refs_per_instruction = 40; // continuation records
    params.instructions = 100;
    gen = generate(params);
    records.insert(records.end(), gen.begin(), gen.end());

    TempDir dir;
    for (auto compression : {Compression::None, Compression::Gzip, Compression::Xz}) {
        const std::string path = dir.file(std::string("t.") + toString(compression));
        writeBinary(path, records, compression);
        BinaryTrace trace(path);
        EXPECT_EQ(readAll(trace), records) << toString(compression);
        trace.rewind();
        EXPECT_EQ(readAll(trace), records) << toString(compression);
        EXPECT_EQ(trace.records(), records.size());
    }
}

TEST(BinaryTrace, CheckedInSampleMatchesLackeySample) {
    // Guards the on-disk format: the file was written by tlmmu-trace convert.
    EXPECT_EQ(readAll(kSmallBinary, "binary"), smallExpected());
    TempDir dir;
    writeBinary(dir.file("again"), smallExpected());
    EXPECT_EQ(readFile(dir.file("again")), readFile(kSmallBinary));
}

TEST(BinaryTrace, EmptyTrace) {
    TempDir dir;
    writeBinary(dir.file("e"), {});
    BinaryTrace trace(dir.file("e"));
    EXPECT_TRUE(readAll(trace).empty());
    EXPECT_EQ(errorOf([&] { openTrace(dir.file("e"), "binary"); }),
              dir.file("e") + ": empty trace (no records): nothing to run");
}

// The binary reader accepts exactly the records the lackey reader does (sizes 1..4096, an
// instruction of size 0 being a continuation record), so `tlmmu-trace dump` never prints a
// record that tlmmu would refuse, and no reference can span more pages than a 4 KiB one does.
TEST(BinaryTrace, SizesOutsideTheLackeyRangeAreRefused) {
    TempDir dir;
    const struct {
        Instruction record;
        std::string what;
    } cases[] = {
        {insn(0x1000, 4, {ref(RefKind::Load, 0x2000, 4097)}),
         "data reference size 4097 out of range (1..4096)"},
        {insn(0x1000, 4, {ref(RefKind::Load, 0x2000, 12288)}),
         "data reference size 12288 out of range (1..4096)"},
        {insn(0x1000, 4, {ref(RefKind::Load, 0x2000, 0)}),
         "data reference size 0 out of range (1..4096)"},
        {insn(0x1000, 4097), "instruction size 4097 out of range (0 for a continuation record, "
                             "else 1..4096)"},
    };
    for (const auto& c : cases) {
        writeBinary(dir.file("b"), {insn(0x400000, 4), c.record});
        EXPECT_EQ(errorOf([&] { readAll(dir.file("b"), "binary"); }),
                  dir.file("b") + ": corrupt binary trace at instruction 1: " + c.what);
    }
}

TEST(BinaryTrace, TruncationAtEveryByteIsDetected) {
    TempDir dir;
    const auto records = edgeCases();
    // Where each record ends: from files holding the first k records (trailer: 2 bytes).
    std::vector<std::size_t> ends;
    for (std::size_t k = 1; k <= records.size(); ++k) {
        writeBinary(dir.file("prefix"), {records.begin(), records.begin() + k});
        ends.push_back(fs::file_size(dir.file("prefix")) - 2);
    }
    writeBinary(dir.file("full"), records);
    const std::string whole = readFile(dir.file("full"));
    ASSERT_EQ(whole.size(), ends.back() + 2);
    const std::string cut = dir.file("cut");
    for (std::size_t len = 0; len < whole.size(); ++len) {
        writeFile(cut, whole.substr(0, len));
        const auto complete =
            std::count_if(ends.begin(), ends.end(), [&](std::size_t end) { return end <= len; });
        EXPECT_EQ(errorOf([&] { readAll(cut, "binary"); }),
                  cut + ": truncated binary trace at instruction " + std::to_string(complete))
            << "length " << len;
    }
    // Also through a compressed stream that is itself complete.
    writeFile(cut, whole.substr(0, ends[2]));
    compressFile(cut, dir.file("cut.xz"), Compression::Xz);
    EXPECT_EQ(errorOf([&] { readAll(dir.file("cut.xz")); }),
              dir.file("cut.xz") + ": truncated binary trace at instruction 3");
}

TEST(BinaryTrace, CorruptFilesAreRejected) {
    TempDir dir;
    writeBinary(dir.file("ok"), smallExpected());
    const std::string whole = readFile(dir.file("ok"));
    const std::string path = dir.file("bad");

    writeFile(path, whole + "x");
    EXPECT_EQ(errorOf([&] { readAll(path, "binary"); }),
              path + ": corrupt binary trace at instruction 5: data after the trailer");

    std::string wrongCount = whole;
    wrongCount.back() = 4;
    writeFile(path, wrongCount);
    EXPECT_EQ(errorOf([&] { readAll(path, "binary"); }),
              path + ": corrupt binary trace at instruction 5: trailer says 4 records, found 5");

    std::string badHeader = whole.substr(0, 8) + "\x91";
    writeFile(path, badHeader);
    EXPECT_EQ(errorOf([&] { readAll(path, "binary"); }),
              path + ": corrupt binary trace at instruction 0: bad record header");

    writeFile(path, "TLMMUTR2" + whole.substr(8));
    EXPECT_EQ(errorOf([&] { readAll(path, "binary"); }),
              path + ": not a tlmmu binary trace (bad magic)");
}

// --- openTrace ---------------------------------------------------------------------------------

TEST(OpenTrace, AutoDetectsFormatThroughCompression) {
    TempDir dir;
    compressFile(kSmallBinary, dir.file("b.gz"), Compression::Gzip);
    compressFile(kSmallLackey, dir.file("l.xz"), Compression::Xz);
    for (const auto& path : {kSmallLackey, kSmallBinary, dir.file("b.gz"), dir.file("l.xz")})
        EXPECT_EQ(readAll(path, "auto"), smallExpected()) << path;
    EXPECT_TRUE(isBinaryTrace(dir.file("b.gz")));
    EXPECT_FALSE(isBinaryTrace(dir.file("l.xz")));
    EXPECT_EQ(openTrace(dir.file("b.gz"))->describe(),
              "binary trace " + dir.file("b.gz") + " (gzip)");
}

TEST(OpenTrace, WrongFormatNamesTheFile) {
    EXPECT_EQ(errorOf([] { openTrace(kSmallBinary, "lackey"); }),
              kSmallBinary + ": is a tlmmu binary trace, not lackey text (use format 'binary')");
    EXPECT_EQ(errorOf([] { openTrace(kSmallLackey, "binary"); }),
              kSmallLackey + ": not a tlmmu binary trace (bad magic)");
    EXPECT_EQ(errorOf([] { openTrace(kSmallLackey, "pin"); }),
              kSmallLackey +
                  ": unknown trace format 'pin' (allowed: lackey, binary, champsim, auto)");
    EXPECT_EQ(errorOf([] { openTrace("/nonexistent.trace", "auto"); }),
              "/nonexistent.trace: cannot open: No such file or directory");
}

// --- champsim ----------------------------------------------------------------------------------

namespace {
// One ChampSim input_instr record, built byte by byte (independently of the reader's decoding):
// loads go to the given source_memory slots, stores to the given destination_memory slots.
struct ChampSimRecord {
    Addr ip = 0;
    std::uint8_t is_branch = 0, branch_taken = 0;
    std::array<Addr, 2> destination{};
    std::array<Addr, 4> source{};
};

std::string champsimBytes(const std::vector<ChampSimRecord>& records) {
    std::string bytes;
    auto put64 = [&](std::uint64_t v) {
        for (int i = 0; i < 8; ++i, v >>= 8)
            bytes += static_cast<char>(v & 0xff);
    };
    for (const auto& r : records) {
        put64(r.ip);
        bytes += static_cast<char>(r.is_branch);
        bytes += static_cast<char>(r.branch_taken);
        bytes += std::string("\x03\x00\x19\x06\x00\x1a", 6); // registers: ignored by the reader
        for (Addr a : r.destination)
            put64(a);
        for (Addr a : r.source)
            put64(a);
    }
    return bytes;
}

// `n` records with known references: record i has i % 5 loads (in the last slots, so that unused
// slots come first) and i % 3 stores, over 12 data pages; every tenth is a branch.
std::vector<ChampSimRecord> champsimLoop(unsigned n) {
    std::vector<ChampSimRecord> records(n);
    for (unsigned i = 0; i < n; ++i) {
        ChampSimRecord& r = records[i];
        r.ip = 0x400000 + 4 * (i % 50);
        r.is_branch = i % 10 == 9;
        r.branch_taken = i % 20 == 19;
        const unsigned loads = i % 5, stores = i % 3;
        for (unsigned k = 0; k < loads; ++k)
            r.source[4 - loads + k] = 0x10000000 + (i * 520 + 8 * k) % 32768;
        for (unsigned k = 0; k < stores; ++k)
            r.destination[2 - stores + k] = 0x10100000 + (i * 72 + 8 * k) % 16384;
    }
    return records;
}

// What the reader must make of them: fetch, loads, stores, in slot order, unused slots skipped.
std::vector<Instruction> champsimExpected(const std::vector<ChampSimRecord>& records) {
    std::vector<Instruction> expected;
    for (const auto& r : records) {
        std::vector<DataRef> refs;
        for (Addr a : r.source)
            if (a) refs.push_back(ref(RefKind::Load, a, 8));
        for (Addr a : r.destination)
            if (a) refs.push_back(ref(RefKind::Store, a, 8));
        expected.push_back(insn(r.ip, 4, refs));
    }
    return expected;
}

std::map<RefKind, std::uint64_t> countRefs(const std::vector<Instruction>& records) {
    std::map<RefKind, std::uint64_t> counts;
    for (const auto& r : records)
        for (unsigned i = 0; i < r.num_refs; ++i)
            ++counts[r.refs[i].kind];
    return counts;
}
} // namespace

TEST(ChampSimTrace, GeneratedTraceGivesExactlyItsReferences) {
    TempDir dir;
    const auto records = champsimLoop(200);
    writeFile(dir.file("t.champsim"), champsimBytes(records));
    const auto read = readAll(dir.file("t.champsim"), "champsim");
    EXPECT_EQ(read, champsimExpected(records));
    // 200 instructions; loads 40 x (0+1+2+3+4) = 400; stores 66 x (0+1+2) + 0 + 1 = 199.
    EXPECT_EQ(read.size(), 200u);
    const auto counts = countRefs(read);
    EXPECT_EQ(counts.at(RefKind::Load), 400u);
    EXPECT_EQ(counts.at(RefKind::Store), 199u);
    EXPECT_EQ(counts.count(RefKind::Modify), 0u);
    // Every slot full, and addresses at both ends of the range.
    const std::vector<ChampSimRecord> full = {
        {~Addr{0}, 1, 1, {1, ~Addr{0}}, {2, 3, 0x8000000000000000, 5}}, {0, 0, 0, {}, {}}};
    writeFile(dir.file("full"), champsimBytes(full));
    EXPECT_EQ(readAll(dir.file("full"), "champsim"), champsimExpected(full));
    EXPECT_EQ(readAll(dir.file("full"), "champsim")[0].num_refs, 6u);
}

TEST(ChampSimTrace, GzipAndXzReadIdenticallyAcrossChunks) {
    TempDir dir;
    // 40000 records are 2.56 MB: more than two of the reader's 1 MiB chunks.
    const auto records = champsimLoop(40000);
    const std::string plain = dir.file("t");
    writeFile(plain, champsimBytes(records));
    compressFile(plain, dir.file("t.gz"), Compression::Gzip);
    compressFile(plain, dir.file("t.xz"), Compression::Xz);
    const auto expected = champsimExpected(records);
    for (const char* name : {"t", "t.gz", "t.xz"}) {
        ChampSimTrace trace(dir.file(name));
        EXPECT_EQ(readAll(trace), expected) << name;
        EXPECT_EQ(trace.records(), 40000u);
        trace.rewind();
        EXPECT_EQ(readAll(trace), expected) << name;
    }
    EXPECT_EQ(openTrace(dir.file("t.xz"), "champsim")->describe(),
              "champsim trace " + dir.file("t.xz") + " (xz)");
}

TEST(ChampSimTrace, RecordCutShortIsAnErrorNamingIt) {
    TempDir dir;
    const std::string whole = champsimBytes(champsimLoop(4));
    const std::string path = dir.file("cut");
    for (std::size_t keep = 1; keep < 64; ++keep) {
        writeFile(path, whole.substr(0, 3 * 64 + keep));
        ChampSimTrace trace(path);
        Instruction insn;
        for (int i = 0; i < 3; ++i)
            ASSERT_TRUE(trace.next(insn));
        EXPECT_EQ(errorOf([&] { trace.next(insn); }),
                  path + ": truncated champsim trace at record 3 (" + std::to_string(keep) +
                      " of 64 bytes)");
    }
    // Inside the first record: refused when the trace is opened.
    writeFile(path, whole.substr(0, 10));
    EXPECT_EQ(errorOf([&] { openTrace(path, "champsim"); }),
              path + ": truncated champsim trace at record 0 (10 of 64 bytes)");
    writeFile(path, "");
    EXPECT_EQ(errorOf([&] { openTrace(path, "champsim"); }),
              path + ": empty trace (no records): nothing to run");
}

TEST(ChampSimTrace, TruncatedCompressedStreamNamesTheRecord) {
    TempDir dir;
    for (const auto& [compression, name] :
         {std::pair{Compression::Gzip, "gzip"}, std::pair{Compression::Xz, "xz"}}) {
        // Small: the stream breaks before the first record is complete.
        const std::string plain = dir.file("small");
        writeFile(plain, champsimBytes(champsimLoop(100)));
        const std::string packed = dir.file("small.z");
        compressFile(plain, packed, compression);
        std::string bytes = readFile(packed);
        writeFile(packed, bytes.substr(0, bytes.size() - 5));
        EXPECT_EQ(errorOf([&] { openTrace(packed, "champsim"); }),
                  packed + ": truncated or corrupt " + name + " stream at record 0");
        // Large: the records before the break are read, and the error names the first one
        // that could not be (a whole number of 16384-record chunks in).
        writeFile(plain, champsimBytes(champsimLoop(100000)));
        compressFile(plain, packed, compression);
        bytes = readFile(packed);
        writeFile(packed, bytes.substr(0, bytes.size() * 3 / 4));
        ChampSimTrace trace(packed);
        Instruction insn;
        std::uint64_t read = 0;
        const std::string error = errorOf([&] {
            while (trace.next(insn))
                ++read;
        });
        EXPECT_GT(read, 0u);
        EXPECT_LT(read, 100000u);
        EXPECT_EQ(read % 16384, 0u);
        EXPECT_EQ(error, packed + ": truncated or corrupt " + name + " stream at record " +
                             std::to_string(read));
    }
}

TEST(ChampSimTrace, OtherFormatsAreRefusedNamingTheFile) {
    // Lackey text read as records: its branch-flag bytes are characters ("==12345== "), not 0
    // or 1.
    EXPECT_EQ(errorOf([] { openTrace(kSmallLackey, "champsim"); }),
              kSmallLackey + ": corrupt champsim trace at record 0: is_branch 0x3d, branch_taken "
                             "0x20 (each 0 or 1)");
    EXPECT_EQ(errorOf([] { openTrace(kSmallBinary, "champsim"); }),
              kSmallBinary + ": is a tlmmu binary trace, not champsim (use format 'binary')");
    TempDir dir;
    auto records = champsimLoop(3);
    records[2].branch_taken = 2;
    writeFile(dir.file("t"), champsimBytes(records));
    EXPECT_EQ(errorOf([&] { readAll(dir.file("t"), "champsim"); }),
              dir.file("t") +
                  ": corrupt champsim trace at record 2: is_branch 0x00, branch_taken 0x02 "
                  "(each 0 or 1)");
}

TEST(ChampSimTraceWriter, GroupsAFetchWithTheReferencesThatFollowIt) {
    TempDir dir;
    const std::string path = dir.file("t");
    ChampSimTraceWriter writer(path);
    const std::vector<Instruction> in = {
        insn(0, 0, {ref(RefKind::Load, 0x10, 8)}), // before any instruction: its own record
        insn(0x400000, 3,
             {ref(RefKind::Load, 0x1000, 1), ref(RefKind::Store, 0x2000, 4),
              ref(RefKind::Load, 0x1008, 16), ref(RefKind::Load, 0x1010, 8),
              ref(RefKind::Load, 0x1018, 8), ref(RefKind::Load, 0x1020, 8), // 5th load: new
              ref(RefKind::Store, 0x2008, 8)}),
        insn(0x400000, 0, {ref(RefKind::Modify, 0x3000, 8)}), // continuation: joins, a slot in each
        insn(0x400003, 5,
             {ref(RefKind::Store, 0x2010, 8), ref(RefKind::Store, 0x2018, 8),
              ref(RefKind::Modify, 0x3008, 8)}), // stores full: the modify moves on
        insn(0x400008, 2),
    };
    for (const auto& i : in)
        writer.write(i);
    writer.close();
    EXPECT_EQ(writer.records(), 6u);
    const std::vector<ChampSimRecord> expected = {
        {0, 0, 0, {}, {0x10}},
        {0x400000, 0, 0, {0x2000}, {0x1000, 0x1008, 0x1010, 0x1018}},
        {0x400000, 0, 0, {0x2008, 0x3000}, {0x1020, 0x3000}},
        {0x400003, 0, 0, {0x2010, 0x2018}, {}},
        {0x400003, 0, 0, {0x3008}, {0x3008}},
        {0x400008, 0, 0, {}, {}},
    };
    std::string bytes = champsimBytes(expected);
    for (std::size_t r = 0; r < expected.size(); ++r) // the writer leaves registers 0
        std::fill_n(bytes.begin() + 64 * r + 10, 6, '\0');
    EXPECT_EQ(readFile(path), bytes);
    EXPECT_FALSE(ChampSimTraceWriter::representable(insn(4, 4, {ref(RefKind::Load, 0, 8)})));
    EXPECT_TRUE(ChampSimTraceWriter::representable(insn(0, 4, {ref(RefKind::Load, 1, 8)})));
}

TEST(ChampSimTraceWriter, RoundTripThroughBinaryKeepsTheReferences) {
    TempDir dir;
    auto records = champsimLoop(30000);
    records[7].is_branch = records[7].branch_taken = 1;
    const std::string champsim = dir.file("t.champsim");
    writeFile(champsim, champsimBytes(records));
    const auto expected = champsimExpected(records);
    for (auto compression : {Compression::None, Compression::Gzip, Compression::Xz}) {
        // champsim -> binary: the same records.
        const std::string binary = dir.file(std::string("t.bin.") + toString(compression));
        writeBinary(binary, readAll(champsim, "champsim"), compression);
        EXPECT_EQ(readAll(binary, "binary"), expected);
        // binary -> champsim: the same references again, record for record.
        const std::string back = dir.file(std::string("back.") + toString(compression));
        {
            ChampSimTraceWriter writer(back, compression);
            for (const auto& r : readAll(binary, "binary"))
                writer.write(r);
            writer.close();
            EXPECT_EQ(writer.records(), records.size());
        }
        EXPECT_EQ(readAll(back, "champsim"), expected) << toString(compression);
    }
}

// --- random ------------------------------------------------------------------------------------

TEST(Random, MatchesReferenceSequences) {
    // splitmix64 from 0 and xoshiro256** seeded by it: published/reference values, so the
    // synthetic workloads are the same on every platform.
    std::uint64_t state = 0;
    EXPECT_EQ(splitmix64(state), 0xe220a8397b1dcdafULL);
    EXPECT_EQ(splitmix64(state), 0x6e789e6aa1b965f4ULL);
    Xoshiro256ss rng(0);
    EXPECT_EQ(rng.next(), 0x99ec5f36cb75f2b4ULL);
    EXPECT_EQ(rng.next(), 0xbf6e1f784956452aULL);
    EXPECT_EQ(rng.next(), 0x1a5f849d4933e6e0ULL);
}

TEST(Random, BelowAndDoubleStayInRange) {
    Xoshiro256ss rng(7);
    std::vector<int> hist(10);
    for (int i = 0; i < 100000; ++i) {
        const double d = rng.nextDouble();
        ASSERT_GE(d, 0.0);
        ASSERT_LT(d, 1.0);
        const auto v = rng.below(10);
        ASSERT_LT(v, 10u);
        ++hist[v];
    }
    for (int count : hist)
        EXPECT_NEAR(count, 10000, 500);
}

TEST(Random, IndexPermutationIsABijection) {
    for (std::uint64_t n : {1u, 2u, 3u, 7u, 256u, 1000u, 4097u}) {
        IndexPermutation perm(n, 42);
        std::set<std::uint64_t> seen;
        for (std::uint64_t i = 0; i < n; ++i) {
            const auto v = perm(i);
            ASSERT_LT(v, n);
            seen.insert(v);
        }
        EXPECT_EQ(seen.size(), n);
    }
}

// --- synthetic ---------------------------------------------------------------------------------

namespace {
SyntheticParams patternParams(const std::string& pattern) {
    SyntheticParams p;
    p.pattern = pattern;
    p.footprint = 64 * 4096 + 4096 / 2; // not a page multiple: zipf uses the whole pages only
    p.instructions = 1000;
    p.refs_per_instruction = 0.35;
    p.write_fraction = 0.25;
    p.stride = 4096 + 64;
    p.seed = 1234;
    return p;
}
} // namespace

class SyntheticPattern : public ::testing::TestWithParam<std::string> {};

TEST_P(SyntheticPattern, DeterministicAndRewindable) {
    const auto params = patternParams(GetParam());
    const auto first = generate(params);
    EXPECT_EQ(generate(params), first);
    SyntheticWorkload workload(params);
    Instruction scratch;
    for (int i = 0; i < 123; ++i)
        workload.next(scratch);
    workload.rewind();
    EXPECT_EQ(readAll(workload), first);
    if (GetParam() != "stream" && GetParam() != "strided") {
        auto other = params;
        other.seed = 99;
        EXPECT_NE(generate(other), first);
    }
}

TEST_P(SyntheticPattern, ExactEvenlySpreadReferenceCount) {
    const auto records = generate(patternParams(GetParam()));
    ASSERT_EQ(records.size(), 1000u); // alpha < 1: no continuation records
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < records.size(); ++i) {
        total += records[i].num_refs;
        // floor(n * 0.35) after every prefix of n instructions: exact and evenly spread.
        ASSERT_EQ(total, (i + 1) * 35 / 100) << "after " << i + 1 << " instructions";
    }
    EXPECT_EQ(total, 350u);
}

TEST_P(SyntheticPattern, AddressesStayInFootprintAndPcsInCode) {
    auto params = patternParams(GetParam());
    params.instructions = 20000;
    params.refs_per_instruction = 1.5;
    const auto records = generate(params);
    std::uint64_t expectedPc = params.code_base;
    for (const auto& r : records) {
        ASSERT_EQ(r.size, 4u);
        ASSERT_EQ(r.pc, expectedPc);
        expectedPc += 4;
        if (expectedPc == params.code_base + params.code_footprint) expectedPc = params.code_base;
        for (unsigned i = 0; i < r.num_refs; ++i) {
            const DataRef& d = r.refs[i];
            ASSERT_GE(d.addr, params.data_base);
            ASSERT_LE(d.addr + d.size, params.data_base + params.footprint);
            ASSERT_EQ(d.addr % d.size, 0u);
        }
    }
}

TEST_P(SyntheticPattern, WriteFractionIsApproximatelyRight) {
    auto params = patternParams(GetParam());
    params.instructions = 40000;
    params.refs_per_instruction = 1;
    std::map<RefKind, int> kinds;
    for (const auto& r : generate(params))
        for (unsigned i = 0; i < r.num_refs; ++i)
            ++kinds[r.refs[i].kind];
    if (GetParam() == "gups") {
        EXPECT_EQ(kinds[RefKind::Modify], 40000); // read-modify-write only
        return;
    }
    EXPECT_EQ(kinds[RefKind::Modify], 0);
    EXPECT_NEAR(kinds[RefKind::Store] / 40000.0, 0.25, 0.015);
}

INSTANTIATE_TEST_SUITE_P(AllPatterns, SyntheticPattern,
                         ::testing::Values("stream", "strided", "random", "zipf", "gups"));

TEST(SyntheticWorkload, StreamAndStridedStepAndWrap) {
    auto params = patternParams("stream");
    params.footprint = 4096;
    params.refs_per_instruction = 1;
    params.instructions = 1000;
    auto records = generate(params);
    for (std::size_t i = 0; i < records.size(); ++i)
        ASSERT_EQ(records[i].refs[0].addr, params.data_base + (i * 8) % 4096) << i;

    params.pattern = "strided";
    params.footprint = 3 * 4096;
    params.stride = 5000 / 8 * 8;
    records = generate(params);
    for (std::size_t i = 0; i < records.size(); ++i)
        ASSERT_EQ(records[i].refs[0].addr, params.data_base + (i * params.stride) % (3 * 4096));
}

TEST(SyntheticWorkload, ZipfIsSkewedAndScattered) {
    SyntheticParams params;
    params.pattern = "zipf";
    params.footprint = 256 * 4096;
    params.instructions = 100000;
    params.refs_per_instruction = 1;
    params.zipf_theta = 0.99;
    std::vector<int> perPage(256);
    for (const auto& r : generate(params))
        ++perPage[(r.refs[0].addr - params.data_base) / 4096];
    std::vector<int> sorted = perPage;
    std::sort(sorted.rbegin(), sorted.rend());
    EXPECT_GT(sorted[0], 20 * sorted[128]); // top page much hotter than the median one
    EXPECT_GT(sorted[0], 10000);            // zipf(0.99) over 256: rank 1 has ~16%
    // The permutation scatters the hot pages: the hottest is not simply page 0, and the ten
    // hottest are not one contiguous run.
    const auto hottest = std::max_element(perPage.begin(), perPage.end()) - perPage.begin();
    std::vector<int> top;
    for (int page = 0; page < 256; ++page)
        if (perPage[page] >= sorted[9]) top.push_back(page);
    EXPECT_GT(top.back() - top.front(), 20) << "hottest page " << hottest;
}

TEST(SyntheticWorkload, ManyRefsPerInstructionUseContinuations) {
    auto params = patternParams("random");
    params.instructions = 10;
    params.refs_per_instruction = 20;
    const auto records = generate(params);
    ASSERT_EQ(records.size(), 20u);
    for (std::size_t i = 0; i < records.size(); i += 2) {
        EXPECT_EQ(records[i].size, 4u);
        EXPECT_EQ(records[i].num_refs, 16u);
        EXPECT_EQ(records[i + 1].size, 0u); // continuation of the same instruction
        EXPECT_EQ(records[i + 1].pc, records[i].pc);
        EXPECT_EQ(records[i + 1].num_refs, 4u);
    }
}

TEST(SyntheticWorkload, ZeroRefsAndZeroInstructions) {
    auto params = patternParams("random");
    params.refs_per_instruction = 0;
    for (const auto& r : generate(params))
        EXPECT_EQ(r.num_refs, 0u);
    params.instructions = 0;
    EXPECT_TRUE(generate(params).empty());
}

TEST(SyntheticWorkload, ValidationNamesKeyAndWhatIsAllowed) {
    auto check = [](auto mutate, const std::string& expected) {
        SyntheticParams p;
        mutate(p);
        EXPECT_EQ(errorOf([&] { SyntheticWorkload w(p); }), expected);
    };
    check([](SyntheticParams& p) { p.pattern = "linear"; },
          "workload.synthetic.pattern: must be one of stream, strided, random, zipf, gups, got "
          "'linear'");
    check([](SyntheticParams& p) { p.footprint = 100; },
          "workload.synthetic.footprint: must be at least 4096 (one 4 KiB page), got 100");
    check([](SyntheticParams& p) { p.footprint = 4100; },
          "workload.synthetic.footprint: must be a multiple of 8 (the reference size), got 4100");
    check([](SyntheticParams& p) { p.refs_per_instruction = -0.5; },
          "workload.synthetic.refs_per_instruction: must be a number from 0 to 256, got -0.5");
    check([](SyntheticParams& p) { p.refs_per_instruction = NAN; },
          "workload.synthetic.refs_per_instruction: must be a number from 0 to 256, got nan");
    check([](SyntheticParams& p) { p.write_fraction = 1.5; },
          "workload.synthetic.write_fraction: must be from 0 to 1, got 1.5");
    check(
        [](SyntheticParams& p) {
            p.pattern = "strided";
            p.stride = 12;
        },
        "workload.synthetic.stride: must be a positive multiple of ref_size (8), got 12");
    check(
        [](SyntheticParams& p) {
            p.pattern = "zipf";
            p.zipf_theta = 0;
        },
        "workload.synthetic.zipf_theta: must be a number > 0, got 0");
    check([](SyntheticParams& p) { p.ref_size = 3; },
          "workload.synthetic.ref_size: must be a power of two from 1 to 4096, got 3");
    check([](SyntheticParams& p) { p.code_footprint = 6; },
          "workload.synthetic.code_footprint: must be a positive multiple of 4 (the instruction "
          "size), got 6");
    check([](SyntheticParams& p) { p.data_base = ~Addr{0} - 100; },
          "workload.synthetic.footprint: data_base + footprint must fit in 64 bits, got 1048576");
}

// --- scripts/trace-program with valgrind -------------------------------------------------------

TEST(TraceProgram, RecordsBinTrueWithValgrind) {
    if (std::system("command -v valgrind >/dev/null 2>&1") != 0)
        GTEST_SKIP() << "valgrind is not installed";
    TempDir dir;
    const std::string out = dir.file("true.lackey.xz");
    const std::string cmd =
        kSourceDir + "/scripts/trace-program -o " + out + " -- /bin/true 2>/dev/null";
    FILE* pipe = ::popen(cmd.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    char line[4096] = {};
    const bool printed = std::fgets(line, sizeof line, pipe) != nullptr;
    ASSERT_EQ(::pclose(pipe), 0) << cmd;
    ASSERT_TRUE(printed);
    EXPECT_EQ(std::string(line), out + "\n");
    auto trace = openTrace(out, "auto");
    EXPECT_EQ(trace->describe(), "lackey trace " + out + " (xz)");
    std::uint64_t instructions = 0, refs = 0;
    Instruction insn;
    while (trace->next(insn)) {
        instructions += insn.size != 0;
        refs += insn.num_refs;
    }
    EXPECT_GT(instructions, 1000u); // the dynamic loader alone runs ~100k
    EXPECT_GT(refs, 100u);
}
