#include "OutputFile.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <iostream>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/Types.h"

namespace fs = std::filesystem;

namespace tlmmu {

namespace {

// The temporary files a signal must remove: fixed storage, read by the handler (no allocation,
// no locks: only async-signal-safe calls there).
constexpr int kSlots = 64;
constexpr std::size_t kPathMax = 4096;
char g_tmp[kSlots][kPathMax];
volatile std::sig_atomic_t g_used[kSlots];
volatile std::sig_atomic_t g_committed = 0; // the outputs are in place (a late signal)
char g_program[64] = "tlmmu";
bool g_tty = false;

void say(const char* s) {
    const std::size_t n = std::strlen(s);
    for (std::size_t done = 0; done < n;) {
        const ssize_t w = ::write(STDERR_FILENO, s + done, n - done);
        if (w <= 0) return;
        done += static_cast<std::size_t>(w);
    }
}

extern "C" void onSignal(int sig) {
    int removed = 0;
    for (int i = 0; i < kSlots; ++i)
        if (g_used[i] && ::unlink(g_tmp[i]) == 0) ++removed;
    if (g_tty) say("\n"); // after the progress line
    say(g_program);
    say(sig == SIGINT ? ": interrupted by SIGINT" : ": interrupted by SIGTERM");
    say(g_committed ? " after the outputs were written\n"
        : removed   ? ": no output written, the previous files are as they were (unfinished "
                      "temporary files removed)\n"
                    : ": no output written\n");
    ::_exit(128 + sig);
}

int claimSlot(const std::string& path) {
    if (path.size() >= kPathMax) return -1;
    for (int i = 0; i < kSlots; ++i)
        if (!g_used[i]) {
            std::memcpy(g_tmp[i], path.c_str(), path.size() + 1);
            g_used[i] = 1;
            return i;
        }
    return -1;
}

void releaseSlot(int& slot) {
    if (slot >= 0) g_used[slot] = 0;
    slot = -1;
}

// Signals held back while outputs are renamed into place (the set stays consistent).
class HoldSignals {
  public:
    HoldSignals() {
        sigemptyset(&set_);
        sigaddset(&set_, SIGINT);
        sigaddset(&set_, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set_, &old_);
    }
    ~HoldSignals() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }

  private:
    sigset_t set_, old_;
};

// A stream buffer on a file descriptor that keeps the first error (errno) of write(2).
class FdBuf : public std::streambuf {
  public:
    explicit FdBuf(int fd) : fd_(fd) { setp(buf_, buf_ + sizeof buf_); }
    int error() const { return error_; }

  protected:
    int overflow(int c) override {
        if (!drain()) return traits_type::eof();
        if (c != traits_type::eof()) {
            *pptr() = static_cast<char>(c);
            pbump(1);
        }
        return traits_type::not_eof(c);
    }
    int sync() override { return drain() ? 0 : -1; }

  private:
    bool drain() {
        for (char* p = pbase(); p < pptr() && !error_;) {
            const ssize_t n = ::write(fd_, p, static_cast<std::size_t>(pptr() - p));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0)
                error_ = n < 0 ? errno : EIO;
            else
                p += n;
        }
        setp(buf_, buf_ + sizeof buf_);
        return !error_;
    }
    int fd_;
    int error_ = 0;
    char buf_[1 << 16];
};

struct Identity {
    bool exists = false, chr = false;
    dev_t dev = 0;
    ino_t ino = 0;
    std::string canon;
};

Identity identify(const std::string& path) {
    Identity id;
    struct stat st {};
    if ((path == "-" ? ::fstat(STDOUT_FILENO, &st) : ::stat(path.c_str(), &st)) == 0) {
        id.exists = true, id.chr = S_ISCHR(st.st_mode);
        id.dev = st.st_dev, id.ino = st.st_ino;
    }
    std::error_code ec;
    id.canon = path == "-" ? "-" : fs::weakly_canonical(fs::absolute(path, ec), ec).string();
    return id;
}

// Same file: the same device and inode when both exist, else the same canonical path. Two
// outputs to one character device (/dev/null twice) lose nothing.
bool same(const Identity& a, const Identity& b) {
    if (a.canon == "-" && b.canon == "-") return true;
    if (a.exists != b.exists) return false;
    if (a.exists) return a.dev == b.dev && a.ino == b.ino && !(a.chr && b.chr);
    return a.canon == b.canon;
}

std::string reason(int err) {
    return std::strerror(err ? err : EIO);
}

} // namespace

OutputFile::OutputFile(std::string what, std::string path)
    : what_(std::move(what)), path_(std::move(path)) {}

OutputFile::~OutputFile() {
    discard();
}

void OutputFile::prepare() {
    prepared_ = true;
    if (path_ == "-") {
        in_place_ = true;
        if (::fcntl(STDOUT_FILENO, F_GETFL) < 0)
            throw InputError("stdout: cannot write: " + reason(errno));
        return;
    }
    struct stat st {};
    const bool exists = ::stat(path_.c_str(), &st) == 0;
    if (!exists && errno != ENOENT) throw InputError(path_ + ": cannot write: " + reason(errno));
    if (exists && S_ISDIR(st.st_mode))
        throw InputError(path_ + ": cannot write: " + reason(EISDIR));
    if (exists && ::access(path_.c_str(), W_OK) != 0)
        throw InputError(path_ + ": cannot write: " + reason(errno));
    if (exists && !S_ISREG(st.st_mode)) {
        in_place_ = true; // a device, FIFO or socket: never replaced
        return;
    }
    // A regular file (or none yet): its new version is written beside it (where a symbolic
    // link points), then renamed over it.
    std::error_code ec;
    final_ = exists ? fs::canonical(path_, ec).string() : path_;
    if (ec) final_ = path_;
    const fs::path f(final_);
    const std::string dir = f.has_parent_path() ? f.parent_path().string() : ".";
    std::string tmpl = dir + "/." + f.filename().string() + ".tmp-XXXXXX";
    fd_ = ::mkstemp(tmpl.data());
    if (fd_ < 0) {
        const int err = errno;
        throw InputError(
            path_ + ": cannot write: " + reason(err) +
            (exists ? " (its new version is written in " + dir + ", then renamed)" : ""));
    }
    tmp_ = tmpl;
    slot_ = claimSlot(tmp_);
    ::fcntl(fd_, F_SETFD, FD_CLOEXEC);
    mode_t mode = 0;
    if (exists) {
        mode = st.st_mode & 07777;
    } else {
        const mode_t mask = ::umask(0);
        ::umask(mask);
        mode = 0666 & ~mask;
    }
    ::fchmod(fd_, mode);
}

std::string OutputFile::target() {
    if (!prepared_) prepare();
    if (path_ == "-") return "/dev/stdout";
    if (in_place_) return path_;
    if (fd_ >= 0) ::close(fd_), fd_ = -1; // the writer opens it by name
    return tmp_;
}

std::string OutputFile::write(const std::function<void(std::ostream&)>& fn) {
    if (!prepared_) prepare();
    int fd = fd_;
    const std::string name = path_ == "-" ? "stdout" : path_;
    if (path_ == "-") {
        std::cout.flush();
        std::fflush(stdout);
        fd = STDOUT_FILENO;
    } else if (in_place_) {
        fd = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0) return name + ": write failed: " + reason(errno);
    }
    int err = 0;
    {
        FdBuf buf(fd);
        std::ostream os(&buf);
        try {
            fn(os);
        } catch (...) {
            os.flush(); // what was written before the failure stays (in place)
            if (fd != STDOUT_FILENO) ::close(fd);
            if (fd == fd_) fd_ = -1;
            discard();
            throw;
        }
        os.flush();
        err = buf.error();
    }
    if (fd != STDOUT_FILENO && ::close(fd) != 0 && !err) err = errno;
    if (fd == fd_) fd_ = -1;
    if (err) {
        discard();
        return name + ": write failed: " + reason(err);
    }
    return "";
}

std::string OutputFile::commit() {
    if (tmp_.empty()) return "";
    if (fd_ >= 0) ::close(fd_), fd_ = -1;
    std::string error;
    if (std::rename(tmp_.c_str(), final_.c_str()) != 0) {
        error = path_ + ": write failed: cannot rename " + tmp_ + " over it: " + reason(errno);
        ::unlink(tmp_.c_str());
    }
    releaseSlot(slot_);
    tmp_.clear();
    return error;
}

void OutputFile::discard() {
    if (fd_ >= 0) ::close(fd_), fd_ = -1;
    if (!tmp_.empty()) ::unlink(tmp_.c_str());
    releaseSlot(slot_);
    tmp_.clear();
}

Outputs::Outputs(const std::string& program) {
    std::snprintf(g_program, sizeof g_program, "%s", program.c_str());
    g_tty = ::isatty(STDERR_FILENO);
    struct sigaction sa {};
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
}

void Outputs::input(const std::string& what, const std::string& path) {
    if (!path.empty()) inputs_.push_back({what, path});
}

void Outputs::external(const std::string& what, const std::string& path) {
    if (!path.empty()) externals_.push_back({what, path});
}

OutputFile* Outputs::output(const std::string& what, const std::string& path) {
    if (path.empty()) return nullptr;
    outputs_.push_back(std::make_unique<OutputFile>(what, path));
    return outputs_.back().get();
}

void Outputs::prepare() {
    std::vector<Identity> in, ext, out;
    for (const auto& i : inputs_)
        in.push_back(identify(i.path));
    for (const auto& e : externals_)
        ext.push_back(identify(e.path));
    for (const auto& o : outputs_)
        out.push_back(identify(o->path()));
    for (std::size_t e = 0; e < externals_.size(); ++e)
        for (std::size_t i = 0; i < inputs_.size(); ++i)
            if (same(ext[e], in[i]))
                throw InputError(externals_[e].what + " " + externals_[e].path +
                                 " is the input file " + inputs_[i].path + " (" + inputs_[i].what +
                                 "): an output never overwrites an input");
    for (std::size_t o = 0; o < outputs_.size(); ++o) {
        const std::string name = outputs_[o]->what() + " " + outputs_[o]->path();
        for (std::size_t i = 0; i < inputs_.size(); ++i)
            if (same(out[o], in[i]))
                throw InputError(name + " is the input file " + inputs_[i].path + " (" +
                                 inputs_[i].what + "): an output never overwrites an input");
        auto clash = [&](const Named& other) {
            throw InputError(name + " and " + other.what + " " + other.path +
                             " name the same file: each output needs its own");
        };
        for (std::size_t e = 0; e < externals_.size(); ++e)
            if (same(out[o], ext[e])) clash(externals_[e]);
        for (std::size_t p = 0; p < o; ++p)
            if (same(out[o], out[p])) {
                // The first given first.
                throw InputError(outputs_[p]->what() + " " + outputs_[p]->path() + " and " + name +
                                 " name the same file: each output needs its own");
            }
    }
    HoldSignals hold; // a temporary file is in the handler's table as soon as it exists
    for (const auto& o : outputs_)
        o->prepare();
}

std::vector<std::string> Outputs::commit() {
    HoldSignals hold;
    std::vector<std::string> errors;
    for (const auto& o : outputs_)
        if (auto e = o->commit(); !e.empty()) errors.push_back(e);
    g_committed = !outputs_.empty();
    return errors;
}

std::string writeStdout(const std::string& text) {
    OutputFile out("stdout", "-");
    return out.write([&](std::ostream& os) { os << text; });
}

} // namespace tlmmu
