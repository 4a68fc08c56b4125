// The harness of the model tests (one binary per model, one process per TEST, as SystemC allows
// one elaboration per process): a gtest fixture that
// - records every SystemC report of severity SC_WARNING or above from the moment the fixture is
//   constructed (before the test builds its modules) and fails the test if there was any;
// - runs the test body inside an SC_THREAD (run()), so that it may call b_transport, wait() and
//   see simulated time as a model would, and fails the test if the body did not finish (it
//   waited for an event that never came).
// gtest assertions work from inside the body; a fatal one (ASSERT_*) ends the body.
//
//   TEST_F(ScTest, Something) {
//       Bench b;                               // elaboration: modules, bindings
//       run([&] { ...; EXPECT_EQ(...); });     // the body, in a thread; sc_start() until idle
//   }
#pragma once

#ifndef SC_INCLUDE_DYNAMIC_PROCESSES // for sc_spawn: defined for the whole binary (CMakeLists)
#error "ScTest.h needs SC_INCLUDE_DYNAMIC_PROCESSES defined before <systemc> is included"
#endif

#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <systemc>

namespace tlmmu::test {

class ScTest : public testing::Test {
  public:
    // Reports of severity >= SC_WARNING seen so far in this process.
    static std::vector<std::string>& reports() {
        static std::vector<std::string> list;
        return list;
    }

  protected:
    ScTest() {
        reports().clear();
        sc_core::sc_report_handler::set_handler(&ScTest::handler);
    }

    void TearDown() override {
        std::ostringstream all;
        for (const std::string& r : reports())
            all << "\n  " << r;
        EXPECT_TRUE(reports().empty()) << "SystemC reported:" << all.str();
    }

    // Spawns body as an SC_THREAD and simulates until nothing is left to do (or `limit` of
    // simulated time, when given). The body must run to its end.
    void run(const std::function<void()>& body,
             const sc_core::sc_time& limit = sc_core::SC_ZERO_TIME) {
        bool finished = false;
        sc_core::sc_spawn_options options; // a thread, started at time 0
        sc_core::sc_spawn(
            [&] {
                body();
                finished = true;
            },
            "test_body", &options);
        if (limit == sc_core::SC_ZERO_TIME)
            sc_core::sc_start();
        else
            sc_core::sc_start(limit);
        // (A fatal assertion ends the body early and is its own failure.)
        EXPECT_TRUE(finished || HasFatalFailure())
            << "the test body did not run to its end (a wait that never ended)";
    }

  private:
    static void handler(const sc_core::sc_report& report, const sc_core::sc_actions& actions) {
        if (report.get_severity() >= sc_core::SC_WARNING) {
            std::ostringstream s;
            s << (report.get_severity() == sc_core::SC_WARNING ? "warning " : "error ")
              << report.get_msg_type() << ": " << report.get_msg();
            reports().push_back(s.str());
        }
        // Keep SystemC's own behaviour (display, throw on errors, abort on fatal ones).
        sc_core::sc_report_handler::default_handler(report, actions);
    }
};

} // namespace tlmmu::test
