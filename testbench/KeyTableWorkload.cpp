// The key table's workload group: what runs (a trace, a generator or a scenario) and how the
// scenario's tasks share a core.
#include "KeyTableBuilder.h"

namespace tlmmu::keytable {

namespace {

// What a run without a scenario executes: a trace or the generator.
void addWorkloadSourceKeys(Table& t) {
    t.addWorkload(Key("workload.format")
                      .choice("synthetic",
                              std::vector<std::string>{"lackey", "binary", "champsim", "synthetic"})
                      .meaning("the workload's kind: a trace (lackey, binary, champsim: 64-byte "
                               "input_instr records) or generated")
                      .when({kNoScenario}),
                  "format", WL(format));
    t.addWorkload(Key("workload.trace")
                      .path()
                      .meaning("the trace file (lackey, binary or champsim; plain, .gz or .xz, "
                               "detected by content) of a trace format")
                      .when({kNoScenario, isNot("workload.format", {"synthetic"})}),
                  "trace", WL(trace));
    t.addWorkload(Key("workload.checked")
                      .boolean(false)
                      .meaning("stores write known values and every load is verified against "
                               "them (a failure of the model if not)")
                      .when({kNoScenario}),
                  "checked", WL(checked));
}

// The generator's parameters (models/workload's SyntheticParams).
void addSyntheticKeys(Table& t) {
    const SyntheticParams d; // the generator's own defaults
    const std::string s = "workload.synthetic.";
    const std::vector<Condition> synthetic = {kNoScenario, is("workload.format", {"synthetic"})};
    t.addWorkload(Key(s + "pattern")
                      .choice(d.pattern, std::vector<std::string>{"stream", "strided", "random",
                                                                  "zipf", "gups"})
                      .meaning("synthetic address pattern (stream, strided by stride, uniform "
                               "random, zipf over pages, gups read-modify-writes)")
                      .when(synthetic),
                  "pattern", WL(synthetic.pattern));
    t.addWorkload(Key(s + "footprint")
                      .size(d.footprint)
                      .unit("bytes")
                      .meaning("bytes of data the pattern covers, from data_base")
                      .when(synthetic),
                  "footprint", WL(synthetic.footprint));
    t.addWorkload(Key(s + "instructions")
                      .integer(d.instructions)
                      .unit("instructions")
                      .meaning("instructions the generator emits")
                      .when(synthetic),
                  "instructions", WL(synthetic.instructions));
    t.addWorkload(Key(s + "refs_per_instruction")
                      .number(d.refs_per_instruction, 0, 16)
                      .unit("references/instruction")
                      .meaning("data references per instruction, spread evenly")
                      .when(synthetic),
                  "refs_per_instruction", WL(synthetic.refs_per_instruction));
    t.addWorkload(Key(s + "write_fraction")
                      .number(d.write_fraction, 0, 1)
                      .meaning("probability that a reference is a store (not gups)")
                      .when(synthetic)
                      .when({isNot(s + "pattern", {"gups"})}),
                  "write_fraction", WL(synthetic.write_fraction));
    t.addWorkload(Key(s + "stride")
                      .size(d.stride)
                      .unit("bytes")
                      .meaning("step of the strided pattern")
                      .when(synthetic)
                      .when({is(s + "pattern", {"strided"})}),
                  "stride", WL(synthetic.stride));
    t.addWorkload(Key(s + "zipf_theta")
                      .number(d.zipf_theta, 0, 100)
                      .meaning("skew of the zipf pattern (1: classic zipf)")
                      .when(synthetic)
                      .when({is(s + "pattern", {"zipf"})}),
                  "zipf_theta", WL(synthetic.zipf_theta));
    t.addWorkload(Key(s + "data_base")
                      .integer(d.data_base)
                      .unit("address")
                      .meaning("first data address")
                      .when(synthetic),
                  "data_base", WL(synthetic.data_base));
    t.addWorkload(Key(s + "code_base")
                      .integer(d.code_base)
                      .unit("address")
                      .meaning("first instruction address")
                      .when(synthetic),
                  "code_base", WL(synthetic.code_base));
    t.addWorkload(Key(s + "code_footprint")
                      .size(d.code_footprint)
                      .unit("bytes")
                      .meaning("bytes of code the pcs walk through, in 4-byte steps")
                      .when(synthetic),
                  "code_footprint", WL(synthetic.code_footprint));
    t.addWorkload(Key(s + "ref_size")
                      .integer(d.ref_size, 1, 4096)
                      .unit("bytes")
                      .meaning("bytes per data reference (a power of two; gups: always 8)")
                      .when(synthetic)
                      .when({isNot(s + "pattern", {"gups"})}),
                  "ref_size", WL(synthetic.ref_size));
}

} // namespace

void addWorkloadKeys(Table& t) {
    addWorkloadSourceKeys(t);
    addSyntheticKeys(t);
    t.add(Key("workload.prefault")
              .boolean(false)
              .meaning("map every page the workloads touch before the run, A and D set"),
          AT(prefault));
    t.add(Key("workload.page_size")
              .size(0)
              .unit("bytes")
              .meaning("pages of the implicit region of a run without a scenario (0: the "
                       "format's base page)")
              .when({kNoScenario}),
          AT(page_size));
    t.add(Key("workload.scenario")
              .path()
              .meaning("a scenario file: processes, threads, VMAs, events (docs/scenarios.md)"),
          AT(scenario));
    t.add(Key("sched.time_slice_cycles")
              .integer(1000000)
              .unit("cycles")
              .meaning("round-robin time slice of the tasks on a core")
              .when({kScenario}),
          AT(time_slice_cycles));
}

} // namespace tlmmu::keytable
