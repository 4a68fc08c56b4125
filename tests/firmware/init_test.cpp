// init.c: configuration checks, the process and task tables and their limits.
#include <gtest/gtest.h>

#include <functional>

#include "mm_fixture.h"

namespace fwtest {
namespace {

class InitTest : public testing::Test, public MmFixture {
  protected:
    InitTest() : MmFixture(PteFormat::fromName("x86_64")) {}

    fw_kernel_config config() {
        meta.assign(64, 0);
        rmap.assign(64, fw_frame_rmap{});
        storage.assign(fw_kernel_size() / 8 + 1, 0);
        k = reinterpret_cast<fw_kernel*>(storage.data());
        fw_kernel_config c{};
        c.format = format.raw();
        c.frames_base = kFramesBase;
        c.frame_count = 64;
        c.frame_meta = meta.data();
        c.rmap = rmap.data();
        c.cores = 1;
        return c;
    }
};

TEST_F(InitTest, RejectsImpossibleConfigurations) {
    hal().reset(kPhysBytes);
    fw_kernel_config c = config();
    ASSERT_EQ(fw_kernel_init(k, &c, nullptr), FW_OK);
    c = config();
    c.rmap = nullptr;
    EXPECT_EQ(fw_kernel_init(k, &c, nullptr), FW_ERR_INVAL);
    c = config();
    c.frame_meta = nullptr;
    EXPECT_EQ(fw_kernel_init(k, &c, nullptr), FW_ERR_INVAL);
    c = config();
    c.cores = 0;
    EXPECT_EQ(fw_kernel_init(k, &c, nullptr), FW_ERR_INVAL);
    c.cores = FW_MAX_CORES + 1;
    EXPECT_EQ(fw_kernel_init(k, &c, nullptr), FW_ERR_INVAL);
    c = config();
    c.asid_bits = 17;
    EXPECT_EQ(fw_kernel_init(k, &c, nullptr), FW_ERR_INVAL);
    c = config();
    c.frames_base = kFramesBase + 8; // not page aligned
    EXPECT_EQ(fw_kernel_init(k, &c, nullptr), FW_ERR_INVAL);
    c = config();
    c.swap_mmio = kSwapMmio;
    c.swap_slots = 8;
    EXPECT_EQ(fw_kernel_init(k, &c, nullptr), FW_ERR_INVAL); // no slot bitmap
    std::vector<std::uint64_t> bits(1, ~0ull);
    ASSERT_EQ(fw_kernel_init(k, &c, bits.data()), FW_OK);
    EXPECT_EQ(bits[0], 0u);
    EXPECT_EQ(fw_kernel_frames(k)->in_use, 1u); // the bounce frame
    EXPECT_EQ(fw_kernel_format(k)->levels, 4u);
}

// fw_kernel_init of a 2-core system (8 ASID bits) with `mechanism`, after `set`.
int initWith(fw_kernel* k, const fw_kernel_config& base, fw_shootdown_mechanism mechanism,
             const std::function<void(fw_kernel_config&)>& set) {
    fw_kernel_config c = base;
    c.cores = 2;
    c.asid_bits = 8;
    c.shootdown = mechanism;
    set(c);
    return fw_kernel_init(k, &c, nullptr);
}

// Mechanism broadcast sends no IPI: the IPI options, the injections that would leave nothing
// stale and fewer ASIDs than cores (global ASIDs) are refused; skip_remote_flush is not.
TEST_F(InitTest, BroadcastRefusesWhatCannotApply) {
    hal().reset(kPhysBytes);
    const auto broadcast = [this](const std::function<void(fw_kernel_config&)>& set) {
        return initWith(k, config(), FW_SHOOTDOWN_BROADCAST, set);
    };
    EXPECT_EQ(broadcast([](fw_kernel_config&) {}), FW_OK);
    EXPECT_EQ(broadcast([](fw_kernel_config& c) { c.early_ack = 1; }), FW_ERR_INVAL);
    EXPECT_EQ(broadcast([](fw_kernel_config& c) { c.concurrent_flush = 1; }), FW_ERR_INVAL);
    EXPECT_EQ(broadcast([](fw_kernel_config& c) { c.lazy_tlb = 1; }), FW_ERR_INVAL);
    EXPECT_EQ(broadcast([](fw_kernel_config& c) { c.inject = FW_INJECT_SKIP_ACK_WAIT; }),
              FW_ERR_INVAL);
    EXPECT_EQ(broadcast([](fw_kernel_config& c) { c.inject = FW_INJECT_SKIP_LOCAL_FLUSH; }),
              FW_ERR_INVAL);
    EXPECT_EQ(broadcast([](fw_kernel_config& c) { c.inject = FW_INJECT_SKIP_REMOTE_FLUSH; }),
              FW_OK);
    EXPECT_EQ(broadcast([](fw_kernel_config& c) {
                  c.asid_bits = 2; // 3 ASIDs
                  c.cores = 4;
              }),
              FW_ERR_INVAL);
    EXPECT_EQ(broadcast([](fw_kernel_config& c) {
                  c.asid_bits = 2;
                  c.cores = 3;
              }),
              FW_OK);
    EXPECT_EQ(broadcast([](fw_kernel_config& c) { c.asid_bits = 0; }), FW_OK); // by VA, untagged
    EXPECT_EQ(broadcast([](fw_kernel_config& c) { c.shootdown = fw_shootdown_mechanism(3); }),
              FW_ERR_INVAL);
}

// DIRECTED sends no IPI either: the IPI options and skipping acknowledgements would have no
// effect; the local flush is its own, so skipping it applies.
TEST_F(InitTest, DirectedRefusesTheIpiOptions) {
    hal().reset(kPhysBytes);
    const auto directed = [this](const std::function<void(fw_kernel_config&)>& set) {
        return initWith(k, config(), FW_SHOOTDOWN_DIRECTED, set);
    };
    EXPECT_EQ(directed([](fw_kernel_config&) {}), FW_OK);
    EXPECT_EQ(directed([](fw_kernel_config& c) { c.early_ack = 1; }), FW_ERR_INVAL);
    EXPECT_EQ(directed([](fw_kernel_config& c) { c.concurrent_flush = 1; }), FW_ERR_INVAL);
    EXPECT_EQ(directed([](fw_kernel_config& c) { c.lazy_tlb = 1; }), FW_ERR_INVAL);
    EXPECT_EQ(directed([](fw_kernel_config& c) { c.inject = FW_INJECT_SKIP_ACK_WAIT; }),
              FW_ERR_INVAL);
    EXPECT_EQ(directed([](fw_kernel_config& c) { c.inject = FW_INJECT_SKIP_LOCAL_FLUSH; }), FW_OK);
    EXPECT_EQ(directed([](fw_kernel_config& c) { c.inject = FW_INJECT_SKIP_REMOTE_FLUSH; }), FW_OK);
}

TEST_F(InitTest, ProcessAndTaskTablesHaveTheirLimits) {
    Boot b;
    b.frames = 256;
    boot(b);
    int pid = 0, tid = 0;
    EXPECT_EQ(fw_process_create(k, 2, &pid, &tid), FW_ERR_INVAL); // 2 cores
    std::vector<int> pids;
    for (int i = 0; i < FW_MAX_PROCESSES; ++i)
        pids.push_back(create());
    EXPECT_EQ(fw_process_create(k, 0, &pid, &tid), FW_ERR_LIMIT);
    // 64 tasks so far: 64 more threads fit, then the task table is full.
    for (int i = 0; i < FW_MAX_TASKS - FW_MAX_PROCESSES; ++i)
        ASSERT_EQ(fw_thread_create(k, pids[0], 1, &tid), FW_OK) << i;
    EXPECT_EQ(fw_thread_create(k, pids[0], 1, &tid), FW_ERR_LIMIT);
    EXPECT_EQ(fw_process_tasks(k, pids[0]), 1u + FW_MAX_TASKS - FW_MAX_PROCESSES);
    EXPECT_EQ(fw_thread_create(k, pids[1], 2, &tid), FW_ERR_INVAL);
    // A pid comes back round robin: the dead one's stats stay readable meanwhile.
    ASSERT_EQ(exitProcess(pids[5]), FW_OK);
    EXPECT_NE(fw_process_stats(k, pids[5]), nullptr);
    EXPECT_EQ(fw_process_root(k, pids[5]), 0u);
    ASSERT_EQ(fw_task_exit(k, 0, tidOf(pids[6])), FW_OK); // frees a task slot too
    EXPECT_EQ(fw_process_create(k, 0, &pid, &tid), FW_OK);
    EXPECT_EQ(pid, pids[5]);
}

} // namespace
} // namespace fwtest
