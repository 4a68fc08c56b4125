"""scripts/sweep refuses bad sweep files before anything runs: exit 2, one line naming
file:line and the key, no traceback, no run started."""
import os
import re
import unittest

import support

CASES = [
    # name, sweep file, line, what the message must name
    ("misspelt axis key", "set:\n  cores: 1\naxes:\n  tlb.l2.entrys: [16, 32]\n", 4,
     ["'tlb.l2.entrys'", "did you mean 'tlb.l2.entries'"]),
    ("misspelt set key, nested", "set:\n  tlb:\n    l2: {entries: 64, wayz: 4}\n", 3,
     ["'tlb.l2.wayz'", "did you mean 'tlb.l2.ways'"]),
    ("misspelt runs key", "runs:\n  - {cores: 1}\n  - {walker.pwc.entrie: 4}\n", 3,
     ["runs[1]", "'walker.pwc.entrie'"]),
    ("empty axis", "axes:\n  tlb.l2.entries: [16]\n  walker.pwc.entries: []\n", 3,
     ["'walker.pwc.entries'", "empty list", "zero runs"]),
    ("unknown engine in the file", "engine: pbs\naxes: {tlb.l2.entries: [16]}\n", 1,
     ["engine", "'pbs'", "local, slurm"]),
    ("zero runs: empty runs list", "set: {cores: 1}\nruns: []\n", 2, ["runs", "zero runs"]),
    ("zero runs: repeat 0", "repeat: 0\naxes: {cores: [1, 2]}\n", 1, ["repeat", "zero runs"]),
    ("unknown sweep key", "set: {cores: 1}\naxis:\n  cores: [1, 2]\n", 2,
     ["'axis'", "did you mean 'axes'"]),
    ("a list under set", "set:\n  cores: [1, 2]\n", 2, ["'cores'", "axes:"]),
    ("axes and runs", "axes: {cores: [1]}\nruns:\n  - {cores: 2}\n", 2, ["runs", "not both"]),
    ("missing trace", "set:\n  workload.format: lackey\n  workload.trace: no-such.lackey\n", 3,
     ["'workload.trace'", "no-such.lackey"]),
    ("missing base", "base: nowhere.yaml\n", 1, ["base", "nowhere.yaml"]),
    ("YAML syntax", "set:\n  cores: 1\n axes: {\n", None, ["not valid YAML"]),
    ("duplicate value", "axes:\n  tlb.l2.entries: [16, 32, 16]\n", 2, ["listed twice"]),
    ("key and axis clash", "set: {cores: 1}\naxes:\n  cores: [1, 2]\n", 3, ["'cores'", "set:"]),
]


class ValidationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = support.TempDir("validation")
        cls.counter = support.Counter(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.remove()

    def refused(self, path, extra=(), env=None):
        out = self.tmp.join("out")
        proc = support.sweep(path, "--out", out, *extra, env={"TLMMU": self.counter.path, **(env or {})})
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        lines = proc.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, f"expected one line, got: {proc.stderr!r}")
        self.assertNotIn("Traceback", proc.stderr)
        self.assertFalse(os.path.exists(os.path.join(out, "runs")), "runs/ created for a refused sweep")
        self.assertEqual(self.counter.runs(), 0, "a simulation was started")
        return lines[0]

    def test_cases(self):
        for i, (name, text, line, needles) in enumerate(CASES):
            with self.subTest(name):
                path = self.tmp.write(f"case{i}.yaml", text)
                msg = self.refused(path)
                if line is None:
                    self.assertRegex(msg, r"^sweep: error: " + re.escape(path) + r":\d+: ")
                else:
                    self.assertTrue(msg.startswith(f"sweep: error: {path}:{line}: "), msg)
                for needle in needles:
                    self.assertIn(needle, msg)

    def test_unknown_engine_on_the_command_line(self):
        path = self.tmp.write("ok.yaml", "axes: {tlb.l2.entries: [16, 32]}\n")
        msg = self.refused(path, ["--engine", "pbs"])
        self.assertIn("--engine", msg)
        self.assertIn("'pbs'", msg)

    def test_missing_sweep_file(self):
        msg = self.refused(self.tmp.join("absent.yaml"))
        self.assertIn("absent.yaml", msg)

    def test_valid_file_dry_run_lists_the_product(self):
        path = self.tmp.write("good.yaml", f"base: {support.SINGLE}\nset: {{cores: 1}}\n"
                                           "axes:\n  tlb.l2.entries: [16, 32]\n  walker.pwc.entries: [0, 4]\n"
                                           "repeat: 2\n")
        proc = support.sweep(path, "--out", self.tmp.join("dry"), "--dry-run",
                             env={"TLMMU": self.counter.path})
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("8 runs, 8 to run", proc.stdout)
        self.assertEqual(self.counter.runs(), 0)


if __name__ == "__main__":
    unittest.main()
