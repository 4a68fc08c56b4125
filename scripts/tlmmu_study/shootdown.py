"""scripts/study-shootdown: the TLB shootdown scaling study (issue 9).

The initiator latency (shootdown.latency: p50, p99, in cycles) of a shootdown against the number
of target cores, for each mechanism, and the effect of each protocol variant at the smallest and
largest target count. One scenario per (variant, targets): one process, targets + 1 threads on
cores 0..targets; thread 0 (the initiator) discards a range of pages (madvise DONTNEED) `discards`
times and touches it again after each, so that every discard has translations to shoot down; the
other threads run the same address space on their own pages for longer than the initiator, so
they are real targets (in the mask and running, not lazy).

The runs go through scripts/sweep's machinery (a generated sweep file, OUT/study.yaml, so they
resume and can be rerun by hand); then OUT/shootdown_scaling.{csv,md,png,svg}. See docs/studies.md.
"""
import csv
import hashlib
import io
import math
import os
import subprocess
import sys
from collections import namedtuple

from . import sweep_main
from .common import REPO_DIR, Parser, UserError, allowed_values, find_tlmmu, write_atomic
from .plotting import save_figure
from .results import number

MECHANISM_KEY = "firmware.shootdown.mechanism"
TARGETS = (1, 2, 4, 8, 16, 32, 63)
MAX_TARGETS = 63            # cores are at most 64 (FW_MAX_CORES), one of them the initiator
PAGE = 4096

# A protocol variant: the pages each discard covers, the keys it sets, and whether half of the
# target cores (the odd ones) leave this address space for another process's thread early on.
Variant = namedtuple("Variant", "name pages settings shared meaning")
VARIANTS = [
    Variant("baseline", 1, {}, False,
            "one-page discard; defaults (batch, flush_ceiling 33, no concurrent flush, no early "
            "ack, no lazy TLB)"),
    Variant("concurrent_flush", 1, {"firmware.shootdown.concurrent_flush": True}, False,
            "the initiator flushes its own TLB while its invalidations travel"),
    Variant("early_ack", 1, {"firmware.shootdown.early_ack": True}, False,
            "targets acknowledge on arrival and flush afterwards"),
    Variant("range4", 4, {}, False,
            "4-page discard, one shootdown for the range (the reference of range4_nobatch)"),
    Variant("range4_nobatch", 4, {"firmware.shootdown.batch": False}, False,
            "4-page discard, one shootdown per page (batch false)"),
    Variant("range64", 64, {}, False,
            "64-page discard: above flush_ceiling 33, every core flushes the whole ASID"),
    Variant("range64_ceiling64", 64, {"firmware.shootdown.flush_ceiling": 64}, False,
            "64-page discard with flush_ceiling 64: 64 one-page invalidations per core"),
    Variant("shared", 1, {}, True,
            "the odd target cores run this process briefly, then another process's thread "
            "(lazy TLB off: they still get every invalidation; the reference of shared_lazy)"),
    Variant("shared_lazy", 1, {"firmware.shootdown.lazy_tlb": True}, True,
            "as shared, lazy_tlb on: cores running the other process are skipped"),
]
BY_NAME = {v.name: v for v in VARIANTS}

# Keys a mechanism needs beyond the base configuration (configs/haswell.yaml is an x86 core:
# IPIs only). Broadcast's timing is assumed, as no public figure gives it: a 200-cycle issue and
# completion (INVLPGB + TLBSYNC, TLBI-IS + DSB) and 10 cycles per Mmu reached on the way (a
# few ring stops each), i.e. 840 cycles to reach 64 cores.
MECHANISM_SETTINGS = {
    "broadcast": {"invalidation.base_cycles": 200, "invalidation.hop_cycles": 10},
}

# A first guess of the cycles a discard costs the initiator, to give the targets enough
# instructions to outlast it (a target's CPI is at least 1): the refault of each touched page (a
# demand-zero fault zeroes a page: about 17000 cycles on configs/default.yaml), the zap of the
# range (about 250 cycles a page) and each shootdown (about 3000 + 470 per target with IPIs). Every target instruction costs host time,
# so the guess is close rather than generous: a run whose targets finished before the
# initiator is run again with targets sized from the initiator's measured cycles (RESIZE).
FAULT_CYCLES = 20000
ZAP_PAGE_CYCLES = 300
SHOOTDOWN_CYCLES = 3000
PER_TARGET_CYCLES = 500
RESIZE = 1.25
PASSES = 3

COLUMNS = ["mechanism", "variant", "targets", "cores", "pages", "discards", "status",
           "shootdowns", "p50", "p90", "p99", "mean", "max", "ipis", "targets_per_shootdown",
           "lazy_skips", "full_flushes", "cycles_per_discard", "initiator_cycles",
           "targets_outlast", "run", "note"]


def _int_list(text, what):
    try:
        values = [int(v) for v in text.replace(",", " ").split()]
    except ValueError:
        raise UserError(f"{what}: expected whole numbers separated by commas, got '{text}'")
    if not values:
        raise UserError(f"{what}: empty list")
    return values


def parse(argv):
    p = Parser(prog="study-shootdown",
                description="The TLB shootdown scaling study: initiator latency against target "
                            "cores per mechanism, and the protocol variants (docs/studies.md).",
                epilog="exit status: 0 done (and --check held); 1 a run failed or --check found "
                       "a claim false; 2 bad arguments. Variants: "
                       + "; ".join(f"{v.name}: {v.meaning}" for v in VARIANTS))
    p.add_argument("--mechanisms", default="ipi,broadcast", metavar="LIST",
                   help="firmware.shootdown.mechanism values, comma-separated (default ipi,broadcast); "
                        "one this tlmmu does not allow is skipped with a message")
    p.add_argument("--targets", default=",".join(map(str, TARGETS)), metavar="LIST",
                   help="target core counts of the scaling series (default 1,2,4,8,16,32,63)")
    p.add_argument("--variants", default=",".join(v.name for v in VARIANTS), metavar="LIST",
                   help="variants run at the smallest and largest target count ('none': only "
                        "the baseline series)")
    p.add_argument("--discards", type=int, default=40, metavar="N",
                   help="discards by the initiator per run (default 40)")
    p.add_argument("--every", type=int, default=2000, metavar="I",
                   help="initiator instructions between discards (default 2000)")
    p.add_argument("--base", metavar="FILE",
                   help="base configuration (default configs/haswell.yaml if it exists, else "
                        "configs/default.yaml; its scenario is replaced)")
    p.add_argument("--out", metavar="DIR",
                   help="output folder (default $BUILD_DIR/study-shootdown, BUILD_DIR=build)")
    p.add_argument("--jobs", "-j", type=int, metavar="N", help="runs at a time (default: all cores)")
    p.add_argument("--tlmmu", metavar="PATH", help="the tlmmu program (default $TLMMU, else build/testbench/tlmmu)")
    p.add_argument("--force", action="store_true", help="rerun every run, even finished ones")
    p.add_argument("--check", action="store_true",
                   help="fail (exit 1) unless ipi's p50 never falls as targets are added and "
                        "broadcast's p50 is below ipi's at the largest target count")
    p.add_argument("--check-csv", metavar="CSV",
                   help="only check this shootdown_scaling.csv (no simulation)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    args = p.parse_args(argv)
    args.mechanisms = [m for m in args.mechanisms.replace(",", " ").split()]
    if not args.mechanisms:
        raise UserError("--mechanisms: empty list")
    args.targets = sorted(set(_int_list(args.targets, "--targets")))
    for t in args.targets:
        if not 1 <= t <= MAX_TARGETS:
            raise UserError(f"--targets: {t} is out of range: 1 to {MAX_TARGETS} (at most 64 cores, "
                            "one of them the initiator)")
    names = args.variants.replace(",", " ").split()
    if names == ["none"]:
        names = []
    for n in names:
        if n not in BY_NAME:
            raise UserError(f"--variants: unknown variant '{n}'; known: {', '.join(BY_NAME)}, none")
    args.variants = [v for v in VARIANTS if v.name in names and v.name != "baseline"]
    if args.discards < 1 or args.discards > 100000:
        raise UserError("--discards: expected 1 to 100000")
    if args.every < 100:
        raise UserError("--every: expected 100 or more (the initiator refaults its pages in between)")
    if args.jobs is not None and args.jobs < 1:
        raise UserError("--jobs: expected 1 or more")
    return args


def default_base():
    for name in ("haswell.yaml", "default.yaml"):
        path = os.path.join(REPO_DIR, "configs", name)
        if os.path.isfile(path):
            return path
    raise UserError("no configs/haswell.yaml or configs/default.yaml; name one with --base")


# ---- the scenario of one run ---------------------------------------------------------------

CODE_BASE = 0x400000
DATA_BASE = 0x10000000          # the initiator's range
TARGET_BASE = DATA_BASE + (1 << 20)   # target t streams over its own 16 KiB at + t * 64 KiB
WINDOW = 64 << 10


def _workload(**fields):
    return "{" + ", ".join(f"{k}: {v}" for k, v in fields.items()) + "}"


def lazy_cores(variant, targets):
    """The target cores that leave the process early for another one (shared variants)."""
    return [t for t in range(1, targets + 1) if variant.shared and t % 2 == 1]


def scenario(variant, targets, discards, every, target_insns=None):
    """The scenario text of one run (deterministic: the same arguments, the same bytes);
    target_insns: each target's instructions (default: from the first guess above)."""
    pages = variant.pages
    # The initiator stores to the first and the last page of its range only: the discard's
    # flush covers the range from its lowest to its highest cleared PTE (as Linux's mmu_gather),
    # so two refaults per discard give the full-range shootdown at a fraction of the cost.
    stride = PAGE if pages == 1 else (pages - 1) * PAGE
    footprint = PAGE if pages == 1 else 2 * stride
    initiator = (discards + 1) * every
    shootdowns = pages if "firmware.shootdown.batch" in variant.settings else 1
    per_discard = every + min(pages, 2) * FAULT_CYCLES + pages * ZAP_PAGE_CYCLES + \
        shootdowns * (SHOOTDOWN_CYCLES + PER_TARGET_CYCLES * targets)
    target_insns = target_insns or every + discards * per_discard
    lines = [f"# scripts/study-shootdown: variant {variant.name}, {targets} target(s), "
             f"{discards} discards of {pages} page(s) every {every} instructions",
             "processes:", "  - name: app", "    vmas:",
             f"      - {{start: {CODE_BASE:#x}, size: 64KiB, prot: rx}}",
             f"      - {{start: {DATA_BASE:#x}, size: 8MiB, prot: rw}}",
             "    threads:",
             "      - core: 0",
             "        workload: " + _workload(pattern="strided", stride=stride, footprint=footprint,
                                              data_base=hex(DATA_BASE), code_footprint=4096,
                                              instructions=initiator, refs_per_instruction=1,
                                              write_fraction=1),
             "        events:",
             f"          - {{at: {every}, every: {every}, count: {discards}, "
             f"discard: {{start: {DATA_BASE:#x}, size: {pages * PAGE}}}}}"]
    lazy = lazy_cores(variant, targets)
    for t in range(1, targets + 1):
        # A shared core runs this address space only briefly (so it is in the mask), then the
        # other process's thread: it holds stale-able translations but does not run the process.
        insns = 1000 if t in lazy else target_insns
        lines += [f"      - core: {t}",
                  "        workload: " + _workload(pattern="stream", footprint="16KiB",
                                                   data_base=hex(TARGET_BASE + t * WINDOW),
                                                   code_footprint=4096, instructions=insns,
                                                   refs_per_instruction=0.5, write_fraction=0.3)]
    if lazy:
        lines += ["  - name: other", "    vmas:",
                  f"      - {{start: {CODE_BASE:#x}, size: 64KiB, prot: rx}}",
                  f"      - {{start: {DATA_BASE:#x}, size: 64KiB, prot: rw}}",
                  "    threads:"]
        for t in lazy:
            lines += [f"      - core: {t}",
                      "        workload: " + _workload(pattern="stream", footprint="16KiB",
                                                       data_base=hex(DATA_BASE), code_footprint=4096,
                                                       instructions=target_insns,
                                                       refs_per_instruction=0.5, write_fraction=0.3)]
    return "\n".join(lines) + "\n"


# ---- the runs --------------------------------------------------------------------------------

Case = namedtuple("Case", "mechanism variant targets target_insns", defaults=(None,))


def cases(mechanisms, targets, variants):
    """Every run, once: the baseline at every target count, each variant at the smallest and the
    largest (whose baseline is the scaling series' own run)."""
    ends = sorted({targets[0], targets[-1]})
    out = []
    for m in mechanisms:
        out += [Case(m, BY_NAME["baseline"], t) for t in targets]
        out += [Case(m, v, t) for v in variants for t in ends]
    return out


def run_settings(out, case, discards, every):
    """The keys of one run (its scenario written to OUT/scenarios/, named relative to OUT)."""
    os.makedirs(os.path.join(out, "scenarios"), exist_ok=True)
    text = scenario(case.variant, case.targets, discards, every, case.target_insns)
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    name = f"scenarios/{case.variant.name}-t{case.targets}-{digest}.yaml"
    write_atomic(os.path.join(out, name), text)
    settings = {"cores": case.targets + 1, "workload.scenario": name, MECHANISM_KEY: case.mechanism}
    settings.update(MECHANISM_SETTINGS.get(case.mechanism, {}))
    settings.update(case.variant.settings)
    return settings


def refusals(tlmmu, base, out, runs, discards, every):
    """{(mechanism, variant): tlmmu's reason} for the combinations tlmmu refuses (exit 2 of
    --print-config: e.g. an IPI option with a mechanism that sends no IPI). They are no runs
    of the study but rows 'n/a' of its table."""
    refused = {}
    for c in runs:
        key = (c.mechanism, c.variant.name)
        if key in refused or not c.variant.settings:
            continue
        argv = [tlmmu, "--config", base, "--print-config"]
        for k, v in run_settings(out, c, discards, every).items():
            argv += ["--set", f"{k}={os.path.join(out, v) if k == 'workload.scenario' else _yaml(v)}"]
        proc = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if proc.returncode == 2:
            why = (proc.stderr.strip().splitlines() or ["refused"])[-1]
            refused[key] = why[len("tlmmu: error: "):] if why.startswith("tlmmu: error: ") else why
    return refused


def write_sweep(out, base, runs, discards, every):
    """OUT/scenarios/*.yaml and OUT/study.yaml (a scripts/sweep file of explicit runs). A
    scenario's file name carries a hash of its text, so a changed scenario is a new run for the
    sweep's resume (which does not look into files)."""
    entries = []
    for c in runs:
        settings = run_settings(out, c, discards, every)
        entries.append("  - {" + ", ".join(f"{k}: {_yaml(v)}" for k, v in settings.items()) + "}")
    path = os.path.join(out, "study.yaml")
    write_atomic(path, "# Generated by scripts/study-shootdown; `scripts/sweep study.yaml --out .`"
                       " reruns it\n"
                       f"base: {base}\nruns:\n" + "\n".join(entries) + "\n")
    return path


def _yaml(value):
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def tabulate(runs, results, discards):
    """One row per run (COLUMNS) from scripts/sweep's results.csv rows (in the runs' order)."""
    rows = []
    for c, r in zip(runs, results):
        ok = r.get("status") == "ok"
        row = {"mechanism": c.mechanism, "variant": c.variant.name, "targets": c.targets,
               "cores": c.targets + 1, "pages": c.variant.pages, "discards": discards,
               "status": r.get("status", "not run"), "run": r.get("run", "")}
        if ok:
            def stat(key):
                return number(r.get(key))
            count = stat("shootdown.count") or 0
            # Only cores that run nothing but this process's thread say by their cycles how
            # long it ran (a shared core's cycles include the other process).
            busy = [t for t in range(1, c.targets + 1) if t not in lazy_cores(c.variant, c.targets)]
            cycles = [stat(f"cores[{i}].cycles") or 0 for i in range(c.targets + 1)]
            outlast = "n/a" if not busy else \
                "yes" if min(cycles[t] for t in busy) >= cycles[0] else "no"
            # No shootdown at all (every target lazy): no latency, rather than a 0 that reads
            # as one.
            latency = {k: stat(f"shootdown.latency.{k}") if count else None
                       for k in ("p50", "p90", "p99", "max")}
            row.update(latency)
            row.update({
                "shootdowns": count, "ipis": stat("shootdown.ipis"),
                "mean": round(stat("shootdown.latency.mean"), 1) if count else None,
                "targets_per_shootdown": round(stat("shootdown.targets") / count, 2) if count else 0,
                "lazy_skips": stat("shootdown.lazy_skips"),
                "full_flushes": stat("shootdown.full_flushes"),
                "cycles_per_discard": round((stat("shootdown.latency.sum") or 0) / discards, 1),
                "initiator_cycles": cycles[0],
                "targets_outlast": outlast})
        rows.append(row)
    return rows


def write_csv_text(rows):
    text = io.StringIO()
    w = csv.DictWriter(text, COLUMNS, lineterminator="\n")
    w.writeheader()
    for row in rows:
        w.writerow({k: _cell(row.get(k)) for k in COLUMNS})
    return text.getvalue()


def _cell(value):
    return "" if value is None else str(value)


def read_rows(path):
    try:
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in ("mechanism", "variant", "targets", "p50", "status")
                       if c not in (reader.fieldnames or [])]
            rows = list(reader)
    except OSError as e:
        raise UserError(f"{path}: {e.strerror}")
    if missing:
        raise UserError(f"{path}: not a shootdown_scaling.csv (no column {', '.join(missing)})")
    for r in rows:
        for k in ("targets", "p50", "p99"):
            if k in r:
                r[k] = number(r[k])
    return rows


# ---- the claims ------------------------------------------------------------------------------

def check(rows, scaling="ipi", cheaper="broadcast"):
    """The issue's claims on the baseline series; returns the failures (empty: they hold).
      1. `scaling`'s p50 never falls as targets are added;
      2. `cheaper`'s p50 is below `scaling`'s at the largest target count both have;
    and the study is sound: every run succeeded and its targets ran at least as long as the
    initiator (else they were not really targets)."""
    failures = []
    for r in rows:
        if r.get("status") == "n/a":
            continue        # a combination tlmmu refuses: not part of the claims
        if r.get("status") != "ok":
            failures.append(f"run {r['mechanism']} {r['variant']} {r['targets']} targets: "
                            f"{r.get('status')}")
        elif r.get("targets_outlast", "yes") == "no":
            failures.append(f"run {r['mechanism']} {r['variant']} {r['targets']} targets: the "
                            "targets finished before the initiator (raise the study's estimate "
                            "of a discard's cost)")
    base = {}
    for r in rows:
        if r.get("variant") == "baseline" and r.get("status") == "ok" and r.get("p50") is not None:
            base.setdefault(r["mechanism"], {})[r["targets"]] = r["p50"]
    if scaling not in base:
        failures.append(f"no {scaling} baseline results: cannot check that its latency does not fall")
    else:
        series = sorted(base[scaling].items())
        for (t0, a), (t1, b) in zip(series, series[1:]):
            if b < a:
                failures.append(f"{scaling} p50 falls from {a} cycles at {t0} targets to {b} at {t1}")
    if cheaper not in base:
        failures.append(f"no {cheaper} baseline results: cannot compare it with {scaling}")
    elif scaling in base:
        common = set(base[scaling]) & set(base[cheaper])
        if not common:
            failures.append(f"{cheaper} and {scaling} share no target count")
        else:
            t = max(common)
            if not base[cheaper][t] < base[scaling][t]:
                failures.append(f"{cheaper} p50 {base[cheaper][t]} is not below {scaling} p50 "
                                f"{base[scaling][t]} cycles at {t} targets")
    return failures


# ---- the table and the picture ---------------------------------------------------------------

def markdown(rows, mechanisms):
    """Two tables: the baseline series (one row per target count, p50/p99 per mechanism) and
    every variant row (against its baseline's p50)."""
    ok = [r for r in rows if r["status"] == "ok"]
    base = {(r["mechanism"], r["targets"]): r for r in ok if r["variant"] == "baseline"}
    targets = sorted({r["targets"] for r in rows if r["variant"] == "baseline"})
    out = ["### Initiator latency against target cores (one-page discard, cycles)", "",
           "| targets | " + " | ".join(f"{m} p50 | {m} p99" for m in mechanisms) + " |",
           "|---:|" + "---:|---:|" * len(mechanisms)]
    for t in targets:
        cells = []
        for m in mechanisms:
            r = base.get((m, t))
            cells += [_cell(r["p50"]), _cell(r["p99"])] if r else ["failed", "failed"]
        out.append(f"| {t} | " + " | ".join(cells) + " |")
    out += ["", "### Variants (cycles; p50 ratio against the baseline at the same target count)", "",
            "| mechanism | variant | targets | p50 | p99 | shootdowns | IPIs | cycles per discard "
            "| p50 / baseline |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in ok:
        b = base.get((r["mechanism"], r["targets"]))
        ratio = f"{r['p50'] / b['p50']:.2f}" if b and b["p50"] and r["p50"] is not None else ""
        if r["variant"] == "baseline" and r["targets"] not in (targets[0], targets[-1]):
            continue
        cells = [r[k] for k in ("mechanism", "variant", "targets", "p50", "p99", "shootdowns",
                                "ipis", "cycles_per_discard")] + [ratio]
        out.append("| " + " | ".join(_cell(v) for v in cells) + " |")
    out += ["", "Variants: " + "; ".join(f"`{v.name}`: {v.meaning}" for v in VARIANTS) + "."]
    refused = [r for r in rows if r["status"] == "n/a"]
    if refused:
        out += ["", "Not applicable (refused by tlmmu): " +
                "; ".join(sorted({f"{r['mechanism']} {r['variant']} ({r['note']})" for r in refused})) + "."]
    failed = [r for r in rows if r["status"] not in ("ok", "n/a")]
    if failed:
        out += ["", "Failed runs: " + ", ".join(f"{r['mechanism']} {r['variant']} {r['targets']}"
                                                for r in failed) + "."]
    return "\n".join(out) + "\n"


def plot(rows, mechanisms, out, files):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ok = [r for r in rows if r["status"] == "ok"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13.0, 4.8))
    cmap = plt.get_cmap("tab10")
    for i, m in enumerate(mechanisms):
        pts = sorted((r["targets"], r["p50"], r["p99"]) for r in ok
                     if r["mechanism"] == m and r["variant"] == "baseline" and r["p50"] is not None)
        if not pts:
            continue
        xs = [p[0] for p in pts]
        left.plot(xs, [p[1] for p in pts], marker="o", color=cmap(i), label=f"{m} p50")
        left.plot(xs, [p[2] for p in pts], marker="^", linestyle="--", color=cmap(i), label=f"{m} p99")
    ticks = sorted({r["targets"] for r in ok if r["variant"] == "baseline"})
    left.set_xscale("log", base=2)
    left.set_yscale("log")      # the mechanisms differ by 10x and more: both readable
    left.set_xticks(ticks)
    left.set_xticklabels([str(t) for t in ticks])
    left.minorticks_off()
    left.set_xlabel("target cores")
    left.set_ylabel("initiator latency (cycles)")
    left.set_title("Shootdown latency against target cores (one-page discard)")
    left.grid(alpha=0.3)
    left.legend(fontsize=8)
    # The variants: p50 per variant, one bar per (mechanism, target count).
    names = [v.name for v in VARIANTS if any(r["variant"] == v.name for r in ok)]
    ends = sorted({r["targets"] for r in ok if r["variant"] != "baseline"}) or ticks[-1:]
    groups = [(m, t) for m in mechanisms for t in ends]
    width = 0.8 / max(1, len(groups))
    for g, (m, t) in enumerate(groups):
        vals = {r["variant"]: r["p50"] for r in ok
                if r["mechanism"] == m and r["targets"] == t and r["p50"] is not None}
        xs = [i + (g - (len(groups) - 1) / 2) * width for i, n in enumerate(names) if n in vals]
        if xs:
            right.bar(xs, [vals[n] for n in names if n in vals], width=width,
                      color=cmap(mechanisms.index(m)), alpha=0.45 if t == ends[0] else 0.95,
                      label=f"{m}, {t} target{'s' if t > 1 else ''}")
    right.set_xticks(range(len(names)))
    right.set_xticklabels(names, rotation=35, ha="right", fontsize=8)
    right.set_yscale("log")
    right.set_ylabel("initiator latency p50 (cycles)")
    right.set_title("Variants")
    right.grid(axis="y", alpha=0.3)
    right.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))   # clear of the bars
    fig.tight_layout()
    save_figure(fig, out, "shootdown_scaling", files)
    plt.close(fig)


# ---- main ------------------------------------------------------------------------------------

def report_check(rows):
    failures = check(rows)
    if failures:
        for f in failures:
            print(f"study-shootdown: check failed: {f}", file=sys.stderr)
        return 1
    print("study-shootdown: check passed: ipi's p50 does not fall as targets are added; "
          "broadcast's p50 is below ipi's at the largest target count")
    return 0


def main(argv=None):
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.check_csv:
        return report_check(read_rows(args.check_csv))
    tlmmu = find_tlmmu(args.tlmmu)
    allowed = allowed_values(tlmmu, MECHANISM_KEY)
    mechanisms = []
    for m in args.mechanisms:
        if m in allowed:
            mechanisms.append(m)
        else:
            print(f"study-shootdown: skipping mechanism '{m}': this tlmmu allows "
                  f"{', '.join(allowed)} ({MECHANISM_KEY})", file=sys.stderr)
    if not mechanisms:
        raise UserError(f"--mechanisms: none of {', '.join(args.mechanisms)} is allowed by this "
                        f"tlmmu ({', '.join(allowed)})")
    base = os.path.abspath(args.base or default_base())
    if not os.path.isfile(base):
        raise UserError(f"--base: no such file '{args.base}'")
    out = os.path.abspath(args.out or os.path.join(REPO_DIR, os.environ.get("BUILD_DIR", "build"),
                                                   "study-shootdown"))
    if os.path.exists(out) and not os.path.isdir(out):
        raise UserError(f"--out: '{args.out}' exists and is not a folder")
    everything = cases(mechanisms, args.targets, args.variants)
    refused = refusals(tlmmu, base, out, everything, args.discards, args.every)
    for (m, v), why in sorted(refused.items()):
        print(f"study-shootdown: {m} {v}: not applicable: {why}", file=sys.stderr)
    runs = [c for c in everything if (c.mechanism, c.variant.name) not in refused]
    for attempt in range(PASSES):
        sweep_file = write_sweep(out, base, runs, args.discards, args.every)
        sweep_args = [sweep_file, "--out", out, "--tlmmu", tlmmu]
        sweep_args += ["--jobs", str(args.jobs)] if args.jobs else []
        sweep_args += ["--force"] if args.force and attempt == 0 else []
        sweep_args += ["--quiet"] if args.quiet else []
        status = sweep_main.main(sweep_args)
        with open(os.path.join(out, "results.csv"), encoding="utf-8", newline="") as f:
            results = list(csv.DictReader(f))
        rows = tabulate(runs, results, args.discards)
        short = [i for i, r in enumerate(rows) if r.get("targets_outlast") == "no"]
        if not short or attempt == PASSES - 1:
            break
        # Targets that stopped early were no targets for the last discards: size them from the
        # initiator's measured time (deterministic, so a rerun of the study finds these runs done).
        for i in short:
            need = math.ceil(rows[i]["initiator_cycles"] * RESIZE)
            runs[i] = runs[i]._replace(target_insns=need)
        print(f"study-shootdown: {len(short)} run(s) whose targets finished before the initiator: "
              "running them again with longer targets", flush=True)
    done = iter(rows)
    rows = [{"mechanism": c.mechanism, "variant": c.variant.name, "targets": c.targets,
             "cores": c.targets + 1, "pages": c.variant.pages, "discards": args.discards,
             "status": "n/a", "note": refused[(c.mechanism, c.variant.name)]}
            if (c.mechanism, c.variant.name) in refused else next(done) for c in everything]
    files = []
    path = os.path.join(out, "shootdown_scaling.csv")
    write_atomic(path, write_csv_text(rows))
    files.append(path)
    path = os.path.join(out, "shootdown_scaling.md")
    write_atomic(path, markdown(rows, mechanisms))
    files.append(path)
    if any(r["status"] == "ok" for r in rows):
        plot(rows, mechanisms, out, files)
    for f in files:
        print(f)
    if args.check:
        status = max(status, report_check(read_rows(os.path.join(out, "shootdown_scaling.csv"))))
    return status
