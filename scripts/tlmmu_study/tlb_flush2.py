"""scripts/study-tlb-flush2: will-it-scale's tlb_flush2 in threads mode on configs/milan.yaml, with
IPIs and with broadcast invalidation (AMD's INVLPGB + TLBSYNC), against Rik van Riel's figures.

Every thread of one process runs will-it-scale's loop (tests/tlb_flush2.c): in its own 1 MiB
mapping, page after page, a write (a demand fault), madvise(MADV_DONTNEED) of that page, and a
read of it (a fault that maps a zero page); after the mapping's 256 pages, munmap and mmap it
again. Each thread's references are a generated lackey trace (OUT/scenarios/traces/), its system
calls scenario events; N threads on N cores, so that every discard shoots down the other N - 1.
For each thread count and mechanism the scenario (OUT/scenarios/) runs twice, with --loops loops a
thread and with half of them, as a generated sweep file (OUT/study.yaml, run by scripts/sweep's
machinery); loops/s = N x the difference of the loop counts / the difference of the two runs'
simulated times, so that start-up and exit are not counted (as scripts/study-madvise computes an
iteration). Then OUT/tlb_flush2.{csv,md,png,svg}. Documentation: docs/studies.md."""
import os
import sys

import yaml

from . import outdir, sweep_main
from .common import (REPO_DIR, Parser, UserError, default_out, find_tlmmu, int_list, refusal,
                     write_atomic)
from .plotting import pyplot, save_figure
from .table import dict_rows_text

MECHANISM_KEY = "firmware.shootdown.mechanism"
MECHANISMS = ("ipi", "broadcast")
# The kernel work only the IPI path does, which configs/milan.yaml (mechanism broadcast) cannot
# carry: the values its comment gives (configs/haswell.yaml's, assumed there with their ranges).
IPI_ONLY_SETTINGS = {"firmware.cost.ipi_request": 50, "firmware.cost.irq_dispatch": 150}
THREADS = (1, 2, 4, 8, 16, 32, 36, 64)
MAX_THREADS = 64            # cores are at most 64
LOOPS = 512                 # a thread's loops in the full run (the half run: LOOPS // 2): two
                            # passes over its mapping, each ended by munmap and mmap
PAGE = 4096
MEMORYSIZE = 1 << 20        # tlb_flush2.c's MEMORYSIZE: each thread's mapping
PAGES = MEMORYSIZE // PAGE  # loops between its munmap + mmap
CODE_BASE = 0x400000
DATA_BASE = 0x10000000      # thread i's mapping: DATA_BASE + i * MEMORYSIZE (adjacent, as mmap
                            # places them: two threads' pages share a leaf table and its lock)

# Rik van Riel, "[PATCH v5 00/12] AMD broadcast TLB invalidation" (LKML, 2025-01-15; the same
# figures in every version of the series from RFC v2, 2024-12-22,
# https://lkml.iu.edu/hypermail/linux/kernel/2501.1/11787.html): "will-it-scale tlb_flush2_threads
# test on an AMD Milan system with 36 cores", loops/second. Only the 36-thread point is published.
PUBLISHED_KERNELS = {
    "vanilla": 527_000,
    "lru_add_drain removal": 731_000,
    "only INVLPGB": 527_000,
    "lru_add_drain + INVLPGB": 1_157_000,
}
# The pair the model is compared with: the two kernels without the lru_add_drain calls, which
# differ only by INVLPGB. With the drains, the contention "simply moved to the LRU lock" (his
# profile), taken by every discard's lru_add_drain, which the firmware does not do (its LRU lock
# is behind per-core batches only), so vanilla and "only INVLPGB" are not what mechanism ipi and
# broadcast model.
PUBLISHED = {36: {"ipi": PUBLISHED_KERNELS["lru_add_drain removal"],
                  "broadcast": PUBLISHED_KERNELS["lru_add_drain + INVLPGB"]}}
GAIN_TOLERANCE_PERCENT = 25.0   # --check: broadcast's gain within 25% of the published one
CHECK_GAIN_THREADS = (4, 64)    # ... at the published thread counts in this range
RISE_THREADS = (1, 2, 4)        # --check: with IPIs, throughput rises from 1 to 4 threads


def parse(argv):
    p = Parser(prog="study-tlb-flush2", description=__doc__.split("\n\n")[0],
               epilog="exit status: 0 done (and --check held); 1 a run failed or --check found a "
                      "claim false; 2 bad arguments.")
    p.add_argument("--config", default=os.path.join(REPO_DIR, "configs", "milan.yaml"),
                   help="the preset (default: configs/milan.yaml)")
    p.add_argument("--threads", default=",".join(map(str, THREADS)), metavar="LIST",
                   help=f"thread counts, one core each (default {','.join(map(str, THREADS))})")
    p.add_argument("--loops", type=int, default=LOOPS, metavar="L",
                   help=f"loops a thread in the full run; the half run does L/2 (default {LOOPS})")
    p.add_argument("--out", default=default_out("study-tlb-flush2"),
                   help="folder for the runs, their results, the table and the picture")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="simulations at once")
    p.add_argument("--tlmmu", help="the tlmmu program (default: $TLMMU, else the build's)")
    p.add_argument("--check", action="store_true",
                   help="exit 1 unless, with IPIs, loops/s rises from 1 to 4 threads and "
                        f"broadcast's gain over IPIs is within {GAIN_TOLERANCE_PERCENT:g}%% of the "
                        "published gain at the published thread counts from 4 to 64")
    a = p.parse_args(argv)
    a.threads = sorted(set(int_list(a.threads, "--threads")))
    for t in a.threads:
        if not 1 <= t <= MAX_THREADS:
            raise UserError(f"--threads: {t} is out of range: 1 to {MAX_THREADS} (one core a thread)")
    if not 2 <= a.loops <= 100000:
        raise UserError("--loops: expected 2 to 100000")
    if a.jobs < 1:
        raise UserError("--jobs: must be at least 1")
    if not os.path.isfile(a.config):
        raise UserError(f"--config: {a.config}: no such file")
    if a.check:
        missing = [t for t in (RISE_THREADS[0], RISE_THREADS[-1]) if t not in a.threads]
        if missing or not gain_threads(a.threads):
            raise UserError("--check: needs threads 1 and 4 and a published count "
                            f"({', '.join(map(str, sorted(PUBLISHED)))}) in --threads")
    return a


def gain_threads(threads):
    """The thread counts --check compares broadcast's gain at."""
    lo, hi = CHECK_GAIN_THREADS
    return [t for t in threads if t in PUBLISHED and lo <= t <= hi]


def trace_name(thread, loops):
    """The trace of `thread` with `loops` loops, relative to the scenario's folder (a thread's
    trace does not depend on how many others run)."""
    return f"traces/t{thread}-{loops}.lackey"


def trace(thread, loops):
    """Thread `thread`'s references as lackey text: per loop the store's instruction and store,
    then the load's instruction and load of the same page; one instruction more at the end, where
    the last munmap + mmap happen."""
    base = DATA_BASE + thread * MEMORYSIZE
    lines = []
    for k in range(loops):
        page = base + (k % PAGES) * PAGE
        lines += [f"I  {CODE_BASE:08x},4", f" S {page:08x},1",
                  f"I  {CODE_BASE + 4:08x},4", f" L {page:08x},1"]
    lines.append(f"I  {CODE_BASE + 8:08x},4")
    return "\n".join(lines) + "\n"


def events(thread, loops):
    """Thread `thread`'s system calls as scenario event lines: loop k's madvise after its store
    (instruction 2k + 1), and munmap + mmap of the mapping after every PAGES loops."""
    base = DATA_BASE + thread * MEMORYSIZE
    out = []
    for k in range(loops):
        out.append(f"          - {{at: {2 * k + 1}, discard: {{start: {base + (k % PAGES) * PAGE:#x}, "
                   "size: 4KiB}}")
        if (k + 1) % PAGES == 0:
            out += [f"          - {{at: {2 * k + 2}, unmap: {{start: {base:#x}, size: 1MiB}}}}",
                    f"          - {{at: {2 * k + 2}, map: {{start: {base:#x}, size: 1MiB, "
                    "prot: rw}}"]
    return out


def scenario(threads, loops, name=trace_name):
    """The scenario text of `threads` threads on as many cores, `loops` loops each, its traces
    named by name(thread, loops) (deterministic: the same arguments, the same bytes)."""
    lines = [f"# Generated by scripts/study-tlb-flush2: will-it-scale's tlb_flush2 (threads), "
             f"{threads} thread(s) on {threads} core(s), {loops} loops each: in the thread's own "
             "1 MiB mapping, write a page, discard it (madvise DONTNEED), read it; munmap and mmap "
             "the mapping after its 256 pages",
             "processes:", "  - name: bench", "    vmas:",
             f"      - {{start: {CODE_BASE:#x}, size: 64KiB, prot: rx}}"]
    lines += [f"      - {{start: {DATA_BASE + i * MEMORYSIZE:#x}, size: 1MiB, prot: rw}}"
              for i in range(threads)]
    lines.append("    threads:")
    for i in range(threads):
        lines += [f"      - core: {i}",
                  f"        workload: {{format: lackey, trace: {name(i, loops)}}}",
                  "        events:"] + events(i, loops)
    return "\n".join(lines) + "\n"


def runs(threads, loops):
    """Every run, in the sweep's order: (threads, mechanism, loops); one thread makes no
    shootdown, so it runs once, without a mechanism (set with one core, it would have no effect)."""
    out = []
    for t in threads:
        for m in (MECHANISMS if t > 1 else (None,)):
            out += [(t, m, loops), (t, m, loops // 2)]
    return out


def write_sweep(out, config, todo):
    """OUT/scenarios/*.yaml and OUT/study.yaml: the runs on the preset, the safety checker on
    (it watches for stale translations and costs no cycle)."""
    entries = []
    for t, m, loops in todo:
        name = os.path.relpath(write_scenario(os.path.join(out, "scenarios"), t, loops), out)
        mech = f", {MECHANISM_KEY}: {m}" if m else ""
        if m == "ipi":
            mech += "".join(f", {k}: {v}" for k, v in IPI_ONLY_SETTINGS.items())
        entries.append(f"  - {{cores: {t}, workload.scenario: {name}{mech}}}")
    path = os.path.join(out, "study.yaml")
    write_atomic(path, "# Generated by scripts/study-tlb-flush2; `scripts/sweep study.yaml --out .` "
                       f"reruns it\nbase: {os.path.abspath(config)}\n"
                       "set: {checker.enabled: true}\nruns:\n" + "\n".join(entries) + "\n")
    return path


def loops_per_second(threads, loops, full, half):
    """Loops/s of one point from the results.csv rows of its full and half runs."""
    for r in (full, half):
        if r.get("status") != "ok":
            raise UserError(f"{threads} thread(s): the run {r.get('run')} failed: "
                            f"{r.get('error') or r.get('status')}", 1)
    ps = float(full["simulation.time_ps"]) - float(half["simulation.time_ps"])
    if ps <= 0:
        raise UserError(f"{threads} thread(s): the full run took no longer than the half run", 1)
    return threads * (loops - loops // 2) / (ps * 1e-12)


def tabulate(threads, loops, results):
    """One row per thread count from the results.csv rows (in the order of runs())."""
    by_run = dict(zip(runs(threads, loops), results))
    rows = []
    for t in threads:
        per = {}
        for m in MECHANISMS:
            key = m if t > 1 else None
            full, half = by_run[(t, key, loops)], by_run[(t, key, loops // 2)]
            per[m] = (loops_per_second(t, loops, full, half), full)
        ipi, bc = per["ipi"][0], per["broadcast"][0]
        pub = PUBLISHED.get(t, {})
        pub_gain = pub["broadcast"] / pub["ipi"] if pub else None
        gain = bc / ipi
        rows.append({
            "threads": t,
            "ipi_loops_per_s": round(ipi),
            "broadcast_loops_per_s": round(bc),
            "gain": round(gain, 3),
            "published_ipi_loops_per_s": pub.get("ipi"),
            "published_broadcast_loops_per_s": pub.get("broadcast"),
            "published_gain": round(pub_gain, 3) if pub else None,
            "gain_error_percent": round(100.0 * (gain / pub_gain - 1), 1) if pub else None,
            "ipi_shootdown_p50_cycles": int(per["ipi"][1]["shootdown.latency.p50"] or 0)
            if t > 1 else None,
            "broadcast_shootdown_p50_cycles": int(per["broadcast"][1]["shootdown.latency.p50"] or 0)
            if t > 1 else None,
            "violations": sum(int(per[m][1]["checker.violations"]) for m in MECHANISMS),
        })
    return rows


def _k(value):
    return "" if value is None else f"{value / 1000:.0f}k"


def markdown(rows):
    """The Markdown table the docs show: loops/s in thousands, the published figures beside."""
    lines = ["| threads | ipi (loops/s) | broadcast (loops/s) | gain | published ipi | "
             "published broadcast | published gain | gain vs published |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        err = "" if r["gain_error_percent"] is None else f"{r['gain_error_percent']:+.1f}%"
        pub_gain = "" if r["published_gain"] is None else f"{r['published_gain']:.2f}"
        lines.append(f"| {r['threads']} | {_k(r['ipi_loops_per_s'])} | "
                     f"{_k(r['broadcast_loops_per_s'])} | {r['gain']:.2f} | "
                     f"{_k(r['published_ipi_loops_per_s'])} | "
                     f"{_k(r['published_broadcast_loops_per_s'])} | {pub_gain} | {err} |")
    return "\n".join(lines) + "\n"


def failures(rows):
    """The claims of --check that do not hold, as messages (empty: all hold)."""
    bad = []
    by = {r["threads"]: r for r in rows}
    rise = [t for t in RISE_THREADS if t in by]
    for a, b in zip(rise, rise[1:]):
        if by[b]["ipi_loops_per_s"] <= by[a]["ipi_loops_per_s"]:
            bad.append(f"ipi: {by[b]['ipi_loops_per_s']} loops/s at {b} threads, not above "
                       f"{by[a]['ipi_loops_per_s']} at {a}")
    for t in gain_threads(sorted(by)):
        r = by[t]
        if abs(r["gain_error_percent"]) > GAIN_TOLERANCE_PERCENT:
            bad.append(f"{t} threads: broadcast's gain {r['gain']:.2f} vs {r['published_gain']:.2f} "
                       f"published ({r['gain_error_percent']:+.1f}%, more than "
                       f"{GAIN_TOLERANCE_PERCENT:g}%)")
    return bad


def plot(rows, out, files):
    """tlb_flush2.{png,svg}: left, loops/s against threads per mechanism with the published
    points; right, broadcast's gain with the published gain and the --check band."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12.0, 4.6))
    cmap = plt.get_cmap("tab10")
    xs = [r["threads"] for r in rows]
    for i, m in enumerate(MECHANISMS):
        left.plot(xs, [r[f"{m}_loops_per_s"] / 1000 for r in rows], marker="o", color=cmap(i),
                  label=f"tlmmu, {m}")
        pts = sorted((t, p[m]) for t, p in PUBLISHED.items())
        left.plot([p[0] for p in pts], [p[1] / 1000 for p in pts], marker="*", markersize=13,
                  linestyle="none", color=cmap(i), label=f"published, {m}")
    left.plot([36], [PUBLISHED_KERNELS["vanilla"] / 1000], marker="x", markersize=9,
              linestyle="none", color="grey", label="published, vanilla (LRU lock bound)")
    right.plot(xs, [r["gain"] for r in rows], marker="o", color=cmap(2), label="tlmmu")
    for t, p in sorted(PUBLISHED.items()):
        g = p["broadcast"] / p["ipi"]
        right.errorbar([t], [g], yerr=[[g * GAIN_TOLERANCE_PERCENT / 100],
                                       [g * GAIN_TOLERANCE_PERCENT / 100]],
                       marker="*", markersize=13, color=cmap(3), capsize=5, linestyle="none",
                       label=f"published (±{GAIN_TOLERANCE_PERCENT:g}%: --check)")
    ticks = sorted(set(xs) | set(PUBLISHED))
    # a count close to the one before it (32, 36 on a log axis) gets its label a line lower
    labels = [("\n" if i and t < 1.25 * ticks[i - 1] else "") + str(t) for i, t in enumerate(ticks)]
    for ax in (left, right):
        ax.set_xscale("log", base=2)
        ax.set_xticks(ticks)
        ax.set_xticklabels(labels)
        ax.minorticks_off()
        ax.set_xlabel("threads (one core each)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    left.set_yscale("log")
    left.set_ylabel("loops/s (thousands, all threads)")
    left.set_title("will-it-scale tlb_flush2 (threads)")
    right.set_ylabel("broadcast loops/s / ipi loops/s")
    right.set_title("Broadcast invalidation's gain over IPIs")
    fig.tight_layout()
    save_figure(fig, out, "tlb_flush2", files)
    plt.close(fig)


def check_config(tlmmu, config):
    """A preset tlmmu refuses (exit 2 of --print-config) is bad input: one line, before any run."""
    why = refusal([tlmmu, "--config", config, "--print-config"])
    if why is not None:
        raise UserError(f"--config: {why}")


def main(argv=None):
    a = parse(sys.argv[1:] if argv is None else argv)
    tlmmu = find_tlmmu(a.tlmmu)
    check_config(tlmmu, a.config)
    out = outdir.prepare(a.out)
    with outdir.locked(out, "study-tlb-flush2"):
        return _study(a, tlmmu, out)


def _study(a, tlmmu, out):
    """Runs the points into `out` (made and locked), writes and prints the table; the status."""
    todo = runs(a.threads, a.loops)
    _, results = sweep_main.run_study(write_sweep(out, a.config, todo), out, tlmmu, jobs=a.jobs,
                                      quiet=True)
    rows = tabulate(a.threads, a.loops, results)
    files = []
    for name, text in (("tlb_flush2.csv", dict_rows_text(list(rows[0]), rows)),
                       ("tlb_flush2.md", markdown(rows))):
        write_atomic(os.path.join(out, name), text)
        files.append(os.path.join(out, name))
    plot(rows, out, files)
    print(markdown(rows), end="")
    for f in files:
        print(f)
    bad = failures(rows)
    if a.check:
        for m in bad:
            print(f"study-tlb-flush2: check failed: {m}", file=sys.stderr)
        return 1 if bad else 0
    return 0


def write_scenario(folder, threads, loops):
    """FOLDER/tlb-flush2-THREADS-LOOPS.yaml and its traces (FOLDER/traces/); returns the
    scenario's path. scripts/shipped-stats runs the 36-thread one this way."""
    os.makedirs(os.path.join(folder, "traces"), exist_ok=True)
    for i in range(threads):
        path = os.path.join(folder, trace_name(i, loops))
        if not os.path.exists(path):
            write_atomic(path, trace(i, loops))
    path = os.path.join(folder, f"tlb-flush2-{threads}-{loops}.yaml")
    write_atomic(path, scenario(threads, loops))
    return path
