// Runs the C++ Tlb on an access list, for tests/tlb_arrays_ref.py (the independent reference
// model): tlb_arrays_driver CONFIG.json ACCESSES
//   CONFIG: {"arrays": [{"page_sizes": [4096], "entries": 64, "ways": 4}, ...]} or the single
//           form {"entries": 64, "ways": 4}; LRU, x86_64 page sizes.
//   ACCESSES: one "VPN SIZE" a line (base-page number in hex, page size in bytes).
// Each access looks up VPN (ASID 1); a miss fills the page of SIZE holding it. Prints the
// statistics as JSON: accesses, hits, misses, uncacheable_fills, and per array hits and misses
// (its fills: every miss fills the array holding its size once).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "mmu/PteFormat.h"
#include "mmu/Tlb.h"

using namespace tlmmu;

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: tlb_arrays_driver CONFIG.json ACCESSES\n";
        return 2;
    }
    std::ifstream config_file(argv[1]);
    const nlohmann::json j = nlohmann::json::parse(config_file);
    const PteFormat format = PteFormat::fromName("x86_64");
    TlbConfig c;
    c.name = "l1d";
    c.geometry = format.geometry();
    if (j.contains("arrays")) {
        for (const auto& a : j.at("arrays")) {
            TlbArrayConfig t;
            t.page_sizes = a.value("page_sizes", std::vector<std::uint64_t>{});
            t.entries = a.at("entries");
            t.ways = a.at("ways");
            c.arrays.push_back(t);
        }
    } else {
        c.entries = j.at("entries");
        c.ways = j.at("ways");
    }
    try {
        validateTlbArrays(c, format);
    } catch (const InputError& e) {
        std::cerr << "tlb_arrays_driver: " << e.what() << "\n";
        return 2;
    }
    Tlb tlb(c);

    std::ifstream in(argv[2]);
    std::uint64_t hits = 0, misses = 0;
    std::string vpn_hex;
    std::uint64_t size = 0;
    while (in >> vpn_hex >> size) {
        const std::uint64_t vpn = std::stoull(vpn_hex, nullptr, 16);
        TlbEntry out;
        if (tlb.lookup(vpn << format.pageShift(), 1, out)) {
            ++hits;
            continue;
        }
        ++misses;
        unsigned level = 0;
        while (pageSizeBytes(c.geometry, level) < size)
            ++level;
        TlbEntry e;
        e.vpn = vpn & ~((std::uint64_t{1} << c.geometry.levelVpnBits(level)) - 1);
        e.ppn = e.vpn;
        e.asid = 1;
        e.level = static_cast<std::uint8_t>(level);
        e.flags = PTE_F_V | PTE_F_R | PTE_F_W | PTE_F_A | PTE_F_D;
        tlb.fill(e);
    }
    nlohmann::json stats = {{"accesses", hits + misses},
                            {"hits", hits},
                            {"misses", misses},
                            {"uncacheable_fills", tlb.uncacheableFills()},
                            {"arrays", nlohmann::json::array()}};
    for (unsigned i = 0; i < tlb.arrays(); ++i) {
        const TlbArrayStats& s = tlb.arrayStats(i);
        // With one array the Tlb leaves the level's hits to its caller (TlbArrayStats).
        stats["arrays"].push_back(
            {{"hits", tlb.arrays() > 1 ? s.hits : hits}, {"misses", s.fills}});
    }
    std::cout << stats.dump() << "\n";
    return 0;
}
