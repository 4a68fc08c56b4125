"""The tables of the shootdown scaling study: one row per run (shootdown_scaling.csv) from
scripts/sweep's results.csv, reading it back, the issue's claims on it, and the Markdown tables
for the README (shootdown_scaling.md)."""
from .common import UserError
from .shootdown_cases import VARIANTS, lazy_cores
from .table import dict_rows_text, fmt, number, read_dicts

COLUMNS = ["mechanism", "variant", "targets", "cores", "pages", "discards", "status",
           "shootdowns", "p50", "p90", "p99", "mean", "max", "ipis", "targets_per_shootdown",
           "lazy_skips", "full_flushes", "cycles_per_discard", "initiator_cycles",
           "targets_outlast", "run", "note"]


def _case(case, discards):
    """The columns that say which run a row is."""
    return {"mechanism": case.mechanism, "variant": case.variant.name, "targets": case.targets,
            "cores": case.targets + 1, "pages": case.variant.pages, "discards": discards}


def refused_row(case, discards, why):
    """The row of a combination tlmmu refuses: no run, status n/a, tlmmu's reason."""
    return {**_case(case, discards), "status": "n/a", "note": why}


def tabulate(runs, results, discards):
    """One row per run (COLUMNS) from scripts/sweep's results.csv rows (in the runs' order)."""
    rows = []
    for c, r in zip(runs, results):
        ok = r.get("status") == "ok"
        row = {**_case(c, discards), "status": r.get("status", "not run"), "run": r.get("run", "")}
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
    return dict_rows_text(COLUMNS, rows)


def read_rows(path):
    columns, rows = read_dicts(path)
    missing = [c for c in ("mechanism", "variant", "targets", "p50", "status") if c not in columns]
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


# ---- the Markdown tables ---------------------------------------------------------------------

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
            cells += [fmt(r["p50"]), fmt(r["p99"])] if r else ["failed", "failed"]
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
        out.append("| " + " | ".join(fmt(v) for v in cells) + " |")
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


