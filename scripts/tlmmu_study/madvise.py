"""scripts/study-madvise: the calibration of configs/haswell.yaml against Nadav Amit's madvise
microbenchmark (LKML 2019, "x86/mm: Flush remote and local TLBs concurrently", Haswell bare
metal). One thread loops madvise(MADV_DONTNEED) of one page and a write that faults it back in,
while 0, 1 or 3 other threads of the process run on other cores; with and without
concurrent_flush. Six published times per iteration; tlmmu runs the same six cases with one
preset and reports its time per iteration beside them."""
import argparse
import concurrent.futures
import csv
import io
import os
import subprocess
import sys

import yaml

from .common import REPO_DIR, UserError, find_tlmmu, read_json, write_atomic

# (threads, concurrent_flush) -> ns per iteration, as published.
PUBLISHED = {
    (1, False): 661, (2, False): 1436, (4, False): 1571,
    (1, True): 663, (2, True): 1225, (4, True): 1421,
}
TOLERANCE_PERCENT = 15.0  # the bar: each of the six within 15%


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UserError(message)


def parse(argv):
    p = _Parser(prog="study-madvise", description=__doc__.split("\n\n")[0])
    p.add_argument("--config", default=os.path.join(REPO_DIR, "configs", "haswell.yaml"),
                   help="the preset (default: configs/haswell.yaml)")
    p.add_argument("--out", default=os.path.join(REPO_DIR, os.environ.get("BUILD_DIR", "build"),
                                                 "study-madvise"),
                   help="folder for the runs' statistics and the table")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="simulations at once")
    p.add_argument("--tlmmu", help="the tlmmu program (default: $TLMMU, else the build's)")
    p.add_argument("--check", action="store_true",
                   help=f"exit 1 unless every case is within {TOLERANCE_PERCENT:g}%% of its "
                        "published figure")
    a = p.parse_args(argv)
    if a.jobs < 1:
        raise UserError("--jobs: must be at least 1")
    if not os.path.isfile(a.config):
        raise UserError(f"--config: {a.config}: no such file")
    return a


def scenario_path(threads):
    """configs/scenarios/madvise.yaml is the benchmark's largest case (4 threads)."""
    name = "madvise.yaml" if threads == 4 else f"madvise-{threads}.yaml"
    return os.path.join(REPO_DIR, "configs", "scenarios", name)


def iterations(scenario):
    """The loop count: the first thread's repeated discard event."""
    with open(scenario, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    return int(doc["processes"][0]["threads"][0]["events"][0]["count"])


def run_case(tlmmu, config, out, threads, concurrent):
    """Runs one case; returns its row (published and modelled ns per iteration)."""
    name = f"threads{threads}_{'concurrent' if concurrent else 'serial'}"
    stats_path = os.path.join(out, name + ".json")
    scenario = scenario_path(threads)
    argv = [tlmmu, "-q", "--config", config, "--set", f"cores={threads}",
            "--set", f"workload.scenario={scenario}",
            "--set", f"firmware.shootdown.concurrent_flush={'true' if concurrent else 'false'}",
            "--set", "checker.enabled=true",  # watches for stale translations; costs no cycle
            "--stats-json", stats_path]
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise UserError(f"{name}: tlmmu exited with {proc.returncode}: {last}", 1)
    stats = read_json(stats_path)
    ghz = float(stats["config"]["core"]["frequency_ghz"])
    loops = iterations(scenario)
    core0 = stats["cores"][0]
    ns = core0["cycles"] / loops / ghz
    published = PUBLISHED[(threads, concurrent)]
    sd = stats["shootdown"]
    return {
        "threads": threads,
        "concurrent_flush": "true" if concurrent else "false",
        "published_ns": published,
        "tlmmu_ns": round(ns, 1),
        "error_percent": round(100.0 * (ns - published) / published, 1),
        "shootdowns": sd["count"],
        "shootdown_p50_cycles": sd["latency"]["p50"],
        "violations": stats["checker"]["violations"],
    }


def table(rows):
    """The Markdown table the README shows."""
    lines = ["| threads | concurrent_flush | published (ns) | tlmmu (ns) | difference |",
             "|---:|:---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['threads']} | {r['concurrent_flush']} | {r['published_ns']} | "
                     f"{r['tlmmu_ns']:.0f} | {r['error_percent']:+.1f}% |")
    return "\n".join(lines) + "\n"


def failures(rows, tolerance=TOLERANCE_PERCENT):
    """The cases off by more than the tolerance, as messages (empty: all within)."""
    return [f"{r['threads']} thread(s), concurrent_flush {r['concurrent_flush']}: "
            f"{r['tlmmu_ns']:.0f} ns vs {r['published_ns']} ns published "
            f"({r['error_percent']:+.1f}%, more than {tolerance:g}%)"
            for r in rows if abs(r["error_percent"]) > tolerance]


def main(argv=None):
    a = parse(argv)
    tlmmu = find_tlmmu(a.tlmmu)
    os.makedirs(a.out, exist_ok=True)
    cases = sorted(PUBLISHED, key=lambda c: (c[1], c[0]))
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
        rows = list(pool.map(lambda c: run_case(tlmmu, a.config, a.out, *c), cases))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    write_atomic(os.path.join(a.out, "madvise.csv"), buf.getvalue())
    md = table(rows)
    write_atomic(os.path.join(a.out, "madvise.md"), md)
    print(md, end="")
    bad = failures(rows)
    if a.check and bad:
        for m in bad:
            print(f"study-madvise: {m}", file=sys.stderr)
        return 1
    return 0
