// Every page-table format as a test parameter: the named ones and generic shapes that stress
// the codec (small/large pages, 4-byte PTEs, one level). Shared by the walk and firmware tests.
#pragma once

#include <ostream>
#include <string>

#include <gtest/gtest.h>

namespace tlmmu::test {

struct FormatCase {
    const char* name;
    unsigned page_bits = 12;
    unsigned pte_bytes = 8;
    unsigned levels = 3;
    const char* label = nullptr;
};

inline std::string caseName(const testing::TestParamInfo<FormatCase>& info) {
    return info.param.label ? info.param.label : info.param.name;
}

inline void PrintTo(const FormatCase& c, std::ostream* os) {
    *os << (c.label ? c.label : c.name);
}

inline const FormatCase kAllFormats[] = {
    {"sv39"},
    {"sv48"},
    {"sv57"},
    {"x86_64"},
    {"x86_64_5level"},
    {"x86_32"},
    {"generic", 12, 8, 3, "generic_p12_s8_l3"},
    {"generic", 10, 4, 3, "generic_p10_s4_l3"},
    {"generic", 16, 8, 3, "generic_p16_s8_l3"},
    {"generic", 14, 4, 4, "generic_p14_s4_l4"},
    {"generic", 21, 4, 1, "generic_p21_s4_l1"},
};

} // namespace tlmmu::test
