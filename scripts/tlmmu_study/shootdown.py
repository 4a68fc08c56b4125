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
import math
import os
import sys

from . import outdir, sweep_main
from .common import (Parser, UserError, allowed_values, default_out, find_tlmmu, int_list,
                     write_atomic)
# The study in three parts: the runs (cases), their tables and claims, the picture. The names
# below are also this module's interface (tests and users reach them as shootdown.X).
from .shootdown_cases import (BY_NAME, MAX_TARGETS, MECHANISM_KEY, MECHANISM_SETTINGS, PASSES,  # noqa: F401
                              RESIZE, TARGETS, VARIANTS, cases, default_base, refusals, write_sweep)
from .shootdown_plot import plot
from .shootdown_tables import (COLUMNS, check, markdown, read_rows, refused_row, tabulate,  # noqa: F401
                               write_csv_text)


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
    args.targets = sorted(set(int_list(args.targets, "--targets")))
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
    out = outdir.prepare(args.out or default_out("study-shootdown"))
    with outdir.locked(out, "study-shootdown"):
        return _study(args, tlmmu, base, out, mechanisms)


def _study(args, tlmmu, base, out, mechanisms):
    """Runs the study into `out` (made and locked), writes its tables and picture; the exit status."""
    everything = cases(mechanisms, args.targets, args.variants)
    refused = refusals(tlmmu, base, out, everything, args.discards, args.every)
    for (m, v), why in sorted(refused.items()):
        print(f"study-shootdown: {m} {v}: not applicable: {why}", file=sys.stderr)
    runs = [c for c in everything if (c.mechanism, c.variant.name) not in refused]
    for attempt in range(PASSES):
        status, results = sweep_main.run_study(write_sweep(out, base, runs, args.discards, args.every),
                                               out, tlmmu, jobs=args.jobs,
                                               force=args.force and attempt == 0, quiet=args.quiet)
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
    rows = [refused_row(c, args.discards, refused[(c.mechanism, c.variant.name)])
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
