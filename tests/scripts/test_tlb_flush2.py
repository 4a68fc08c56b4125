"""scripts/study-tlb-flush2 on a reduced set (1, 2, 4 threads, no --check: the firmware's lock
granularity that --check waits for lands separately): its table, CSV and picture exist and say
the same; the check's claims on fabricated rows; its scenario is will-it-scale's loop;
bad arguments are one line and exit 2."""
import csv
import os
import subprocess
import sys
import unittest

import yaml

from support import REPO, TempDir, tlmmu

sys.path.insert(0, os.path.join(REPO, "scripts"))
from tlmmu_study import tlb_flush2  # noqa: E402

STUDY = os.path.join(REPO, "scripts", "study-tlb-flush2")
THREADS = [1, 2, 4]
LOOPS = 20


class TlbFlush2Study(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = TempDir("tlb-flush2")
        cls.proc = subprocess.run([STUDY, "--threads", ",".join(map(str, THREADS)), "--loops",
                                   str(LOOPS), "--out", cls.tmp.path, "--tlmmu", tlmmu(),
                                   "--jobs", "2"], capture_output=True, text=True)
        with open(cls.tmp.join("tlb_flush2.csv"), encoding="utf-8") as f:
            cls.rows = list(csv.DictReader(f))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.remove()

    def test_runs_and_writes_every_output(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        self.assertEqual(self.proc.stderr, "")
        for name in ("tlb_flush2.csv", "tlb_flush2.md", "tlb_flush2.png", "tlb_flush2.svg",
                     "study.yaml", "results.csv"):
            self.assertGreater(os.path.getsize(self.tmp.join(name)), 0, name)
            self.assertFalse([f for f in os.listdir(self.tmp.path) if ".tmp" in f])
        with open(self.tmp.join("tlb_flush2.png"), "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        with open(self.tmp.join("tlb_flush2.svg"), encoding="utf-8") as f:
            self.assertIn("<svg", f.read())

    def test_one_row_per_thread_count_well_formed(self):
        self.assertEqual([int(r["threads"]) for r in self.rows], THREADS)
        for r in self.rows:
            ipi, bc = float(r["ipi_loops_per_s"]), float(r["broadcast_loops_per_s"])
            self.assertGreater(ipi, 0, r)
            self.assertGreater(bc, 0, r)
            self.assertAlmostEqual(float(r["gain"]), bc / ipi, places=2)
            self.assertEqual(r["violations"], "0", r)  # the safety checker watched every run
            self.assertEqual(r["published_gain"], "", r)  # only 36 threads are published
        one = self.rows[0]
        self.assertEqual(one["ipi_loops_per_s"], one["broadcast_loops_per_s"])  # no shootdown
        self.assertEqual(one["ipi_shootdown_p50_cycles"], "")
        for r in self.rows[1:]:
            self.assertGreater(int(r["ipi_shootdown_p50_cycles"]), 0, r)
            self.assertGreater(int(r["broadcast_shootdown_p50_cycles"]), 0, r)

    def test_every_discard_shoots_down_once_with_other_threads(self):
        with open(self.tmp.join("results.csv"), encoding="utf-8") as f:
            results = list(csv.DictReader(f))
        for (threads, mechanism, loops), r in zip(tlb_flush2.runs(THREADS, LOOPS), results):
            self.assertEqual(r["status"], "ok", r["run"])
            self.assertEqual(int(r["shootdown.count"]), 0 if threads == 1 else threads * loops)

    def test_table_is_the_csv_and_is_printed(self):
        with open(self.tmp.join("tlb_flush2.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertIn(md, self.proc.stdout)
        lines = md.splitlines()[2:]
        self.assertEqual(len(lines), len(self.rows))
        for line, r in zip(lines, self.rows):
            cells = [c.strip() for c in line.strip("|").split("|")]
            self.assertEqual(cells[0], r["threads"])
            self.assertEqual(cells[1], f"{int(r['ipi_loops_per_s']) / 1000:.0f}k")
            self.assertEqual(cells[2], f"{int(r['broadcast_loops_per_s']) / 1000:.0f}k")
            self.assertEqual(cells[3], f"{float(r['gain']):.2f}")

    def test_rerun_resumes_and_gives_the_same_table(self):
        proc = subprocess.run([STUDY, "--threads", ",".join(map(str, THREADS)), "--loops",
                               str(LOOPS), "--out", self.tmp.path, "--tlmmu", tlmmu()],
                              capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(f"0 run now, {len(tlb_flush2.runs(THREADS, LOOPS))} already done",
                      proc.stdout)
        self.assertEqual(proc.stdout.split("\n", 1)[1], self.proc.stdout.split("\n", 1)[1])


class Claims(unittest.TestCase):
    def rows(self, ipi, gain36):
        rows = [{"threads": t, "ipi_loops_per_s": v, "gain": 1.0, "gain_error_percent": None,
                 "published_gain": None} for t, v in zip((1, 2, 4), ipi)]
        pub = tlb_flush2.PUBLISHED[36]["broadcast"] / tlb_flush2.PUBLISHED[36]["ipi"]
        rows.append({"threads": 36, "ipi_loops_per_s": 1, "gain": gain36, "published_gain": pub,
                     "gain_error_percent": 100.0 * (gain36 / pub - 1)})
        return rows

    def test_check_holds_when_ipi_rises_and_the_gain_is_close(self):
        self.assertEqual(tlb_flush2.failures(self.rows([100, 180, 300], 1.7)), [])

    def test_check_fails_when_ipi_falls_or_the_gain_is_far(self):
        bad = tlb_flush2.failures(self.rows([300, 120, 130], 1.7))
        self.assertEqual(len(bad), 1)
        self.assertIn("ipi: 120 loops/s at 2 threads, not above 300 at 1", bad[0])
        bad = tlb_flush2.failures(self.rows([100, 180, 300], 2.2))
        self.assertEqual(len(bad), 1)
        self.assertIn("36 threads: broadcast's gain 2.20 vs 1.58 published (+39.0%, more than 25%)", bad[0])

    def test_published_figures_are_the_cited_ones(self):
        self.assertEqual(tlb_flush2.PUBLISHED, {36: {"ipi": 731000, "broadcast": 1157000}})
        self.assertEqual(tlb_flush2.PUBLISHED_KERNELS["vanilla"], 527000)


class Inputs(unittest.TestCase):
    def test_scenario_is_will_it_scales_loop(self):
        """tlb_flush2.c: per loop a store to the next page of the thread's 1 MiB mapping, its
        madvise, a load of it; munmap + mmap after 256 pages."""
        doc = yaml.safe_load(tlb_flush2.scenario(2, 512))
        vmas = doc["processes"][0]["vmas"]
        self.assertEqual([v["start"] for v in vmas[1:]], [0x10000000, 0x10100000])
        t1 = doc["processes"][0]["threads"][1]
        self.assertEqual(t1["workload"], {"format": "lackey", "trace": "traces/t1-512.lackey"})
        ev = t1["events"]
        self.assertEqual(len(ev), 512 + 2 * 2)
        self.assertEqual(ev[0], {"at": 1, "discard": {"start": 0x10100000, "size": "4KiB"}})
        self.assertEqual(ev[255]["discard"]["start"], 0x10100000 + 255 * 4096)
        self.assertEqual(ev[256], {"at": 512, "unmap": {"start": 0x10100000, "size": "1MiB"}})
        self.assertEqual(ev[257], {"at": 512, "map": {"start": 0x10100000, "size": "1MiB",
                                                       "prot": "rw"}})
        self.assertEqual(ev[258]["discard"]["start"], 0x10100000)  # the new mapping's first
        lines = tlb_flush2.trace(1, 2).splitlines()
        self.assertEqual(lines, ["I  00400000,4", " S 10100000,1", "I  00400004,4",
                                 " L 10100000,1", "I  00400000,4", " S 10101000,1",
                                 "I  00400004,4", " L 10101000,1", "I  00400008,4"])

    def test_bad_arguments_are_one_line_exit_2(self):
        for argv, message in (
                (["--threads", "1,x"], "--threads: expected whole numbers separated by commas, "
                                       "got '1,x'"),
                (["--threads", "65"], "--threads: 65 is out of range: 1 to 64 (one core a thread)"),
                (["--loops", "1"], "--loops: expected 2 to 100000"),
                (["--jobs", "0"], "--jobs: must be at least 1"),
                (["--check", "--threads", "1,2,4"], "--check: needs threads 1 and 4 and a "
                                                     "published count (36) in --threads"),
                (["--config", "/nonexistent.yaml"], "--config: /nonexistent.yaml: no such file")):
            proc = subprocess.run([STUDY] + argv, capture_output=True, text=True)
            self.assertEqual(proc.returncode, 2, argv)
            self.assertEqual(proc.stderr, f"study-tlb-flush2: error: {message}\n", argv)
            self.assertEqual(proc.stdout, "")

    def test_a_preset_tlmmu_refuses_is_one_line_exit_2_before_any_run(self):
        tmp = TempDir("tlb-flush2-bad")
        try:
            config = tmp.write("bad.yaml", "cores: [\n")
            proc = subprocess.run([STUDY, "--config", config, "--out", tmp.join("out"),
                                   "--tlmmu", tlmmu()], capture_output=True, text=True)
            self.assertEqual(proc.returncode, 2)
            self.assertRegex(proc.stderr, r"^study-tlb-flush2: error: --config: .*bad.yaml:2: [^\n]*\n$")
            self.assertFalse(os.path.exists(tmp.join("out")))
        finally:
            tmp.remove()


if __name__ == "__main__":
    unittest.main()
