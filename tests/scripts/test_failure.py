"""A failed run is reported with its error (the last line of its stderr) while the others finish;
exit 1; its row says failed; the next start reruns only it."""
import os
import unittest

import support

SWEEP = """base: {single}
set:
  cores: 1
  workload.synthetic.instructions: 20000
runs:
  - {{tlb.l2.entries: 48}}
  - {{tlb.l2.entries: 16, tlb.l2.ways: 3}}     # ways do not divide entries: tlmmu refuses it
  - {{tlb.l2.entries: 96}}
"""


class FailedRunTest(unittest.TestCase):
    def test_failed_run_reported_others_finish(self):
        tmp = support.TempDir("failure")
        try:
            counter = support.Counter(tmp)
            path = tmp.write("f.yaml", SWEEP.format(single=support.SINGLE))
            out = tmp.join("out")
            proc = support.sweep(path, "--out", out, env={"TLMMU": counter.path})
            self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
            self.assertNotIn("Traceback", proc.stderr)
            self.assertEqual(counter.runs(), 3)
            _, rows = support.read_csv(os.path.join(out, "results.csv"))
            self.assertEqual([r["status"] for r in rows], ["ok", "failed", "ok"])
            bad = rows[1]
            with open(os.path.join(out, "runs", bad["run"], "stderr.txt"), encoding="utf-8") as f:
                last = f.read().strip().splitlines()[-1]
            self.assertIn("tlb.l2", last)
            self.assertEqual(bad["error"], last)
            self.assertEqual(bad["exit_code"], "2")
            self.assertEqual(bad["cores.sum.cycles"], "")
            self.assertIn(f"FAILED {bad['run']}: {last}", proc.stdout)
            self.assertIn(f"failed: {bad['run']} ({path}:7): {last}", proc.stderr)
            self.assertIn("2 ok", proc.stdout)
            self.assertIn("1 failed", proc.stdout)
            for good in (rows[0], rows[2]):
                self.assertTrue(os.path.isfile(os.path.join(out, "runs", good["run"], "stats.json")))
                self.assertGreater(int(good["cores.sum.cycles"]), 0)
            # again: the failed run is retried, the finished ones are not
            again = support.sweep(path, "--out", out, env={"TLMMU": counter.path})
            self.assertEqual(again.returncode, 1)
            self.assertEqual(counter.runs(), 4)
            self.assertIn("3 runs: 1 run now, 2 already done; 2 ok, 1 failed", again.stdout)
        finally:
            tmp.remove()

    def test_missing_program_is_a_clear_error(self):
        tmp = support.TempDir("noprog")
        try:
            path = tmp.write("s.yaml", "set: {cores: 1}\n")
            proc = support.sweep(path, "--out", tmp.join("o"), env={"TLMMU": tmp.join("nothing")})
            self.assertEqual(proc.returncode, 2)
            self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
            self.assertIn("tlmmu program not found", proc.stderr)
        finally:
            tmp.remove()


if __name__ == "__main__":
    unittest.main()
