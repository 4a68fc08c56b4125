"""scripts/sweep's reliability: a run written with its keys in another order is the same run; an
edited input (base, scenario, trace) reruns the runs that read it; a second sweep into a folder
in use exits 2 naming the first and leaves its outputs alone; an unwritable --out is one line,
exit 2, in every tool; results.csv sums per-core statistics only where tlmmu flags them
additive (percentiles and a threaded process's per-core view are not)."""
import os
import stat
import subprocess
import time
import unittest

import support

SCENARIO = """processes:
  - name: p
    core: 0
    vmas:
      - {start: 0x400000, size: 64KiB, prot: rx}
      - {start: 0x10000000, size: 64KiB, prot: rw}
    workload: {format: lackey, trace: t.lackey}
"""
TRACE = "I  00400000,4\n L 10000000,8\nI  00400004,4\n S 10000010,8\n"


def one_line(test, proc):
    lines = proc.stderr.strip().splitlines()
    test.assertEqual(len(lines), 1, proc.stdout + proc.stderr)
    test.assertNotIn("internal error", proc.stderr)
    return lines[0]


class RunIdentityTest(unittest.TestCase):
    def setUp(self):
        self.tmp = support.TempDir("identity")
        self.counter = support.Counter(self.tmp)

    def tearDown(self):
        self.tmp.remove()

    def sweep(self, path, *extra):
        return support.sweep(path, "--out", self.tmp.join("out"), *extra,
                             env={"TLMMU": self.counter.path})

    def test_keys_in_another_order_are_a_duplicate(self):
        path = self.tmp.write("d.yaml", f"base: {support.SINGLE}\nruns:\n"
                              "  - {tlb.l2.entries: 64, walker.pwc.entries: 4}\n"
                              "  - {walker.pwc.entries: 4, tlb.l2.entries: 64}\n")
        proc = self.sweep(path)
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        msg = one_line(self, proc)
        self.assertIn(f"{path}:4: this run repeats the one at {path}:3", msg)
        self.assertEqual(self.counter.runs(), 0)

    def test_reordered_set_keys_are_already_done(self):
        text = (f"base: {support.SINGLE}\nset:\n  cores: 1\n  workload.synthetic.instructions: 5000\n"
                "axes: {tlb.l2.entries: [48, 96]}\n")
        first = self.sweep(self.tmp.write("s.yaml", text))
        self.assertEqual(first.returncode, 0, first.stderr)
        swapped = text.replace("  cores: 1\n  workload.synthetic.instructions: 5000\n",
                               "  workload.synthetic.instructions: 5000\n  cores: 1\n")
        self.assertNotEqual(swapped, text)
        again = self.sweep(self.tmp.write("s.yaml", swapped))
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn("0 run now, 2 already done", again.stdout)
        self.assertEqual(self.counter.runs(), 2)

    def test_edited_inputs_rerun(self):
        # base.yaml names the scenario (relative to base's folder), the scenario its trace
        # (relative to the scenario's folder): three files, none of them named in the sweep file.
        os.makedirs(self.tmp.join("conf", "sub"))
        base = self.tmp.write("conf/base.yaml", "cores: 1\nworkload:\n  scenario: sub/s.yaml\n")
        scenario = self.tmp.write("conf/sub/s.yaml", SCENARIO)
        trace = self.tmp.write("conf/sub/t.lackey", TRACE)
        path = self.tmp.write("e.yaml", "base: conf/base.yaml\naxes: {tlb.l2.entries: [48, 96]}\n")
        expected_runs = 0
        for what, edit in ((None, None),
                           ("trace", lambda: self.tmp.write("conf/sub/t.lackey", TRACE + "I  00400008,4\n")),
                           ("scenario", lambda: self.tmp.write("conf/sub/s.yaml", SCENARIO.replace("64KiB, prot: rw", "128KiB, prot: rw"))),
                           ("base", lambda: self.tmp.write("conf/base.yaml", "# edited\n" + open(base).read()))):
            with self.subTest(edited=what):
                if edit:
                    edit()
                proc = self.sweep(path)
                self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
                expected_runs += 2
                self.assertIn("2 run now, 0 already done", proc.stdout, what)
                self.assertEqual(self.counter.runs(), expected_runs, what)
                again = self.sweep(path)
                self.assertIn("0 run now, 2 already done", again.stdout, what)
        _, rows = support.read_csv(self.tmp.join("out", "results.csv"))
        self.assertEqual(int(rows[0]["cores.sum.instructions"]), 3)   # the edited trace's
        desc = support.read_json(self.tmp.join("out", "runs", rows[0]["run"], "run.json"))
        self.assertEqual(sorted(desc["identity"]["inputs"]), sorted([base, scenario, trace]))


class LockTest(unittest.TestCase):
    def test_second_sweep_into_a_busy_folder_exits_2(self):
        tmp = support.TempDir("lock")
        try:
            slow = tmp.join("tlmmu-slow")
            with open(slow, "w", encoding="utf-8") as f:
                f.write(f'#!/bin/sh\ncase "$*" in *--stats-json*) sleep 2 ;; esac\nexec "{support.tlmmu()}" "$@"\n')
            os.chmod(slow, os.stat(slow).st_mode | stat.S_IXUSR)
            path = tmp.write("l.yaml", f"base: {support.SINGLE}\nset:\n  cores: 1\n"
                             "  workload.synthetic.instructions: 5000\naxes: {tlb.l2.entries: [48, 96]}\n")
            out = tmp.join("out")
            env = dict(os.environ, TLMMU=slow)
            first = subprocess.Popen([support.SWEEP, path, "--out", out, "--jobs", "1"], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                deadline = time.monotonic() + 60
                while not os.path.isdir(os.path.join(out, "runs")) and time.monotonic() < deadline:
                    time.sleep(0.05)
                second = support.sweep(path, "--out", out, "--force", env={"TLMMU": slow})
            finally:
                stdout, stderr = first.communicate(timeout=120)
            self.assertEqual(second.returncode, 2, second.stdout + second.stderr)
            msg = one_line(self, second)
            self.assertIn(f"--out: '{out}' is in use by sweep {path}", msg)
            self.assertIn(f"pid {first.pid}", msg)
            self.assertEqual(second.stdout, "")
            self.assertEqual(first.returncode, 0, stdout + stderr)
            _, rows = support.read_csv(os.path.join(out, "results.csv"))
            self.assertEqual([r["status"] for r in rows], ["ok", "ok"])
            for r in rows:
                self.assertTrue(os.path.isfile(os.path.join(out, "runs", r["run"], "stats.json")))
            # once the first is done, the folder is free again
            third = support.sweep(path, "--out", out, env={"TLMMU": slow})
            self.assertEqual(third.returncode, 0, third.stderr)
            self.assertIn("0 run now, 2 already done", third.stdout)
        finally:
            tmp.remove()


class UnwritableOutTest(unittest.TestCase):
    def test_every_tool_says_out_path_and_why(self):
        tmp = support.TempDir("unwritable")
        try:
            blocker = tmp.write("a-file", "")
            out = os.path.join(blocker, "sub")
            sweep_file = tmp.write("s.yaml", "set: {cores: 1}\n")
            for tool, argv in (("sweep", [sweep_file]), ("study-madvise", []),
                               ("study-shootdown", ["--targets", "1", "--variants", "none"])):
                with self.subTest(tool):
                    proc = support.run([os.path.join(support.REPO, "scripts", tool), *argv, "--out", out])
                    self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
                    self.assertEqual(one_line(self, proc),
                                     f"{tool}: error: --out: cannot write into '{out}': Not a directory")
        finally:
            tmp.remove()


class PerCoreSumsTest(unittest.TestCase):
    """configs/default.yaml: two cores that shoot down each other's TLB (a per-core shootdown
    latency histogram on each)."""

    def test_only_additive_statistics_are_summed(self):
        tmp = support.TempDir("sums")
        try:
            path = tmp.write("s.yaml", f"base: {os.path.join(support.REPO, 'configs', 'default.yaml')}\n"
                             "runs:\n  - {seed: 1}\n")
            proc = support.sweep(path, "--out", tmp.join("out"))
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            columns, rows = support.read_csv(tmp.join("out", "results.csv"))
            row = rows[0]
            stats = support.read_json(tmp.join("out", "runs", row["run"], "stats.json"))
            cores = stats["cores"]
            self.assertGreaterEqual(len(cores), 2)
            for c in columns:
                if c.startswith("cores.sum."):
                    self.assertNotRegex(c, r"\.(p\d+|min|max|mean|percentiles_exact)$|^cores\.sum\.cpi$", c)
            h = [c["shootdown_latency"] for c in cores]
            self.assertTrue(all(x["count"] > 0 for x in h), h)
            self.assertEqual(int(row["cores.sum.shootdown_latency.count"]), sum(x["count"] for x in h))
            self.assertEqual(int(row["cores.sum.shootdown_latency.sum"]), sum(x["sum"] for x in h))
            self.assertEqual(int(row["cores.sum.cycles"]), sum(c["cycles"] for c in cores))
            self.assertEqual(int(row["derived.shootdown_latency.max"]), max(x["max"] for x in h))
            self.assertEqual(int(row["derived.shootdown_latency.min"]), min(x["min"] for x in h))
            self.assertTrue(support.close(float(row["derived.shootdown_latency.mean"]),
                                          sum(x["sum"] for x in h) / sum(x["count"] for x in h)))
            # the merged max bounds every core's p99 (a sum of percentiles did not)
            self.assertLessEqual(max(x["p99"] for x in h), int(row["derived.shootdown_latency.max"]))
        finally:
            tmp.remove()

    def test_a_threaded_process_counts_once(self):
        """One process with a thread on each of two cores: cores[i].firmware.* is that process
        seen from each core (tlmmu flags it not additive), so results.csv has no sum of it; the
        cores' fault counters do add up, to the threads' faults; the sums follow the
        catalogue's flag, written beside the run."""
        tmp = support.TempDir("threads")
        try:
            tmp.write("scen.yaml", """processes:
  - name: app
    vmas:
      - {start: 0x400000, size: 64KiB, prot: rx}
      - {start: 0x10000000, size: 64KiB, prot: rw}
    threads:
      - {core: 0, workload: {pattern: random, footprint: 64KiB, data_base: 0x10000000, instructions: 4000}}
      - {core: 1, workload: {pattern: random, footprint: 64KiB, data_base: 0x10000000, instructions: 4000}}
""")
            tmp.write("base.yaml", "cores: 2\nworkload: {scenario: scen.yaml}\n")
            path = tmp.write("s.yaml", "base: base.yaml\nruns:\n  - {seed: 1}\n")
            proc = support.sweep(path, "--out", tmp.join("out"))
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            columns, rows = support.read_csv(tmp.join("out", "results.csv"))
            row = rows[0]
            run = tmp.join("out", "runs", row["run"])
            stats = support.read_json(os.path.join(run, "stats.json"))
            listing = support.read_json(os.path.join(run, "stats_list.json"))
            self.assertFalse(listing["cores[i].firmware.faults.demand_zero"]["additive"])
            self.assertTrue(listing["cores[i].faults.not_present"]["additive"])
            self.assertEqual([c for c in columns if c.startswith("cores.sum.firmware.")], [])
            app = stats["processes"]["app"]
            faults = sum(t["faults"]["not_present"] for t in app["threads"])
            self.assertGreater(faults, 0)
            self.assertEqual(int(row["cores.sum.faults.not_present"]), faults)
            self.assertEqual(int(row["processes.app.firmware.faults.demand_zero"]),
                             app["firmware"]["faults"]["demand_zero"])
            # every cores.sum column is one tlmmu flags additive (or a histogram's count/sum)
            for c in columns:
                if c.startswith("cores.sum."):
                    stat = "cores[i]." + c[len("cores.sum."):]
                    head, _, field = stat.rpartition(".")
                    self.assertTrue(listing.get(stat, {}).get("additive") or
                                    (listing.get(head, {}).get("kind") == "histogram"
                                     and field in ("count", "sum")), c)
        finally:
            tmp.remove()


if __name__ == "__main__":
    unittest.main()
