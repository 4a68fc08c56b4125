// Opens a trace file as a Workload, choosing the reader from the requested format.
#pragma once

#include <memory>
#include <string>

#include "workload/Workload.h"

namespace tlmmu {

// format: "lackey", "binary", "champsim" or "auto" (binary if the decompressed content starts
// with the binary magic, lackey text otherwise: champsim records have no magic to detect, so
// they are read only when asked for). Throws InputError naming the file when the content does
// not match the format, and "unknown trace format 'X' (allowed: lackey, binary, champsim,
// auto)". The
// first record is read at once: a malformed first record, or a trace with no record at all
// ("FILE: empty trace (no records): nothing to run"), is refused here, before any run.
std::unique_ptr<Workload> openTrace(const std::string& path, const std::string& format = "auto");

// True if the (possibly compressed) file starts with the binary trace magic.
bool isBinaryTrace(const std::string& path);

} // namespace tlmmu
