"""scripts/compare: two runs of tlmmu with different L1 D-TLB sizes show what changed (the TLB's
hits and misses, the tlb component of the CPI stack), largest change first, above a threshold;
sweep folders are compared run by run (same settings); bad input is one line, exit 2."""
import os
import re
import unittest

import support

COMPARE = os.path.join(support.REPO, "scripts", "compare")


def stat_rows(text):
    """{statistic: (a, b, change text)} of compare's statistics tables."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^  (\S+)\s+(\S+)\s+(\S+)\s+([+-]\d+\.\d+%|new \(was 0\)|changed)$", line)
        if m and m.group(1) != "statistic":
            out[m.group(1)] = (m.group(2), m.group(3), m.group(4))
    return out


def pct(text):
    return float(text.rstrip("%"))


class FilesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = support.TempDir("compare")
        cls.files = {}
        for name, entries in (("l1d64.json", 64), ("l1d16.json", 16), ("l1d64-again.json", 64)):
            path = cls.tmp.join(name)
            proc = support.run([support.tlmmu(), "--config", support.SINGLE, "-q",
                                "--set", "workload.synthetic.instructions=20000",
                                "--set", f"tlb.l1d.entries={entries}", "--stats-json", path])
            if proc.returncode != 0:
                raise AssertionError(proc.stderr)
            cls.files[name] = path
        cls.big, cls.small, cls.again = (cls.files[n] for n in ("l1d64.json", "l1d16.json", "l1d64-again.json"))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.remove()

    def test_what_changed(self):
        proc = support.run([COMPARE, self.big, self.small])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stderr, "")
        self.assertIn("l1d16.json against l1d64.json:", proc.stdout)
        self.assertIn("configuration: tlb.l1d.entries 64 -> 16", proc.stdout)
        rows = stat_rows(proc.stdout)
        stats64, stats16 = support.read_json(self.big), support.read_json(self.small)
        for core in range(len(stats64["cores"])):
            for stat, sign in (("tlb.l1d.hits", -1), ("tlb.l1d.misses", +1), ("cpi_stack.tlb", +1)):
                key = f"cores[{core}].{stat}"
                a, b, change = rows[key]
                flat64, flat16 = support.flatten(stats64), support.flatten(stats16)
                self.assertEqual((int(a), int(b)), (flat64[key], flat16[key]))
                self.assertEqual(pct(change) > 0, sign > 0, key)
                self.assertAlmostEqual(pct(change), 100 * (flat16[key] - flat64[key]) / flat64[key], places=2)
        self.assertNotIn("cores[0].instructions", rows)     # the same workload
        self.assertFalse(any(k.startswith("config.") for k in rows))
        # largest change first
        changes = [abs(pct(c)) for _, _, c in rows.values() if c.endswith("%")]
        self.assertEqual(changes, sorted(changes, reverse=True))
        # the CPI stacks side by side: the tlb component grows on every core
        for core in range(len(stats64["cores"])):
            block = proc.stdout.split(f"CPI core {core}")[1].split("\n\n")[0]
            tlb = re.search(r"^tlb\s+(\S+)\s+(\S+)\s+\+(\S+)%$", block, re.M)
            self.assertIsNotNone(tlb, block)
            c = stats64["cores"][core]
            self.assertAlmostEqual(float(tlb.group(1)), c["cpi_stack"]["tlb"] / c["instructions"], places=4)
            self.assertIn("total", block)
        self.assertIn("CPI all cores", proc.stdout)

    def test_threshold_and_fail_on_diff(self):
        proc = support.run([COMPARE, self.big, self.small, "--threshold", "20", "--fail-on-diff"])
        self.assertEqual(proc.returncode, 1, proc.stderr)
        rows = stat_rows(proc.stdout)
        self.assertIn("cores[0].tlb.l1d.hits", rows)
        self.assertTrue(all(abs(pct(c)) >= 20 for _, _, c in rows.values() if c.endswith("%")), rows)
        self.assertNotIn("cores[0].cpi_stack.tlb", rows)        # +13%: under the threshold
        self.assertIn("by 20% or more", proc.stdout)
        proc = support.run([COMPARE, self.big, self.small, "--threshold", "1000", "--fail-on-diff"])
        self.assertEqual(proc.returncode, 0, proc.stdout)
        self.assertIn("no statistic differs by 1000% or more", proc.stdout)

    def test_identical_runs(self):
        proc = support.run([COMPARE, self.big, self.again, "--fail-on-diff"])
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("no statistic differs", proc.stdout)
        self.assertNotIn("configuration:", proc.stdout)

    def test_plot(self):
        for ext, magic in (("png", b"\x89PNG"), ("svg", b"<svg")):
            out = self.tmp.join(f"stacks.{ext}")
            proc = support.run([COMPARE, self.big, self.small, self.again, "--plot", out])
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertIn("l1d64-again.json against l1d64.json:", proc.stdout)
            with open(out, "rb") as f:
                self.assertIn(magic, f.read(4096))

    def test_bad_input(self):
        not_stats = self.tmp.write("other.json", '{"a": 1}\n')
        not_json = self.tmp.write("text.json", "hello\n")
        for argv, words in (([self.big, self.tmp.join("absent.json")], "absent.json: no such file or folder"),
                            ([self.big, not_stats], "other.json: not a statistics file (no cores[i].instructions)"),
                            ([not_json, self.big], "text.json: not a statistics file (not JSON"),
                            ([self.big], "give two statistics files or more"),
                            ([self.big, self.tmp.path], "either statistics files or sweep folders"),
                            ([self.tmp.path], "not a sweep output folder"),
                            ([self.big, self.small, "--plot", "x.pdf"], "--plot: 'x.pdf': expected a file name ending in .png or .svg"),
                            ([self.big, self.small, "--threshold", "-1"], "--threshold")):
            with self.subTest(words):
                proc = support.run([COMPARE, *argv])
                self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
                lines = proc.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, proc.stderr)
                self.assertTrue(lines[0].startswith("compare: error: "), lines[0])
                self.assertIn(words, lines[0])
                self.assertEqual(proc.stdout, "")


class FoldersTest(unittest.TestCase):
    """Two sweeps of the same runs on bases that differ in the memory latency: each run is
    compared with its namesake (same settings), whatever the order of the runs."""

    def test_sweep_folders(self):
        tmp = support.TempDir("compare-sweeps")
        try:
            with open(support.SINGLE, encoding="utf-8") as f:
                base = f.read()
            tmp.write("slow.yaml", base.replace("latency_cycles: 150", "latency_cycles: 300"))
            tmp.write("fast.yaml", base)
            outs = []
            for name, order in (("fast", "[48, 96]"), ("slow", "[96, 48]")):
                path = tmp.write(f"{name}-sweep.yaml", f"base: {name}.yaml\nset:\n  cores: 1\n"
                                 "  workload.synthetic.instructions: 20000\n"
                                 f"axes: {{tlb.l2.entries: {order}}}\n")
                outs.append(tmp.join(name))
                proc = support.sweep(path, "--out", outs[-1], "-q")
                self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            proc = support.run([COMPARE, *outs])
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            titles = re.findall(r"^=== (.*)$", proc.stdout, re.M)
            self.assertEqual(titles, ["tlb.l2.entries=48  (every run: cores=1 seed=1 "
                                      "workload.synthetic.instructions=20000)", "tlb.l2.entries=96"])
            self.assertIn("configuration: memory.latency_cycles 150 -> 300", proc.stdout)
            for block in proc.stdout.split("=== ")[1:]:
                rows = stat_rows(block)
                self.assertGreater(pct(rows["cores[0].walker.cycles"][2]), 0, block)
                self.assertNotIn("cores[0].tlb.l2.misses", rows)    # the same TLBs: same misses
            # one folder: each run against its first
            proc = support.run([COMPARE, outs[0]])
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertIn("configuration: tlb.l2.entries 48 -> 96", proc.stdout)
        finally:
            tmp.remove()


if __name__ == "__main__":
    unittest.main()
