"""scripts/plot: each kind of picture exists as non-empty PNG and SVG, and the data behind it
(the CSV next to it) equals what the results table (and the runs' stats.json) says."""
import os
import unittest

import support

SWEEP = """base: {single}
set:
  cores: 2
  workload.synthetic.instructions: 20000
  workload.synthetic.footprint: 8MiB
  tlb.l2.ways: 4
axes:
  workload.synthetic.pattern: [stream, random]
  tlb.l2.entries: [16, 64, 256]
repeat: 2
"""
COMPONENTS = ["base", "tlb", "walk", "fault", "data", "os"]


def mean(xs):
    return sum(xs) / len(xs)


class PlotTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = support.TempDir("plot")
        cls.out = cls.tmp.join("sweep")
        path = cls.tmp.write("p.yaml", SWEEP.format(single=support.SINGLE))
        proc = support.sweep(path, "--out", cls.out)
        if proc.returncode != 0:
            raise AssertionError(f"sweep failed: {proc.stdout}{proc.stderr}")
        cls.columns, cls.rows = support.read_csv(os.path.join(cls.out, "results.csv"))
        cls.plots = cls.tmp.join("plots")
        cls.proc = support.run([support.PLOT, cls.out, "--out", cls.plots])

    @classmethod
    def tearDownClass(cls):
        cls.tmp.remove()

    def configs(self):
        groups = {}
        for r in self.rows:
            groups.setdefault((r["workload.synthetic.pattern"], r["tlb.l2.entries"]), []).append(r)
        return groups

    def check_picture(self, stem, directory=None):
        directory = directory or self.plots
        for ext, magic in (("png", b"\x89PNG"), ("svg", b"<svg")):
            path = os.path.join(directory, f"{stem}.{ext}")
            self.assertTrue(os.path.isfile(path), path)
            self.assertGreater(os.path.getsize(path), 1000, path)
            with open(path, "rb") as f:
                head = f.read(4096)
            self.assertIn(magic, head, path)
        return support.read_csv(os.path.join(directory, f"{stem}.csv"))

    def test_plot_succeeds(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        self.assertEqual(len(self.rows), 12)

    def test_cpi_stack_data_equals_table(self):
        header, data = self.check_picture("cpi_stack")
        self.assertEqual(header[:4], ["configuration", "workload.synthetic.pattern", "tlb.l2.entries", "runs"])
        self.assertEqual(header[4:10], COMPONENTS)
        groups = self.configs()
        self.assertEqual(len(data), len(groups))
        for line in data:
            rows = groups[(line["workload.synthetic.pattern"], line["tlb.l2.entries"])]
            self.assertEqual(int(line["runs"]), 2)
            for c in COMPONENTS:
                self.assertTrue(support.close(float(line[c]), mean([float(r[f"derived.cpi_stack.{c}"]) for r in rows])), c)
            self.assertTrue(support.close(float(line["total"]), mean([float(r["derived.cpi"]) for r in rows])))

    def test_line_default_data_equals_table(self):
        # default: x = the numeric swept key with most values, one line per other swept key
        header, data = self.check_picture("derived.cpi_vs_tlb.l2.entries")
        self.assertEqual(header, ["by", "workload.synthetic.pattern", "tlb.l2.entries", "runs", "mean", "min", "max"])
        groups = self.configs()
        self.assertEqual(len(data), len(groups))
        for line in data:
            ys = [float(r["derived.cpi"]) for r in groups[(line["workload.synthetic.pattern"], line["tlb.l2.entries"])]]
            self.assertEqual(int(line["runs"]), len(ys))
            self.assertTrue(support.close(float(line["mean"]), mean(ys)))
            self.assertEqual(float(line["min"]), min(ys))
            self.assertEqual(float(line["max"]), max(ys))
        # the repeats (seeds) really spread for the random pattern
        self.assertTrue(any(l["min"] != l["max"] for l in data if l["workload.synthetic.pattern"] == "random"))

    def test_line_with_options(self):
        out = self.tmp.join("opts")
        proc = support.run([support.PLOT, self.out, "--out", out, "--x", "tlb.l2.entries",
                            "--y", "derived.tlb.l2.miss_rate", "--by", "workload.synthetic.pattern"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        _, data = self.check_picture("derived.tlb.l2.miss_rate_vs_tlb.l2.entries", out)
        groups = self.configs()
        for line in data:
            ys = [float(r["derived.tlb.l2.miss_rate"]) for r in groups[(line["workload.synthetic.pattern"], line["tlb.l2.entries"])]]
            self.assertTrue(support.close(float(line["mean"]), mean(ys)))
        # the L2 miss rate falls as the L2 grows, for the random pattern
        rnd = [float(l["mean"]) for l in data if l["by"].endswith("random")]
        self.assertEqual(rnd, sorted(rnd, reverse=True))

    def test_histograms_data_equals_stats(self):
        groups = self.configs()
        for name, column in (("walker_latency", "cores.sum.walker.latency.count"),
                             ("fault_latency", "cores.sum.fault_latency.count")):
            _, data = self.check_picture(f"hist_{name}")
            json_path = name.replace("_latency", ".latency") if name.startswith("walker") else name
            for key, rows in groups.items():
                lines = [l for l in data if (l["workload.synthetic.pattern"], l["tlb.l2.entries"]) == key]
                # total count = the table's count column summed over the configuration's runs
                self.assertEqual(sum(int(l["count"]) for l in lines), sum(int(r[column]) for r in rows), name)
                # each bucket = the runs' stats.json buckets summed over cores and repeats
                expected = {}
                for r in rows:
                    stats = support.read_json(os.path.join(self.out, "runs", r["run"], "stats.json"))
                    for core in stats["cores"]:
                        node = core
                        for part in json_path.split("."):
                            node = node[part]
                        for b in node["buckets"]:
                            expected[(b["low"], b["high"])] = expected.get((b["low"], b["high"]), 0) + b["count"]
                self.assertEqual({(int(l["low"]), int(l["high"])): int(l["count"]) for l in lines}, expected)

    def test_bad_stat_is_one_clear_line(self):
        proc = support.run([support.PLOT, self.out, "--out", self.tmp.join("bad"), "--y", "derived.cpii"])
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
        self.assertIn("did you mean 'derived.cpi'", proc.stderr)

    def test_missing_results_is_one_clear_line(self):
        proc = support.run([support.PLOT, self.tmp.join("nothing-here")])
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
        self.assertIn("results.csv", proc.stderr)


if __name__ == "__main__":
    unittest.main()
