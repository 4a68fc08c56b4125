// Writes ChampSim traces (the record layout is in ChampSimTrace.h), optionally compressed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "workload/ChampSimTrace.h"
#include "workload/TraceFile.h"
#include "workload/TraceSink.h"
#include "workload/Workload.h"

namespace tlmmu {

// A record holds one instruction and at most 4 loads and 2 stores, without sizes. Each
// instruction (size != 0) starts a record at its pc; its loads fill source_memory and its stores
// destination_memory in order, a modify takes a slot in both (ChampSim's read-modify-write).
// A continuation record's references join the current record. A reference that finds its slots
// full starts a new record at the same ip, so nothing is dropped; read back, that record is one
// more fetch. Sizes become ChampSim's (champfmt::kFetchBytes, kDataBytes); registers and branch
// flags are written as 0. Errors are InputError: "FILE: cannot open for writing: <strerror>",
// "FILE: write failed".
class ChampSimTraceWriter {
  public:
    explicit ChampSimTraceWriter(const std::string& path,
                                 Compression compression = Compression::None);
    // Closes if close() was not called; errors are swallowed there, so call close() to see them.
    ~ChampSimTraceWriter();
    ChampSimTraceWriter(const ChampSimTraceWriter&) = delete;
    ChampSimTraceWriter& operator=(const ChampSimTraceWriter&) = delete;

    // False if `insn` has a data reference at address 0, which a record cannot hold (0 marks an
    // unused slot). write() of such an instruction is std::invalid_argument (a programming error,
    // not bad input: callers check first and name the input record).
    static bool representable(const Instruction& insn);

    void write(const Instruction& insn);
    // Writes the last record, finishes the compressed stream and closes the file.
    void close();

    // Records written or started so far.
    std::uint64_t records() const { return records_; }

  private:
    void startRecord(Addr ip);
    void endRecord();

    TraceSink sink_;
    std::vector<unsigned char> buf_;
    unsigned char record_[champfmt::kRecordBytes] = {};
    bool open_ = false; // a record is being filled
    Addr ip_ = 0;
    unsigned loads_ = 0, stores_ = 0;
    std::uint64_t records_ = 0;
};

} // namespace tlmmu
