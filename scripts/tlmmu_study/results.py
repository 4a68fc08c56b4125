"""DIR/results.csv and DIR/results.sqlite: one row per run, in the sweep's order.

Columns: run, status, exit_code, error, seed, repeat; one per swept key (named by the key);
then every statistic of the run's stats.csv (tlmmu --stats-csv) by its path, except config.*
(the configuration: swept keys have their own columns, the rest is in runs/<id>/config.yaml)
and histogram buckets (in stats.json); then
  cores.sum.<stat>      a per-core statistic cores[i].<stat> summed over the cores, where tlmmu
                        flags it additive (runs/<id>/stats_list.json, tlmmu --list-stats-json:
                        counts, cycles, a histogram's count and sum; not cpi, ratios, a
                        histogram's min/max/mean/percentiles, nor cores[i].firmware.*, the
                        process that ran there: stats.rule reads the flag)
  derived.cpi           cores.sum.cycles / cores.sum.instructions
  derived.cpi_stack.<c> cores.sum.cpi_stack.<c> / cores.sum.instructions (CPI components)
  derived.tlb.<l>.miss_rate, derived.tlb.<l>.mpki   misses / accesses, misses per 1000 instructions
  derived.pwc.hit_rate  cores.sum.pwc.hits / (hits + misses)
  derived.<hist>.min, .max, .mean   a per-core histogram (walker.latency...) of all cores
                        together: min of the mins, max of the maxes, sum / count (percentiles
                        are left out: they do not combine)
A failed run has empty statistics. Values are as tlmmu wrote them; sums and ratios are computed
here (Python's repr of a float, the shortest that reads back exactly).
"""
import csv
import os
import re
import shlex
import sqlite3

from . import runs as runs_module
from . import stats as stats_module
from .common import read_json, write_atomic
from .sweepfile import render
from .table import csv_text, fmt, number, read_dicts

FIXED = ["run", "status", "exit_code", "error", "seed", "repeat"]
_CORE = re.compile(r"^cores\[(\d+)\]\.(.+)$")


def natural(name):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def read_stats_csv(path):
    stats = {}
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header != ["stat", "value"]:
            raise ValueError(f"{path}: unexpected header {header}")
        for row in reader:
            if len(row) == 2:
                stats[row[0]] = row[1]
    return stats


def summarize(stats, catalogue):
    """The columns of one run from its stats.csv entries and its catalogue
    (stats.load_catalogue): raw, cores.sum.*, derived.*."""
    raw = {k: v for k, v in stats.items()
           if not k.startswith("config.") and ".buckets[" not in k}
    # every per-core statistic that combines over the cores (the catalogue says which, and how)
    combined = stats_module.combine_cores(stats, catalogue)
    sums = {"cores." + k: v for k, v in combined.items() if k.startswith("sum.")}
    derived = {}

    def ratio(a, b):
        return float(a) / float(b) if a is not None and b else None

    instr = sums.get("cores.sum.instructions")
    derived["derived.cpi"] = ratio(sums.get("cores.sum.cycles"), instr)
    for name in sums:
        if name.startswith("cores.sum.cpi_stack."):
            derived["derived." + name[len("cores.sum."):]] = ratio(sums[name], instr)
        m = re.match(r"^cores\.sum\.tlb\.([^.]+)\.misses$", name)
        if m:
            level = m.group(1)
            derived[f"derived.tlb.{level}.miss_rate"] = ratio(
                sums[name], sums.get(f"cores.sum.tlb.{level}.accesses"))
            derived[f"derived.tlb.{level}.mpki"] = ratio(
                None if instr is None else 1000 * sums[name], instr)
    # a histogram of all cores together: min of the mins, max of the maxes, mean from the sums
    for name, value in combined.items():
        how, _, stat = name.partition(".")
        if how in ("min", "max"):
            hist = stat.rpartition(".")[0]
            derived[f"derived.{hist}.{how}"] = value
            derived[f"derived.{hist}.mean"] = ratio(sums.get(f"cores.sum.{hist}.sum"),
                                                   sums.get(f"cores.sum.{hist}.count"))
    if "cores.sum.pwc.hits" in sums:
        hits, misses = sums["cores.sum.pwc.hits"], sums.get("cores.sum.pwc.misses", 0)
        derived["derived.pwc.hit_rate"] = ratio(hits, hits + misses)
    out = dict(raw)
    out.update({k: fmt(v) for k, v in sums.items()})
    out.update({k: fmt(v) for k, v in derived.items()})
    return out


def collect(out_dir, sweep, extra=None):
    """Builds the table from the runs' directories; writes results.csv and results.sqlite.
    `extra`: run id -> dict of runs-table fields (engine, slurm_state...). Returns (columns, rows)."""
    extra = extra or {}
    swept = [k for k in sweep.swept_keys if k not in FIXED]   # a swept seed is the seed column
    rows, meta = [], []
    for run in sweep.runs:
        path = os.path.join(out_dir, "runs", run.id)
        done = read_json(os.path.join(path, "done.json")) or {}
        desc = read_json(os.path.join(path, "run.json")) or {}
        code = done.get("exit_code")
        row = {"run": run.id, "status": "ok" if code == 0 else ("failed" if code is not None else "not run"),
               "exit_code": "" if code is None else str(code), "error": done.get("error", ""),
               "seed": str(run.seed), "repeat": str(run.repeat_index)}
        for key in swept:
            row[key] = render(run.swept[key]) if key in run.swept else ""
        if code == 0:
            # a run finished before runs wrote catalogues gets one now (the same tlmmu)
            listing = os.path.join(path, "stats_list.json")
            if not os.path.exists(listing) and desc:
                runs_module.write_catalogue(path, desc)
            catalogue = stats_module.load_catalogue(listing) or {}
            row.update(summarize(read_stats_csv(os.path.join(path, "stats.csv")), catalogue))
        rows.append(row)
        meta.append({"run": run.id, "idx": run.index, "status": row["status"],
                     "exit_code": code, "error": row["error"], "seed": run.seed,
                     "repeat": run.repeat_index, "version": desc.get("version", ""),
                     "command": shlex.join(desc.get("command", [])),
                     "host_seconds": done.get("host_seconds"), "dir": os.path.abspath(path),
                     **(extra.get(run.id) or read_json(os.path.join(path, "engine.json")) or {})})
    stat_cols = set()
    for row in rows:
        stat_cols.update(k for k in row if k not in FIXED and k not in swept)

    def group(name):
        return (2 if name.startswith("derived.") else 1 if name.startswith("cores.sum.") else 0,
                natural(name))
    columns = FIXED + swept + sorted(stat_cols, key=group)

    write_atomic(os.path.join(out_dir, "results.csv"),
                 csv_text(columns, [[row.get(c, "") for c in columns] for row in rows]))
    write_sqlite(os.path.join(out_dir, "results.sqlite"), columns, rows, meta)
    return columns, rows


def _typed(text):
    if text == "":
        return None
    value = number(text)
    return text if value is None else value


def write_sqlite(path, columns, rows, meta):
    tmp = f"{path}.tmp{os.getpid()}"
    if os.path.exists(tmp):
        os.remove(tmp)
    db = sqlite3.connect(tmp)
    try:
        # A table has at most SQLITE_LIMIT_COLUMN (2000) columns, and each core adds about 120
        # statistics: past the limit (many-core runs) the per-core ones move to a long table,
        # core_stats(run, core, stat, value), and results keeps the rest (sums included).
        limit = db.getlimit(sqlite3.SQLITE_LIMIT_COLUMN) if hasattr(db, "getlimit") else 2000
        per_core = [c for c in columns if _CORE.match(c)] if len(columns) > limit else []
        wide = [c for c in columns if c not in set(per_core)]
        quoted = ", ".join('"' + c.replace('"', '""') + '"' for c in wide)
        db.execute(f"CREATE TABLE results ({quoted})")
        db.executemany(f"INSERT INTO results VALUES ({', '.join('?' * len(wide))})",
                       [[_typed(r.get(c, "")) for c in wide] for r in rows])
        if per_core:
            db.execute("CREATE TABLE core_stats (run, core, stat, value)")
            db.executemany("INSERT INTO core_stats VALUES (?, ?, ?, ?)",
                           [(r["run"], int(m.group(1)), m.group(2), _typed(r[c]))
                            for r in rows for c, m in ((c, _CORE.match(c)) for c in per_core)
                            if r.get(c, "") != ""])
        run_cols = ["run", "idx", "status", "exit_code", "error", "seed", "repeat", "version",
                    "command", "host_seconds", "dir", "engine", "slurm_job", "slurm_state"]
        db.execute(f"CREATE TABLE runs ({', '.join(run_cols)})")
        db.executemany(f"INSERT INTO runs VALUES ({', '.join('?' * len(run_cols))})",
                       [[m.get(c) for c in run_cols] for m in meta])
        db.commit()
    finally:
        db.close()
    os.replace(tmp, path)


def read_table(out_dir):
    """(columns, rows) of a sweep's results.csv, rows in the sweep's order."""
    return read_dicts(os.path.join(out_dir, "results.csv"),
                      f" (run scripts/sweep FILE --out {out_dir} first)")
