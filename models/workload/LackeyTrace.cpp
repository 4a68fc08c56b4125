#include "workload/LackeyTrace.h"

#include <array>
#include <cstring>

#include "common/Types.h"

namespace tlmmu {

namespace {

constexpr std::size_t kChunk = kTraceChunkBytes;
constexpr std::size_t kShownChars = 60;
constexpr std::uint32_t kMaxSize = kMaxAccessBytes;
constexpr char kBinaryMagic[8] = {'T', 'L', 'M', 'M', 'U', 'T', 'R', '1'};

constexpr std::array<std::int8_t, 256> makeHexTable() {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t)
        v = -1;
    for (int c = '0'; c <= '9'; ++c)
        t[c] = static_cast<std::int8_t>(c - '0');
    for (int c = 'a'; c <= 'f'; ++c)
        t[c] = static_cast<std::int8_t>(c - 'a' + 10);
    for (int c = 'A'; c <= 'F'; ++c)
        t[c] = static_cast<std::int8_t>(c - 'A' + 10);
    return t;
}
constexpr std::array<std::int8_t, 256> kHex = makeHexTable();

// Every line in the parse window ends with '\n', which is neither a hex nor a decimal digit, so
// the digit loops below need no bounds checks.
inline bool parseHex(const char*& p, Addr& out) {
    const char* start = p;
    Addr v = 0;
    for (;;) {
        const int d = kHex[static_cast<unsigned char>(*p)];
        if (d < 0) break;
        v = (v << 4) | static_cast<Addr>(d);
        ++p;
    }
    out = v;
    const auto digits = p - start;
    return digits > 0 && digits <= 16;
}

inline bool parseSize(const char*& p, std::uint32_t& out) {
    const char* start = p;
    std::uint32_t v = 0;
    while (static_cast<unsigned>(*p - '0') < 10u && p - start < 8) {
        v = v * 10 + static_cast<std::uint32_t>(*p - '0');
        ++p;
    }
    out = v;
    return p != start && v >= 1 && v <= kMaxSize;
}

} // namespace

LackeyTrace::LackeyTrace(const std::string& path) : file_(path), buf_(kChunk + 1) {
    reset();
}

void LackeyTrace::reset() {
    cur_ = lim_ = fill_ = buf_.data();
    eof_ = false;
    checkMagic_ = true;
    line_ = 0;
    start_ = Start::None;
    // Read the first chunk now, so that opening a binary trace as lackey fails at once.
    fill();
}

void LackeyTrace::rewind() {
    file_.reopen();
    reset();
}

std::string LackeyTrace::describe() const {
    return file_.describe("lackey");
}

// Called when every complete line in the buffer is consumed: keeps the incomplete tail, reads
// more behind it and sets up the next window of complete lines. False at the end of the input.
bool LackeyTrace::fill() {
    char* buf = buf_.data();
    std::size_t len = static_cast<std::size_t>(fill_ - lim_);
    std::memmove(buf, lim_, len);
    for (;;) {
        if (!eof_) {
            const std::size_t want = kChunk - len;
            const std::size_t got = file_.read(buf + len, want);
            if (got < want) eof_ = true; // TraceFile returns short reads only at the end
            len += got;
            if (checkMagic_ && (len >= sizeof kBinaryMagic || eof_)) {
                checkMagic_ = false;
                if (len >= sizeof kBinaryMagic &&
                    std::memcmp(buf, kBinaryMagic, sizeof kBinaryMagic) == 0)
                    throw InputError(file_.path() +
                                     ": is a tlmmu binary trace, not lackey text (use format "
                                     "'binary')");
            }
        }
        if (const void* nl = ::memrchr(buf, '\n', len)) {
            cur_ = buf;
            lim_ = static_cast<const char*>(nl) + 1;
            fill_ = buf + len;
            return true;
        }
        if (eof_) {
            if (len == 0) {
                cur_ = lim_ = fill_ = buf;
                return false;
            }
            // A final line without newline: terminate it (the buffer has one spare byte) and
            // parse it like any other, so an incomplete one is reported as malformed.
            buf[len] = '\n';
            cur_ = buf;
            lim_ = fill_ = buf + len + 1;
            return true;
        }
        if (len == kChunk) {
            // No newline in a full chunk: no valid record is that long.
            buf[len] = '\n';
            cur_ = buf;
            lim_ = fill_ = buf + len + 1;
            ++line_;
            malformed(buf);
        }
    }
}

void LackeyTrace::malformed(const char* lineStart) const {
    std::string shown;
    for (const char* p = lineStart; *p != '\n' && shown.size() < kShownChars; ++p) {
        const auto c = static_cast<unsigned char>(*p);
        shown += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?'; // keep the error one line
    }
    throw InputError(file_.path() + ":" + std::to_string(line_) + ": malformed lackey record '" +
                     shown + "'");
}

bool LackeyTrace::next(Instruction& insn) {
    bool started = true;
    insn.num_refs = 0;
    switch (start_) {
    case Start::None:
        started = false;
        break;
    case Start::Insn:
        insn.pc = nextPc_;
        insn.size = nextSize_;
        break;
    case Start::Cont:
        insn.pc = nextPc_;
        insn.size = 0;
        insn.refs[0] = carry_;
        insn.num_refs = 1;
        break;
    }
    for (;;) {
        if (cur_ == lim_ && !fill()) {
            start_ = Start::None;
            return started;
        }
        const char* p = cur_;
        ++line_;
        if (*p == 'I') {
            ++p;
            if (*p != ' ') malformed(cur_);
            while (*p == ' ')
                ++p;
            Addr addr;
            std::uint32_t size;
            if (!parseHex(p, addr) || *p++ != ',' || !parseSize(p, size) || *p++ != '\n')
                malformed(cur_);
            cur_ = p;
            if (started) {
                nextPc_ = addr;
                nextSize_ = size;
                start_ = Start::Insn;
                return true;
            }
            insn.pc = addr;
            insn.size = size;
            started = true;
        } else if (*p == ' ') {
            RefKind kind;
            switch (p[1]) {
            case 'L':
                kind = RefKind::Load;
                break;
            case 'S':
                kind = RefKind::Store;
                break;
            case 'M':
                kind = RefKind::Modify;
                break;
            default:
                malformed(cur_);
            }
            if (p[2] != ' ') malformed(cur_);
            p += 3;
            DataRef ref;
            ref.kind = kind;
            if (!parseHex(p, ref.addr) || *p++ != ',' || !parseSize(p, ref.size) || *p++ != '\n')
                malformed(cur_);
            cur_ = p;
            if (!started) { // data before the first instruction: a continuation of nothing
                insn.pc = 0;
                insn.size = 0;
                started = true;
            }
            if (insn.num_refs == Instruction::kMaxRefs) {
                carry_ = ref;
                nextPc_ = insn.pc;
                start_ = Start::Cont;
                return true;
            }
            insn.refs[insn.num_refs++] = ref;
        } else if (*p == '\n') {
            cur_ = p + 1;
        } else if (p[0] == '=' && p[1] == '=') {
            cur_ = static_cast<const char*>(std::memchr(p, '\n', lim_ - p)) + 1;
        } else {
            malformed(cur_);
        }
    }
}

} // namespace tlmmu
