"""The l2_pwc sweep (18 runs on the recorded `ls` trace) with the local engine: run directories,
results.csv/results.sqlite equal to each run's stats.json, resume, reruns of changed runs only,
repeats with their seeds, and determinism."""
import os
import re
import shutil
import sqlite3
import unittest

import support
import yaml


def expected_columns_from_json(stats, listing):
    """What results.csv must hold for a run, computed here from stats.json and the run's
    catalogue (stats_list.json: tlmmu --list-stats-json)."""
    flat = support.flatten(stats)
    raw = {k: v for k, v in flat.items() if not k.startswith("config.") and ".buckets[" not in k}
    sums = {}
    for i, core in enumerate(stats["cores"]):
        for k, v in support.flatten(core).items():
            # what tlmmu flags additive adds up; of a histogram only its count and sum (not a
            # percentile, min, max or mean); never cpi nor the per-core view of a process
            name = "cores[i]." + re.sub(r"\[\d+\]", "[i]", k)
            head, _, field = name.rpartition(".")
            info = listing.get(name)
            if info is not None:
                if not info["additive"] or info["kind"] == "histogram":
                    continue
            elif not (listing.get(head, {}).get("kind") == "histogram" and field in ("count", "sum")):
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                continue
            sums["cores.sum." + k] = sums.get("cores.sum." + k, 0) + v
    return raw, sums


class LocalSweepTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = support.TempDir("local")
        cls.counter = support.Counter(cls.tmp)
        cls.env = {"TLMMU": cls.counter.path}
        cls.out = cls.tmp.join("l2_pwc")
        cls.first = support.sweep(support.L2_PWC, "--out", cls.out, env=cls.env)
        cls.first_runs = cls.counter.runs()
        with open(support.L2_PWC, encoding="utf-8") as f:
            cls.spec = yaml.safe_load(f)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.remove()

    def table(self):
        return support.read_csv(os.path.join(self.out, "results.csv"))

    def test_sweep_ran_every_run(self):
        self.assertEqual(self.first.returncode, 0, self.first.stdout + self.first.stderr)
        l2 = self.spec["axes"]["tlb.l2.entries"]
        pwc = self.spec["axes"]["walker.pwc.entries"]
        self.assertGreaterEqual(len(l2) * len(pwc), 12)
        self.assertEqual(self.first_runs, len(l2) * len(pwc))
        columns, rows = self.table()
        self.assertEqual(len(rows), len(l2) * len(pwc))
        # rows in the sweep's order: first axis slowest
        self.assertEqual([(int(r["tlb.l2.entries"]), int(r["walker.pwc.entries"])) for r in rows],
                         [(a, b) for a in l2 for b in pwc])
        self.assertTrue(all(r["status"] == "ok" and r["exit_code"] == "0" for r in rows))
        # the swept keys really changed the simulation: L2 misses fall as the L2 grows
        no_pwc = [int(r["cores.sum.tlb.l2.misses"]) for r in rows if r["walker.pwc.entries"] == "0"]
        self.assertEqual(no_pwc, sorted(no_pwc, reverse=True))
        self.assertGreater(no_pwc[0], no_pwc[-1])

    def test_run_directories(self):
        _, rows = self.table()
        for row in rows:
            d = os.path.join(self.out, "runs", row["run"])
            for name in ("run.json", "command.sh", "stdout.txt", "stderr.txt", "stats.json",
                         "stats.csv", "config.yaml", "done.json"):
                self.assertTrue(os.path.isfile(os.path.join(d, name)), f"{d}/{name}")
            desc = support.read_json(os.path.join(d, "run.json"))
            self.assertTrue(desc["version"])
            self.assertEqual(desc["seed"], 1)
            self.assertIn(f"tlb.l2.entries={row['tlb.l2.entries']}", desc["command"])
            self.assertIn(f"walker.pwc.entries={row['walker.pwc.entries']}", desc["command"])
            self.assertIn("seed=1", desc["command"])
            with open(os.path.join(d, "command.sh"), encoding="utf-8") as f:
                self.assertIn("--set tlb.l2.entries=" + row["tlb.l2.entries"], f.read())
            with open(os.path.join(d, "config.yaml"), encoding="utf-8") as f:
                config = yaml.safe_load(f)
            self.assertEqual(config["tlb"]["l2"]["entries"], int(row["tlb.l2.entries"]))
            self.assertEqual(config["walker"]["pwc"]["entries"], int(row["walker.pwc.entries"]))
            self.assertEqual(config["workload"]["format"], "lackey")
            self.assertEqual(support.read_json(os.path.join(d, "done.json"))["exit_code"], 0)
            self.assertIn("CPI", open(os.path.join(d, "stdout.txt"), encoding="utf-8").read())

    def test_results_equal_stats_json(self):
        columns, rows = self.table()
        for row in rows:
            run = os.path.join(self.out, "runs", row["run"])
            stats = support.read_json(os.path.join(run, "stats.json"))
            raw, sums = expected_columns_from_json(stats, support.read_json(os.path.join(run, "stats_list.json")))
            self.assertNotIn("cores.sum.cpi", sums)
            self.assertIn("cores.sum.walker.latency.count", sums)
            for key, value in raw.items():
                self.assertIn(key, columns)
                self.assertTrue(support.same_value(row[key], value), f"{row['run']} {key}: {row[key]!r} != {value!r}")
            for key, value in sums.items():
                self.assertEqual(float(row[key]), float(value), key)
            instr = sums["cores.sum.instructions"]
            self.assertTrue(support.close(float(row["derived.cpi"]), sums["cores.sum.cycles"] / instr))
            for comp in stats["cores"][0]["cpi_stack"]:
                self.assertTrue(support.close(float(row[f"derived.cpi_stack.{comp}"]),
                                              sums[f"cores.sum.cpi_stack.{comp}"] / instr))
            self.assertTrue(support.close(float(row["derived.tlb.l2.miss_rate"]),
                                          sums["cores.sum.tlb.l2.misses"] / sums["cores.sum.tlb.l2.accesses"]))
            # nothing in the row that is not from stats.json or computed from it
            for key in columns:
                self.assertTrue(key in raw or key in sums or key.startswith("derived.")
                                or key in ("run", "status", "exit_code", "error", "seed", "repeat",
                                           "tlb.l2.entries", "walker.pwc.entries"), key)
            self.assertEqual(row["seed"], str(stats["config"]["seed"]))

    def test_sqlite_equals_csv(self):
        columns, rows = self.table()
        db = sqlite3.connect(os.path.join(self.out, "results.sqlite"))
        try:
            cur = db.execute("SELECT * FROM results")
            names = [d[0] for d in cur.description]
            self.assertEqual(names, columns)
            dbrows = cur.fetchall()
            self.assertEqual(len(dbrows), len(rows))
            for row, dbrow in zip(rows, dbrows):
                for name, value in zip(names, dbrow):
                    if value is None:
                        self.assertEqual(row[name], "", name)
                    elif isinstance(value, (int, float)):
                        self.assertEqual(float(row[name]), float(value), name)
                    else:
                        self.assertEqual(row[name], value, name)
            runs = db.execute("SELECT run, status, engine, version FROM runs ORDER BY idx").fetchall()
            self.assertEqual([r[0] for r in runs], [r["run"] for r in rows])
            self.assertTrue(all(r[1] == "ok" and r[2] == "local" and r[3] for r in runs))
            # a query a user would write
            best = db.execute('SELECT "tlb.l2.entries" FROM results WHERE "walker.pwc.entries" = 4 '
                              'ORDER BY "derived.cpi" LIMIT 1').fetchone()[0]
            self.assertIsInstance(best, int)
        finally:
            db.close()

    def test_resume_runs_nothing(self):
        with open(os.path.join(self.out, "results.csv"), "rb") as f:
            before = f.read()
        again = support.sweep(support.L2_PWC, "--out", self.out, env=self.env)
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertEqual(self.counter.runs(), self.first_runs, "a finished run was run again")
        self.assertIn(f"0 run now, {self.first_runs} already done", again.stdout)
        with open(os.path.join(self.out, "results.csv"), "rb") as f:
            self.assertEqual(f.read(), before)

    def test_deterministic_and_order_independent(self):
        out = self.tmp.join("serial")
        proc = support.sweep(support.L2_PWC, "--out", out, "--jobs", "1")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(os.path.join(out, "results.csv"), "rb") as a, \
                open(os.path.join(self.out, "results.csv"), "rb") as b:
            self.assertEqual(a.read(), b.read())


class ChangedSweepTest(unittest.TestCase):
    """A changed value reruns only the runs it changes; the others are kept."""

    def test_changed_value_reruns_only_changed_runs(self):
        tmp = support.TempDir("changed")
        try:
            counter = support.Counter(tmp)
            trace = os.path.join(os.path.dirname(support.L2_PWC), "traces", "ls-usr.lackey.xz")
            shutil.copy(support.SINGLE, tmp.join("base.yaml"))
            shutil.copy(trace, tmp.join("trace.lackey.xz"))

            def write(pwc):
                return tmp.write("s.yaml", "base: base.yaml\nset:\n  cores: 1\n  workload.format: lackey\n"
                                 "  workload.trace: trace.lackey.xz\n  tlb.l2.ways: 4\n  walker.pwc.ways: 0\n"
                                 f"axes:\n  tlb.l2.entries: [16, 32, 64]\n  walker.pwc.entries: {pwc}\n")
            out = tmp.join("out")
            first = support.sweep(write("[0, 1]"), "--out", out, env={"TLMMU": counter.path})
            self.assertEqual(first.returncode, 0, first.stderr)
            self.assertEqual(counter.runs(), 6)
            _, rows1 = support.read_csv(os.path.join(out, "results.csv"))
            second = support.sweep(write("[0, 2]"), "--out", out, env={"TLMMU": counter.path})
            self.assertEqual(second.returncode, 0, second.stderr)
            self.assertEqual(counter.runs(), 6 + 3, "only the three runs with pwc 2 should run")
            self.assertIn("3 run now, 3 already done", second.stdout)
            _, rows2 = support.read_csv(os.path.join(out, "results.csv"))
            self.assertEqual([r["walker.pwc.entries"] for r in rows2], ["0", "2"] * 3)
            kept = {r["run"]: r for r in rows1 if r["walker.pwc.entries"] == "0"}
            for r in rows2:
                if r["walker.pwc.entries"] == "0":
                    self.assertEqual(r, kept[r["run"]])
            # a changed set: value changes every run
            third = support.sweep(tmp.write("s.yaml", open(tmp.join("s.yaml")).read().replace(
                "tlb.l2.ways: 4", "tlb.l2.ways: 8")), "--out", out, env={"TLMMU": counter.path})
            self.assertEqual(third.returncode, 0, third.stderr)
            self.assertEqual(counter.runs(), 9 + 6)
        finally:
            tmp.remove()


class RepeatTest(unittest.TestCase):
    def test_repeat_gives_seeds_base_plus_index(self):
        tmp = support.TempDir("repeat")
        try:
            path = tmp.write("r.yaml", f"base: {support.SINGLE}\nset:\n  cores: 2\n  seed: 7\n"
                             "  workload.synthetic.instructions: 20000\n  workload.synthetic.pattern: random\n"
                             "axes:\n  tlb.l2.entries: [48, 96]\nrepeat: 3\n")
            out = tmp.join("out")
            proc = support.sweep(path, "--out", out)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            _, rows = support.read_csv(os.path.join(out, "results.csv"))
            self.assertEqual([(r["tlb.l2.entries"], r["seed"], r["repeat"]) for r in rows],
                             [(e, str(7 + i), str(i)) for e in ("48", "96") for i in range(3)])
            for r in rows:
                stats = support.read_json(os.path.join(out, "runs", r["run"], "stats.json"))
                self.assertEqual(stats["config"]["seed"], int(r["seed"]))
                self.assertEqual(support.read_json(os.path.join(out, "runs", r["run"], "run.json"))["seed"],
                                 int(r["seed"]))
                # two cores: the sums add both
                self.assertEqual(int(r["cores.sum.instructions"]),
                                 int(r["cores[0].instructions"]) + int(r["cores[1].instructions"]))
            self.assertGreater(len({r["cores.sum.cycles"] for r in rows if r["tlb.l2.entries"] == "48"}), 1,
                               "different seeds should give different random workloads")
        finally:
            tmp.remove()


class WorkloadAxisTest(unittest.TestCase):
    """A workload axis lists trace files, relative to the sweep file, shown as written."""

    def test_trace_axis(self):
        tmp = support.TempDir("traces")
        try:
            os.makedirs(tmp.join("t"))
            shutil.copy(os.path.join(os.path.dirname(support.L2_PWC), "traces", "ls-usr.lackey.xz"),
                        tmp.join("t", "ls.lackey.xz"))
            shutil.copy(os.path.join(support.REPO, "tests", "data", "lackey_small.txt"), tmp.join("t", "small.lackey"))
            path = tmp.write("w.yaml", f"base: {support.SINGLE}\nset: {{cores: 1, workload.format: lackey}}\n"
                             "axes:\n  workload.trace: [t/ls.lackey.xz, t/small.lackey]\n")
            out = tmp.join("out")
            proc = support.sweep(path, "--out", out)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            _, rows = support.read_csv(os.path.join(out, "results.csv"))
            self.assertEqual([r["workload.trace"] for r in rows], ["t/ls.lackey.xz", "t/small.lackey"])
            self.assertEqual(int(rows[0]["cores.sum.instructions"]), 553112)
            self.assertEqual(int(rows[1]["cores.sum.instructions"]), 4)   # its four I records
            for r, name in zip(rows, ("ls.lackey.xz", "small.lackey")):
                stats = support.read_json(os.path.join(out, "runs", r["run"], "stats.json"))
                self.assertEqual(stats["config"]["workload"]["trace"], tmp.join("t", name))
        finally:
            tmp.remove()


if __name__ == "__main__":
    unittest.main()
