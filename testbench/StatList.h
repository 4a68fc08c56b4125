// The statistics a system has, as `tlmmu --list-stats`, `--list-stats-json` and
// `--stats-markdown` print them: every path with its indices folded ("cores[i].tlb.l1d.hits"),
// its kind, unit, whether it adds up over cores and processes, and its meaning, all as the
// models registered them (Stats: each statistic is declared once, where it is counted).
#pragma once

#include <string>

#include "common/Stats.h"

namespace tlmmu {

enum class StatListFormat { Text, Json, Markdown };

std::string describeStats(const Stats& stats, StatListFormat format);

} // namespace tlmmu
