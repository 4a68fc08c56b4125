// Memory-mapped registers of a device (in the spirit of MachineWare VCML's vcml::reg): each
// register is declared once, as a named member with its offset, size, reset value and optional
// read/write callbacks, and one RegisterBank decodes every TLM access to them. A device forwards
// its target socket's b_transport and transport_dbg to the bank; there is no switch per device.
//
//   RegisterBank regs_{"swap", SWAP_REG_BYTES};                    // members, in this order
//   Register slot_{regs_, "SLOT", SWAP_REG_SLOT};                  // 8 bytes, reset 0, RW
//   Register status_{regs_, "STATUS", SWAP_REG_STATUS, 8, 0, Register::Access::ReadOnly};
//   Register command_{regs_, "COMMAND", SWAP_REG_COMMAND};
//   // in the constructor: the action of a write (its time is added to the access's delay)
//   command_.onWrite([this](std::uint64_t v, sc_core::sc_time& delay) {
//       status_ = execute(v, delay); // a Register reads as its value and is assigned one
//       return tlm::TLM_OK_RESPONSE;
//   });
//   // register arrays sized at run time (one per core), owned by the bank:
//   for (unsigned c = 0; c < cores; ++c)
//       regs_.add("PENDING[" + std::to_string(c) + "]", IPI_REG_PENDING + 8 * c)
//           .onRead([this, c] { return pending_[c]; })
//           .onWrite([this, c](std::uint64_t v, sc_core::sc_time&) {
//               pending_[c] &= ~v; // write 1 to clear
//               return tlm::TLM_OK_RESPONSE;
//           });
//
// Decoding rules (the offset is relative to the device's base, as the Interconnect delivers it):
// - an access must cover exactly one register: it starts at the register's first byte and is as
//   long as the register. An offset that is not the first byte of a register (unmapped, in a
//   hole, or misaligned inside a register) answers TLM_ADDRESS_ERROR_RESPONSE; the right offset
//   with another length answers TLM_BURST_ERROR_RESPONSE (the LRM's "unable to execute the
//   command with the given data length");
// - byte enables are supported only when every byte is enabled (else
//   TLM_BYTE_ENABLE_ERROR_RESPONSE); a streaming width shorter than the data length (streaming,
//   or 0 = unset) answers TLM_BURST_ERROR_RESPONSE. Debug accesses ignore both, as the LRM lets
//   a target do;
// - a write to a ReadOnly register or a read of a WriteOnly one answers TLM_COMMAND_ERROR_RESPONSE;
//   TLM_IGNORE_COMMAND answers OK once the access decodes, and touches nothing;
// - a write callback that refuses the value (returns an error status, see refuse()) answers with
//   that status.
// Every error is counted (errors()) and described in words (lastError()); registerStats() exposes
// both. Nothing is reported through sc_report: a bad access never stops the simulation.
//
// Reads: the read callback's value when there is one, else the stored value. Writes (timed):
// the write callback when there is one (it stores the value itself if it wants, `reg = value`),
// else the value is stored. Debug reads behave as reads (read callbacks must be free of side
// effects); debug writes store into registers without a write callback and are refused (0
// bytes, TLM_COMMAND_ERROR_RESPONSE, counted) for registers with one, since a callback is an
// action in simulated time.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>

#include <systemc>
#include <tlm>

#include "common/Stats.h"

namespace tlmmu {

class RegisterBank;

class Register {
  public:
    enum class Access : std::uint8_t { ReadWrite, ReadOnly, WriteOnly };
    // The value a read returns (instead of the stored one). No side effects: debug reads call it.
    using ReadCallback = std::function<std::uint64_t()>;
    // Handles a timed write; may add to delay (its time is the access's time). Returns
    // TLM_OK_RESPONSE or an error status (RegisterBank::refuse gives it a message).
    using WriteCallback =
        std::function<tlm::tlm_response_status(std::uint64_t value, sc_core::sc_time& delay)>;

    // size: 1, 2, 4 or 8 bytes. Registers itself with bank; throws std::logic_error when it
    // overlaps another register or leaves the bank's window.
    Register(RegisterBank& bank, std::string name, std::uint64_t offset, unsigned size = 8,
             std::uint64_t reset = 0, Access access = Access::ReadWrite);
    Register(const Register&) = delete;
    Register& operator=(const Register&) = delete;

    Register& onRead(ReadCallback fn) {
        read_ = std::move(fn);
        return *this;
    }
    Register& onWrite(WriteCallback fn) {
        write_ = std::move(fn);
        return *this;
    }

    // The stored value (the device's own view: no callbacks, no checks).
    std::uint64_t get() const { return value_; }
    operator std::uint64_t() const { return value_; }
    Register& operator=(std::uint64_t value) {
        value_ = value & mask();
        return *this;
    }
    void reset() { value_ = reset_; }

    const std::string& name() const { return name_; }
    std::uint64_t offset() const { return offset_; }
    unsigned size() const { return size_; }
    std::uint64_t resetValue() const { return reset_; }
    Access access() const { return access_; }

  private:
    friend class RegisterBank;
    std::uint64_t mask() const {
        return size_ >= 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * size_)) - 1;
    }

    std::string name_;
    std::uint64_t offset_;
    unsigned size_;
    std::uint64_t reset_, value_;
    Access access_;
    ReadCallback read_;
    WriteCallback write_;
};

class RegisterBank {
  public:
    // name: the device, for messages ("swap"); window_bytes: size of the register window.
    RegisterBank(std::string name, std::uint64_t window_bytes);
    RegisterBank(const RegisterBank&) = delete;
    RegisterBank& operator=(const RegisterBank&) = delete;

    // A register owned by the bank (for arrays whose size is known at run time only).
    Register& add(std::string name, std::uint64_t offset, unsigned size = 8,
                  std::uint64_t reset = 0, Register::Access access = Register::Access::ReadWrite);

    // The target socket's callbacks: forward to these.
    void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    unsigned transport_dbg(tlm::tlm_generic_payload& trans);

    // For a write callback: records why it refuses the value and returns `status` to answer with.
    tlm::tlm_response_status refuse(tlm::tlm_response_status status, std::string why);
    // Inside a callback: the access being served (e.g. to read the initiator's extension, such
    // as the core that acknowledges an interrupt); null outside one.
    const tlm::tlm_generic_payload* transaction() const { return current_; }

    // Every register to its reset value.
    void reset();
    const Register* find(std::uint64_t offset) const; // the register starting at offset, or null
    const std::string& name() const { return name_; }
    std::uint64_t windowBytes() const { return window_; }
    std::uint64_t errors() const { return errors_; }
    const std::string& lastError() const { return last_error_; }
    // <prefix>.access_errors (counter) and <prefix>.last_access_error ("" when none).
    void registerStats(Stats& stats, const std::string& prefix) const;

  private:
    friend class Register;
    void attach(Register& reg);
    // Decodes and performs one access; delay null = debug. Sets the response status.
    bool access(tlm::tlm_generic_payload& trans, sc_core::sc_time* delay);
    bool fail(tlm::tlm_generic_payload& trans, tlm::tlm_response_status status,
              const std::string& what);

    std::string name_;
    std::uint64_t window_;
    std::map<std::uint64_t, Register*> registers_; // by offset
    std::deque<Register> owned_;                   // add(): stable addresses
    std::uint64_t errors_ = 0;
    std::string last_error_, refusal_;
    const tlm::tlm_generic_payload* current_ = nullptr;
};

} // namespace tlmmu
