#include "common/RegisterBank.h"

#include <cstring>
#include <sstream>
#include <stdexcept>

namespace tlmmu {

namespace {

std::string hex(std::uint64_t v) {
    std::ostringstream s;
    s << "0x" << std::hex << v;
    return s.str();
}

const char* commandName(const tlm::tlm_generic_payload& t) {
    return t.is_read() ? "read" : t.is_write() ? "write" : "ignore";
}

} // namespace

Register::Register(RegisterBank& bank, std::string name, std::uint64_t offset, unsigned size,
                   std::uint64_t reset, Access access)
    : name_(std::move(name)), offset_(offset), size_(size), reset_(reset), value_(0),
      access_(access) {
    if (size != 1 && size != 2 && size != 4 && size != 8)
        throw std::logic_error(bank.name() + ": register " + name_ + " has size " +
                               std::to_string(size) + " (1, 2, 4 or 8 bytes)");
    reset_ &= mask();
    value_ = reset_;
    bank.attach(*this);
}

RegisterBank::RegisterBank(std::string name, std::uint64_t window_bytes)
    : name_(std::move(name)), window_(window_bytes) {}

Register& RegisterBank::add(std::string name, std::uint64_t offset, unsigned size,
                            std::uint64_t reset, Register::Access access) {
    return owned_.emplace_back(*this, std::move(name), offset, size, reset, access);
}

void RegisterBank::attach(Register& reg) {
    if (reg.offset_ >= window_ || reg.size_ > window_ - reg.offset_)
        throw std::logic_error(name_ + ": register " + reg.name_ + " at " + hex(reg.offset_) +
                               " leaves the " + hex(window_) + "-byte window");
    auto next = registers_.lower_bound(reg.offset_);
    if (next != registers_.end() && next->first < reg.offset_ + reg.size_)
        throw std::logic_error(name_ + ": register " + reg.name_ + " overlaps " +
                               next->second->name_);
    if (next != registers_.begin()) {
        const Register& prev = *std::prev(next)->second;
        if (prev.offset_ + prev.size_ > reg.offset_)
            throw std::logic_error(name_ + ": register " + reg.name_ + " overlaps " + prev.name_);
    }
    registers_.emplace(reg.offset_, &reg);
}

const Register* RegisterBank::find(std::uint64_t offset) const {
    const auto it = registers_.find(offset);
    return it == registers_.end() ? nullptr : it->second;
}

void RegisterBank::reset() {
    for (auto& [offset, reg] : registers_)
        reg->reset();
}

tlm::tlm_response_status RegisterBank::refuse(tlm::tlm_response_status status, std::string why) {
    refusal_ = std::move(why);
    return status;
}

bool RegisterBank::fail(tlm::tlm_generic_payload& trans, tlm::tlm_response_status status,
                        const std::string& what) {
    trans.set_response_status(status);
    ++errors_;
    std::ostringstream msg;
    msg << name_ << ": " << commandName(trans) << " of " << trans.get_data_length()
        << " bytes at offset " << hex(trans.get_address()) << ": " << what << " ("
        << trans.get_response_string() << ")";
    last_error_ = msg.str();
    return false;
}

bool RegisterBank::access(tlm::tlm_generic_payload& trans, sc_core::sc_time* delay) {
    const std::uint64_t offset = trans.get_address();
    const unsigned len = trans.get_data_length();
    const auto it = registers_.find(offset);
    if (it == registers_.end()) {
        if (offset >= window_)
            return fail(trans, tlm::TLM_ADDRESS_ERROR_RESPONSE,
                        "outside the " + hex(window_) + "-byte register window");
        auto after = registers_.upper_bound(offset);
        if (after != registers_.begin()) {
            const Register& prev = *std::prev(after)->second;
            if (offset < prev.offset_ + prev.size_)
                return fail(trans, tlm::TLM_ADDRESS_ERROR_RESPONSE,
                            "misaligned: inside register " + prev.name_ + " at " +
                                hex(prev.offset_));
        }
        return fail(trans, tlm::TLM_ADDRESS_ERROR_RESPONSE, "no register at this offset");
    }
    Register& reg = *it->second;
    if (len != reg.size_)
        return fail(trans, tlm::TLM_BURST_ERROR_RESPONSE,
                    "register " + reg.name_ + " is " + std::to_string(reg.size_) + " bytes");
    if (delay) {
        if (const unsigned char* be = trans.get_byte_enable_ptr()) {
            const unsigned be_len = trans.get_byte_enable_length();
            bool all = be_len > 0;
            for (unsigned i = 0; all && i < len; ++i)
                all = be[i % be_len] == TLM_BYTE_ENABLED;
            if (!all)
                return fail(trans, tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE,
                            "register " + reg.name_ + " takes whole accesses (byte enables)");
        }
        if (trans.get_streaming_width() < len)
            return fail(trans, tlm::TLM_BURST_ERROR_RESPONSE,
                        "register " + reg.name_ + ": streaming width " +
                            std::to_string(trans.get_streaming_width()) + " (no streaming)");
    }
    if (trans.is_read()) {
        if (reg.access_ == Register::Access::WriteOnly)
            return fail(trans, tlm::TLM_COMMAND_ERROR_RESPONSE,
                        "register " + reg.name_ + " is write-only");
        const std::uint64_t value = (reg.read_ ? reg.read_() : reg.value_) & reg.mask();
        std::memcpy(trans.get_data_ptr(), &value, len); // little-endian host and bus
    } else if (trans.is_write()) {
        if (reg.access_ == Register::Access::ReadOnly)
            return fail(trans, tlm::TLM_COMMAND_ERROR_RESPONSE,
                        "register " + reg.name_ + " is read-only");
        std::uint64_t value = 0;
        std::memcpy(&value, trans.get_data_ptr(), len);
        if (!reg.write_) {
            reg.value_ = value;
        } else if (!delay) { // a debug access must not act (nor take time)
            return fail(trans, tlm::TLM_COMMAND_ERROR_RESPONSE,
                        "register " + reg.name_ + " acts in simulated time: no debug write");
        } else {
            refusal_.clear();
            const tlm::tlm_response_status status = reg.write_(value, *delay);
            if (status != tlm::TLM_OK_RESPONSE) {
                return fail(trans, status,
                            "register " + reg.name_ + " refused " + hex(value) +
                                (refusal_.empty() ? "" : ": " + refusal_));
            }
        }
    }
    trans.set_response_status(tlm::TLM_OK_RESPONSE);
    return true;
}

void RegisterBank::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
    current_ = &trans;
    access(trans, &delay);
    current_ = nullptr;
}

unsigned RegisterBank::transport_dbg(tlm::tlm_generic_payload& trans) {
    current_ = &trans;
    const bool ok = access(trans, nullptr);
    current_ = nullptr;
    return ok ? trans.get_data_length() : 0;
}

void RegisterBank::registerStats(Stats& stats, const std::string& prefix) const {
    stats.counter(prefix + ".access_errors", &errors_,
                  {"accesses", "register accesses refused (bad offset, size or direction)"});
    stats.derived(prefix + ".last_access_error", [this] { return nlohmann::json(last_error_); },
                  {"", "the last refused register access, in words", false});
}

} // namespace tlmmu
