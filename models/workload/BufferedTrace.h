// The part the record-based trace readers (BinaryTrace, ChampSimTrace) share: the file, a read
// buffer, the count of records read, and the Workload methods that follow from them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "workload/TraceFile.h"
#include "workload/Workload.h"

namespace tlmmu {

class BufferedTrace : public Workload {
  public:
    void rewind() override;
    std::string describe() const override { return file_.describe(kind_); }
    // The last record read, numbered from 0.
    std::string where() const override {
        return file_.path() + ": record " + std::to_string(index_ ? index_ - 1 : 0);
    }

    // Records read so far.
    std::uint64_t records() const { return index_; }

  protected:
    // `kind` names the format in describe(): "KIND trace PATH".
    BufferedTrace(const std::string& path, std::string kind);

    // Empties the buffer and the count, then reads the format's header if any (the derived
    // constructor calls it, and rewind() after reopening the file).
    virtual void start();
    // Makes at least n bytes available from pos_ unless the input ends first; returns how many
    // are. TraceFile's errors pass through.
    std::size_t ensure(std::size_t n);

    TraceFile file_;
    std::vector<std::uint8_t> buf_;
    std::size_t pos_ = 0;
    std::size_t len_ = 0;
    bool eof_ = false;
    std::uint64_t index_ = 0;

  private:
    std::string kind_;
};

} // namespace tlmmu
