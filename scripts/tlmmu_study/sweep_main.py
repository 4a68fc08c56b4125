"""scripts/sweep: runs a sweep file's runs (resuming), then writes results.csv and results.sqlite."""
import os
import sys

from . import engines, identity, outdir, results, runs, sweepfile
from .common import Parser, UserError, find_tlmmu, list_keys, tlmmu_version, write_json

USAGE_EPILOG = """exit status: 0 every run succeeded; 1 some run failed; 2 the sweep was refused
before anything ran (bad sweep file, unknown key or engine). See docs/studies.md."""


def parse(argv):
    p = Parser(prog="sweep", description="Runs the runs of a tlmmu sweep file and tabulates them.",
                epilog=USAGE_EPILOG)
    p.add_argument("file", help="sweep file (YAML)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (runs/, results.csv, results.sqlite)")
    p.add_argument("--engine", help="local (default) or slurm; overrides the file's engine:")
    p.add_argument("--jobs", "-j", type=int, metavar="N", help="runs at a time (local: default all cores; slurm: the array's %%N throttle)")
    p.add_argument("--force", action="store_true", help="rerun every run, even finished ones")
    p.add_argument("--dry-run", action="store_true", help="check the file and list the runs; run nothing")
    p.add_argument("--tlmmu", metavar="PATH", help="the tlmmu program (default $TLMMU, else build/testbench/tlmmu)")
    p.add_argument("--poll", type=float, default=1.0, metavar="S", help="slurm: first polling interval (s)")
    p.add_argument("-q", "--quiet", action="store_true", help="only failures and the final line")
    return p.parse_args(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--run-one"]:
        if len(argv) != 2:
            raise UserError("usage: sweep --run-one RUNDIR")
        return runs.run_one(argv[1])
    args = parse(argv)
    if args.engine is not None and args.engine not in sweepfile.ENGINES:
        raise UserError(f"--engine: unknown engine '{args.engine}'; allowed: {', '.join(sweepfile.ENGINES)}")
    if args.jobs is not None and args.jobs < 1:
        raise UserError("--jobs: expected 1 or more")
    tlmmu = find_tlmmu(args.tlmmu)
    keys = list_keys(tlmmu)
    sweep = sweepfile.load(args.file, keys)
    engine = args.engine or sweep.engine or "local"
    version = tlmmu_version(tlmmu)

    if args.dry_run:
        todo, skipped = plan(outdir.check_folder(args.out), sweep, describe_all(tlmmu, sweep, version), args.force)
        for run in sweep.runs:
            mark = "run " if run in todo else "done"
            print(f"{mark} {run.id}  " + " ".join(f"{k}={sweepfile.render(v)}" for k, v in run.settings))
        print(f"sweep: {len(sweep.runs)} runs, {len(todo)} to run, {skipped} already done (dry run)")
        return 0
    out = outdir.prepare(args.out)
    # From the first look at the run folders to the last line of results.csv, this sweep alone
    # writes into them (a second one exits 2: outdir.py).
    with outdir.locked(out, "sweep"):
        return _sweep(args, tlmmu, sweep, engine, version, out)


def describe_all(tlmmu, sweep, version):
    """run id -> run.json of every run (its identity includes the files it reads)."""
    inputs = identity.Inputs(tlmmu)
    return {r.id: runs.describe(tlmmu, sweep, r, version, inputs) for r in sweep.runs}


def plan(out, sweep, descriptions, force):
    """(runs to run, how many are done already)."""
    todo, skipped = [], 0
    for run in sweep.runs:
        if not force and runs.is_done(runs.run_dir(out, run), descriptions[run.id]):
            skipped += 1
        else:
            todo.append(run)
    return todo, skipped


def _sweep(args, tlmmu, sweep, engine, version, out):
    """Runs what is not done into `out` (made and locked), writes the tables; the exit status."""
    descriptions = describe_all(tlmmu, sweep, version)
    todo, skipped = plan(out, sweep, descriptions, args.force)
    os.makedirs(os.path.join(out, "runs"), exist_ok=True)
    write_json(os.path.join(out, "sweep.json"), {
        "sweep_file": os.path.abspath(args.file), "base": sweep.base, "engine": engine,
        "swept_keys": sweep.swept_keys, "repeat": sweep.repeat, "runs": len(sweep.runs),
        "version": version, "tlmmu": tlmmu})
    by_path = {}
    for run in todo:
        path = runs.run_dir(out, run)
        runs.prepare(path, descriptions[run.id])
        by_path[path] = run

    failures, extra, finished = [], {}, [0]

    def report(path, code, error, info):
        run = by_path[path]
        extra[run.id] = info
        write_json(os.path.join(path, "engine.json"), info)
        finished[0] += 1
        if code != 0:
            failures.append((run, error))
            print(f"[{finished[0]}/{len(todo)}] FAILED {run.id}: {error}", flush=True)
        elif not args.quiet:
            print(f"[{finished[0]}/{len(todo)}] ok {run.id}", flush=True)

    if todo:
        if not args.quiet:
            print(f"sweep: {len(sweep.runs)} runs, {skipped} already done, running {len(todo)} "
                  f"({engine}{'' if engine != 'local' else ', ' + str(args.jobs or os.cpu_count() or 1) + ' at a time'})",
                  flush=True)
        paths = [runs.run_dir(out, r) for r in todo]
        if engine == "local":
            engines.run_local(paths, args.jobs or os.cpu_count() or 1, report)
        else:
            options = dict(sweep.slurm)
            if args.jobs:
                options["max_parallel"] = args.jobs     # at most N tasks of the array at a time
            engines.run_slurm(paths, out, options, report, poll=args.poll, quiet=args.quiet)
    results.collect(out, sweep, extra)
    # A run that failed at an earlier start is never 'already done': it is run again.
    ok = len(sweep.runs) - len(failures)
    print(f"sweep: {len(sweep.runs)} runs: {len(todo)} run now, {skipped} already done; {ok} ok, "
          f"{len(failures)} failed; {os.path.join(out, 'results.csv')}", flush=True)
    for run, error in failures:
        print(f"sweep: failed: {run.id} ({run.origin}): {error}", file=sys.stderr)
    return 1 if failures else 0


def run_study(sweep_file, out, tlmmu, jobs=None, force=False, quiet=False):
    """A study's generated sweep file run into `out` as scripts/sweep runs it; returns (exit
    status, results.csv rows in the sweep's order)."""
    argv = [sweep_file, "--out", out, "--tlmmu", tlmmu]
    argv += ["--jobs", str(jobs)] if jobs else []
    argv += ["--force"] if force else []
    argv += ["--quiet"] if quiet else []
    status = main(argv)
    return status, results.read_table(out)[1]
