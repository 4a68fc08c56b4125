// The outputs of a tool run (tlmmu's statistics, timeline and printed tables; tlmmu-trace's
// converted trace and summaries), so that nothing the user had is lost (docs/errors.md, "Output
// files"):
// - before the run, every output path is compared with every input and every other output (same
//   device and inode when the file exists, else the same canonical path) and refused (InputError,
//   exit 2) naming both; a path that cannot be written is refused too;
// - a regular file is written to a temporary file in its folder, renamed over the path only at
//   commit(): a refused or failed run leaves the previous file as it was;
// - a special file (character device such as /dev/null, FIFO, socket) and "-" (stdout) are
//   written in place, never replaced or deleted;
// - SIGINT or SIGTERM removes every temporary file, says so in one line on stderr and exits with
//   128 + the signal's number;
// - a failed write is reported as "PATH: write failed: REASON" (the caller exits 1).
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace tlmmu {

class OutputFile {
  public:
    // `what` names the output in messages ("--stats-json", "OUT"); `path` "-" is stdout.
    OutputFile(std::string what, std::string path);
    ~OutputFile(); // removes the temporary file if commit() did not rename it
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;

    const std::string& what() const { return what_; }
    const std::string& path() const { return path_; }
    bool inPlace() const { return in_place_; } // special file or stdout: written in place

    // Before the run: refuses (InputError "PATH: cannot write: REASON") a path that cannot be
    // written, and creates the temporary file of a regular file.
    void prepare();
    // The file a writer that opens by name writes (the temporary, the special file itself, or
    // /dev/stdout), for that writer instead of write(); commit() then renames it into place.
    std::string target();
    // Writes the output through `fn`; "" on success, else "PATH: write failed: REASON".
    std::string write(const std::function<void(std::ostream&)>& fn);
    // Renames the temporary over the path (nothing to do in place); "" or the error.
    std::string commit();
    // Removes the temporary file (the previous file stays as it was).
    void discard();

  private:
    std::string what_, path_;
    bool in_place_ = false, prepared_ = false;
    std::string final_; // the path renamed over (symbolic links resolved)
    std::string tmp_;   // the temporary file, "" when none
    int fd_ = -1;       // the temporary's descriptor, from prepare() to write()
    int slot_ = -1;     // its entry in the table the signal handler cleans
};

// Every input and output of one run of a tool.
class Outputs {
  public:
    // `program` prefixes the line printed on a signal ("tlmmu: interrupted by SIGINT: ...").
    // Installs the SIGINT and SIGTERM handlers.
    explicit Outputs(const std::string& program);
    // A file the run reads; `what` names it ("--config", "workload.trace").
    void input(const std::string& what, const std::string& path);
    // A file written by someone else (e.g. a VCD written by Verilator): checked, not managed.
    void external(const std::string& what, const std::string& path);
    // An output written through this set; empty paths are not added (nullptr).
    OutputFile* output(const std::string& what, const std::string& path);
    // Compares every output with every input and every other output, then prepares each output.
    // Throws InputError naming both paths.
    void prepare();
    // Renames every written output into place (signals held back meanwhile); the errors.
    std::vector<std::string> commit();

  private:
    struct Named {
        std::string what, path;
    };
    std::vector<Named> inputs_, externals_;
    std::vector<std::unique_ptr<OutputFile>> outputs_;
};

// Writes `text` to stdout (the file descriptor, after flushing std::cout and stdio); "" on
// success, else "stdout: write failed: REASON".
std::string writeStdout(const std::string& text);

} // namespace tlmmu
