"""The Slurm engine against a real one-node Slurm (scripts/slurm-local on loopback, in a
temporary folder, stopped again): the l2_pwc sweep gives a results.csv identical to the local
engine's, and a failed task is reported with its Slurm state. Skipped, with the reason, where
Slurm cannot be installed or started (not root, no apt, daemons refusing to start)."""
import os
import shutil
import subprocess
import tempfile
import unittest

import support

SLURM_LOCAL = os.path.join(support.REPO, "scripts", "slurm-local")
DEPS_SLURM = os.path.join(support.REPO, "scripts", "deps-slurm")
PORT = os.environ.get("TLMMU_TEST_SLURM_PORT", "6937")


def last_line(text):
    lines = [l for l in (text or "").strip().splitlines() if l.strip()]
    return lines[-1] if lines else "(no message)"


class SlurmEngineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        support.tlmmu()
        if os.geteuid() != 0:
            raise unittest.SkipTest("Slurm's daemons need root here (the test runs as uid "
                                    f"{os.geteuid()})")
        try:
            deps = subprocess.run(["bash", DEPS_SLURM], capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise unittest.SkipTest(f"cannot install Slurm: {e}")
        if deps.returncode != 0:
            raise unittest.SkipTest(f"cannot install Slurm (scripts/deps-slurm exit {deps.returncode}): "
                                    f"{last_line(deps.stderr or deps.stdout)}")
        # a short path: slurmd puts unix sockets in its spool folder
        cls.state = tempfile.mkdtemp(prefix="tlmmu-slurm-", dir="/tmp")
        cls.env = {"TLMMU_SLURM_DIR": cls.state, "TLMMU_SLURM_PORT": PORT,
                   "SLURM_CONF": os.path.join(cls.state, "slurm.conf")}
        start = support.run(["bash", SLURM_LOCAL, "start"], env=cls.env, timeout=120)
        if start.returncode != 0:
            cls.stop()
            raise unittest.SkipTest(f"cannot start a one-node Slurm (scripts/slurm-local start exit "
                                    f"{start.returncode}): {last_line(start.stderr or start.stdout)}")
        cls.tmp = support.TempDir("slurm")

    @classmethod
    def stop(cls):
        support.run(["bash", SLURM_LOCAL, "stop"], env=cls.env, timeout=120)
        shutil.rmtree(cls.state, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        cls.stop()
        status = support.run(["bash", SLURM_LOCAL, "status"], env=cls.env)
        cls.tmp.remove()
        assert status.returncode == 3 and "down" in status.stdout, f"still up after stop: {status.stdout}"

    def test_status_up(self):
        status = support.run(["bash", SLURM_LOCAL, "status"], env=self.env)
        self.assertEqual(status.returncode, 0, status.stdout + status.stderr)
        self.assertIn("up", status.stdout)

    def test_l2_pwc_identical_to_local(self):
        local, slurm = self.tmp.join("local"), self.tmp.join("slurm")
        a = support.sweep(support.L2_PWC, "--out", local, "--engine", "local")
        self.assertEqual(a.returncode, 0, a.stdout + a.stderr)
        b = support.sweep(support.L2_PWC, "--out", slurm, "--engine", "slurm", "--poll", "0.5",
                          env=self.env, timeout=600)
        self.assertEqual(b.returncode, 0, b.stdout + b.stderr)
        self.assertIn("submitted Slurm job array", b.stdout)
        with open(os.path.join(local, "results.csv"), "rb") as f1, \
                open(os.path.join(slurm, "results.csv"), "rb") as f2:
            self.assertEqual(f1.read(), f2.read())
        _, rows = support.read_csv(os.path.join(slurm, "results.csv"))
        self.assertGreaterEqual(len(rows), 12)
        # one job array, one task per run, each task ran the per-run command
        with open(os.path.join(slurm, "slurm", "submit-0", "job.sh"), encoding="utf-8") as f:
            script = f.read()
        self.assertIn(f"#SBATCH --array=0-{len(rows) - 1}", script)
        self.assertIn("--run-one", script)
        for r in rows:
            engine = support.read_json(os.path.join(slurm, "runs", r["run"], "engine.json"))
            self.assertEqual(engine["engine"], "slurm")
            self.assertEqual(engine["slurm_state"], "COMPLETED")
        # resume through Slurm submits nothing
        c = support.sweep(support.L2_PWC, "--out", slurm, "--engine", "slurm", env=self.env)
        self.assertEqual(c.returncode, 0, c.stderr)
        self.assertNotIn("submitted", c.stdout)
        self.assertFalse(os.path.exists(os.path.join(slurm, "slurm", "submit-1")))

    def test_failed_task_reported_with_its_state(self):
        path = self.tmp.write("f.yaml", f"base: {support.SINGLE}\nset:\n  cores: 1\n"
                              "  workload.synthetic.instructions: 20000\nruns:\n"
                              "  - {tlb.l2.entries: 48}\n  - {tlb.l2.entries: 16, tlb.l2.ways: 3}\n")
        out = self.tmp.join("fail")
        proc = support.sweep(path, "--out", out, "--engine", "slurm", "--poll", "0.5", env=self.env)
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        _, rows = support.read_csv(os.path.join(out, "results.csv"))
        self.assertEqual([r["status"] for r in rows], ["ok", "failed"])
        job = open(os.path.join(out, "slurm", "submit-0", "job_id")).read().strip()
        self.assertRegex(proc.stdout, rf"FAILED {rows[1]['run']}: Slurm task {job}_1 FAILED: tlmmu: error: .*tlb.l2")


if __name__ == "__main__":
    unittest.main()
