// Pieces the model tests share: a TLM initiator to drive a target with, and page tables built
// in a Memory's storage the way firmware would (with the format's own encoder).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include <gtest/gtest.h>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "common/Types.h"
#include "memory/SparseMemory.h"
#include "mmu/PteFormat.h"

namespace tlmmu::test {

// Issues single accesses on its socket. Every access sets the attributes a well-behaved
// initiator sets (streaming width = length, no byte enables) unless the test changes them.
struct Initiator : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<Initiator> socket{"socket"};
    explicit Initiator(sc_core::sc_module_name n) : sc_module(n) {}

    static void prepare(tlm::tlm_generic_payload& t, tlm::tlm_command cmd, Addr addr, void* data,
                        unsigned len) {
        t.set_command(cmd);
        t.set_address(addr);
        t.set_data_ptr(static_cast<unsigned char*>(data));
        t.set_data_length(len);
        t.set_streaming_width(len);
        t.set_byte_enable_ptr(nullptr);
        t.set_byte_enable_length(0);
        t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    }
    tlm::tlm_response_status access(tlm::tlm_command cmd, Addr addr, std::uint64_t& data,
                                    unsigned len, sc_core::sc_time& delay) {
        tlm::tlm_generic_payload t;
        prepare(t, cmd, addr, &data, len);
        socket->b_transport(t, delay);
        return t.get_response_status();
    }
    tlm::tlm_response_status write(Addr addr, std::uint64_t value, sc_core::sc_time& delay,
                                   unsigned len = 8) {
        return access(tlm::TLM_WRITE_COMMAND, addr, value, len, delay);
    }
    tlm::tlm_response_status read(Addr addr, std::uint64_t& value, sc_core::sc_time& delay,
                                  unsigned len = 8) {
        value = 0;
        return access(tlm::TLM_READ_COMMAND, addr, value, len, delay);
    }
    // Timed read that must succeed; returns the value.
    std::uint64_t read64(Addr addr) {
        sc_core::sc_time delay;
        std::uint64_t v = 0;
        EXPECT_EQ(read(addr, v, delay), tlm::TLM_OK_RESPONSE) << "read at 0x" << std::hex << addr;
        return v;
    }
    // Debug access; returns the byte count the target reports.
    unsigned debug(tlm::tlm_command cmd, Addr addr, std::uint64_t& data, unsigned len = 8,
                   tlm::tlm_response_status* status = nullptr) {
        tlm::tlm_generic_payload t;
        prepare(t, cmd, addr, &data, len);
        const unsigned n = socket->transport_dbg(t);
        if (status) *status = t.get_response_status();
        return n;
    }
};

// Page tables in a SparseMemory (the storage behind a Memory, i.e. physical addresses relative
// to the memory's base). Tables are allocated from `table_pool` upwards.
class PageTables {
  public:
    PageTables(const PteFormat& format, SparseMemory& memory, Addr table_pool)
        : format_(format), memory_(memory), next_(table_pool) {
        root = allocate();
    }

    Addr root = 0;
    unsigned tables = 0; // allocated so far, the root included

    // Maps the page of `level` at va to pa; returns the leaf PTE's address.
    Addr map(std::uint64_t va, Addr pa, unsigned level, unsigned flags) {
        const Addr pte = slot(va, level);
        store(pte, pte_encode_leaf(&format_.raw(), pa >> format_.pageShift(), flags, level));
        return pte;
    }
    // Address of the level-`level` PTE for va, creating the tables above it as needed.
    Addr slot(std::uint64_t va, unsigned level) {
        Addr table = root;
        for (unsigned l = format_.levels() - 1; l > level; --l) {
            const Addr pte = entry(table, va, l);
            pte_decoded d{};
            pte_decode(&format_.raw(), load(pte), l, &d, nullptr);
            if (d.kind != PTE_KIND_TABLE) {
                const Addr next = allocate();
                store(pte, pte_encode_table(&format_.raw(), next >> format_.pageShift()));
                table = next;
            } else {
                table = d.ppn << format_.pageShift();
            }
        }
        return entry(table, va, level);
    }
    std::uint64_t load(Addr pte) const {
        std::uint64_t v = 0;
        memory_.read(pte, reinterpret_cast<std::uint8_t*>(&v), format_.pteBytes());
        return v;
    }
    void store(Addr pte, std::uint64_t raw) {
        memory_.write(pte, reinterpret_cast<const std::uint8_t*>(&raw), format_.pteBytes());
    }

  private:
    Addr allocate() {
        const Addr table = next_;
        next_ += format_.tableBytes();
        memory_.fill(table, 0, format_.tableBytes());
        ++tables;
        return table;
    }
    Addr entry(Addr table, std::uint64_t va, unsigned level) const {
        return table + Addr{pte_index(&format_.raw(), va, level)} * format_.pteBytes();
    }

    const PteFormat& format_;
    SparseMemory& memory_;
    Addr next_;
};

} // namespace tlmmu::test
