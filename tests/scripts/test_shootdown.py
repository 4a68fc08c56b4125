"""scripts/study-shootdown: a small study (3 target counts, few discards, the mechanisms this
tlmmu has) writes its CSV, Markdown table and picture, the table's numbers are the CSV's, and
the claim check refuses a fabricated CSV that breaks each claim."""
import csv
import os
import re
import sys
import unittest

import support

STUDY = os.path.join(support.REPO, "scripts", "study-shootdown")
sys.path.insert(0, os.path.join(support.REPO, "scripts"))
from tlmmu_study import shootdown  # noqa: E402


def md_tables(text):
    """Each Markdown table of `text` as a list of {header: cell} rows."""
    tables, current = [], None
    for line in text.splitlines():
        if not line.startswith("|"):
            current = None
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if current is None:
            current = {"header": cells, "rows": []}
            tables.append(current)
        elif not all(re.fullmatch(r"-*:?-+:?", c) for c in cells):
            current["rows"].append(dict(zip(current["header"], cells)))
    return [t["rows"] for t in tables]


class StudyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = support.TempDir("shootdown")
        cls.out = cls.tmp.join("study")
        cls.proc = support.run([STUDY, "--mechanisms", "ipi,directed,broadcast", "--targets", "1,2,4",
                                "--variants", "early_ack,range4_nobatch,shared_lazy",
                                "--discards", "5", "--out", cls.out, "--jobs", "2", "-q"],
                               timeout=300)
        cls.csv = os.path.join(cls.out, "shootdown_scaling.csv")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.remove()

    def test_runs_and_writes_everything(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stdout + self.proc.stderr)
        for ext, magic in (("png", b"\x89PNG"), ("svg", b"<svg")):
            with open(os.path.join(self.out, f"shootdown_scaling.{ext}"), "rb") as f:
                self.assertIn(magic, f.read(4096))
        # A mechanism this tlmmu does not have is skipped, with a message, not a failure.
        allowed = shootdown.allowed_values(support.tlmmu(), shootdown.MECHANISM_KEY)
        if "broadcast" not in allowed:
            self.assertIn("skipping mechanism 'broadcast'", self.proc.stderr)

    def rows(self):
        _, rows = support.read_csv(self.csv)
        return rows

    def test_csv_rows(self):
        rows = self.rows()
        mechs = sorted({r["mechanism"] for r in rows})
        self.assertIn("ipi", mechs)
        # Per mechanism: the baseline at 1, 2, 4 targets, three variants at 1 and 4.
        for m in mechs:
            mine = [(r["variant"], r["targets"]) for r in rows if r["mechanism"] == m]
            self.assertEqual(len(mine), 3 + 3 * 2, m)
        for r in rows:
            # n/a: a combination this tlmmu refuses (an IPI option with broadcast), with why.
            self.assertIn(r["status"], ("ok", "n/a"), r)
            if r["status"] == "n/a":
                self.assertNotEqual(r["variant"], "baseline", r)
                self.assertIn("refused", r["note"], r)
                continue
            self.assertNotEqual(r["targets_outlast"], "no", r)
            if r["variant"] == "baseline":
                # Every target is a real one: each shootdown reaches all of them.
                self.assertEqual(float(r["targets_per_shootdown"]), float(r["targets"]), r)
                self.assertEqual(int(r["shootdowns"]), 5, r)
        nobatch = [r for r in rows if r["variant"] == "range4_nobatch"]
        self.assertTrue(all(int(r["shootdowns"]) == 4 * 5 for r in nobatch), nobatch)

    def test_table_is_the_csv(self):
        rows = self.rows()
        with open(os.path.join(self.out, "shootdown_scaling.md"), encoding="utf-8") as f:
            scaling, variants = md_tables(f.read())
        mechs = list(dict.fromkeys(r["mechanism"] for r in rows))
        base = {(r["mechanism"], r["targets"]): r for r in rows if r["variant"] == "baseline"}
        self.assertEqual([t["targets"] for t in scaling], ["1", "2", "4"])
        for t in scaling:
            for m in mechs:
                self.assertEqual(t[f"{m} p50"], base[(m, t["targets"])]["p50"])
                self.assertEqual(t[f"{m} p99"], base[(m, t["targets"])]["p99"])
        by_key = {(r["mechanism"], r["variant"], r["targets"]): r for r in rows}
        self.assertEqual(len(variants), sum(r["status"] == "ok" for r in rows
                                            if r["variant"] != "baseline" or r["targets"] != "2"))
        for v in variants:
            r = by_key[(v["mechanism"], v["variant"], v["targets"])]
            for col, key in (("p50", "p50"), ("p99", "p99"), ("shootdowns", "shootdowns"),
                             ("IPIs", "ipis"), ("cycles per discard", "cycles_per_discard")):
                self.assertEqual(v[col], r[key], (v, key))

    def test_rerun_is_identical_and_resumes(self):
        with open(self.csv, "rb") as f:
            before = f.read()
        proc = support.run([STUDY, "--mechanisms", "ipi,directed,broadcast", "--targets", "1,2,4",
                            "--variants", "early_ack,range4_nobatch,shared_lazy",
                            "--discards", "5", "--out", self.out, "--jobs", "2"], timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("already done", proc.stdout)
        with open(self.csv, "rb") as f:
            self.assertEqual(f.read(), before)


class ClaimsOnTheHaswellPreset(unittest.TestCase):
    """The issue's claims on the real model, up to the largest target count (63: 64 cores):
    ipi's latency does not fall as targets are added, broadcast is cheaper at 63 targets."""

    def test_check_passes_up_to_63_targets(self):
        tmp = support.TempDir("shootdown-claims")
        try:
            proc = support.run([STUDY, "--targets", "1,8,63", "--variants", "none",
                                "--discards", "5", "--check", "--out", tmp.join("study"),
                                "--jobs", "2", "-q"], timeout=300)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            self.assertIn("check passed", proc.stdout + proc.stderr)
            with open(tmp.join("study", "shootdown_scaling.csv"), encoding="utf-8") as f:
                p50 = {(r["mechanism"], r["targets"]): int(r["p50"]) for r in csv.DictReader(f)}
            self.assertLess(p50[("ipi", "1")], p50[("ipi", "8")])
            self.assertLess(p50[("ipi", "8")], p50[("ipi", "63")])
            self.assertLess(p50[("broadcast", "63")], p50[("ipi", "63")])
        finally:
            tmp.remove()


def fabricated(p50s):
    """Baseline rows of a shootdown_scaling.csv: {mechanism: {targets: p50}}."""
    return [{"mechanism": m, "variant": "baseline", "targets": t, "p50": p, "p99": p,
             "status": "ok", "targets_outlast": "yes"}
            for m, series in p50s.items() for t, p in series.items()]


class CheckTest(unittest.TestCase):
    GOOD = {"ipi": {1: 3000, 2: 3200, 63: 30000}, "broadcast": {1: 500, 2: 600, 63: 2000}}

    def test_claims_hold(self):
        self.assertEqual(shootdown.check(fabricated(self.GOOD)), [])

    def test_ipi_latency_falls(self):
        bad = {"ipi": {1: 3000, 2: 2900, 63: 30000}, "broadcast": self.GOOD["broadcast"]}
        failures = shootdown.check(fabricated(bad))
        self.assertEqual(len(failures), 1, failures)
        self.assertIn("ipi p50 falls from 3000 cycles at 1 targets to 2900 at 2", failures[0])

    def test_broadcast_not_cheaper(self):
        bad = {"ipi": self.GOOD["ipi"], "broadcast": {1: 500, 2: 600, 63: 30000}}
        failures = shootdown.check(fabricated(bad))
        self.assertEqual(len(failures), 1, failures)
        self.assertIn("broadcast p50 30000 is not below ipi p50 30000 cycles at 63 targets", failures[0])

    def test_missing_broadcast_and_unsound_runs(self):
        rows = fabricated({"ipi": self.GOOD["ipi"]})
        rows[0]["targets_outlast"] = "no"
        failures = shootdown.check(rows)
        self.assertTrue(any("no broadcast baseline results" in f for f in failures), failures)
        self.assertTrue(any("finished before the initiator" in f for f in failures), failures)

    def test_cli_on_a_violating_csv(self):
        tmp = support.TempDir("shootdown-check")
        try:
            bad = fabricated({"ipi": {1: 3000, 4: 2000}, "broadcast": {1: 100, 4: 200}})
            path = tmp.join("results.csv")

            def check_cli(rows):
                with open(path, "w", encoding="utf-8", newline="") as f:
                    w = csv.DictWriter(f, shootdown.COLUMNS, extrasaction="ignore")
                    w.writeheader()
                    w.writerows(rows)
                return support.run([STUDY, "--check-csv", path])
            proc = check_cli(bad)
            self.assertEqual(proc.returncode, 1, proc.stderr)
            self.assertIn("check failed: ipi p50 falls from 3000 cycles at 1 targets to 2000 at 4",
                          proc.stderr)
            proc = check_cli(fabricated(self.GOOD))
            self.assertEqual(proc.returncode, 0, proc.stderr)
        finally:
            tmp.remove()

    def test_bad_arguments(self):
        for argv, message in ((["--targets", "0,4"], "--targets: 0 is out of range"),
                              (["--targets", "64"], "--targets: 64 is out of range"),
                              (["--targets", "a"], "--targets: expected whole numbers"),
                              (["--variants", "bogus"], "--variants: unknown variant 'bogus'"),
                              (["--discards", "0"], "--discards: expected 1 to 100000"),
                              (["--mechanisms", "carrier-pigeon"], "none of carrier-pigeon is allowed"),
                              (["--nope"], "unrecognized arguments")):
            proc = support.run([STUDY, *argv, "--out", "/nonexistent/never-written"])
            self.assertEqual(proc.returncode, 2, (argv, proc.stderr))
            lines = proc.stderr.strip().splitlines()
            self.assertTrue(lines[-1].startswith("study-shootdown: error: "), proc.stderr)
            self.assertIn(message, lines[-1])


if __name__ == "__main__":
    unittest.main()
