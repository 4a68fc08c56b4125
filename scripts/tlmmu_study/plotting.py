"""scripts/plot DIR: pictures of a sweep's results (matplotlib, Agg; PNG and SVG), each with the
data behind it as CSV next to it.

  cpi_stack.{png,svg,csv}   CPI stack (derived.cpi_stack.*: base, tlb, walk, fault, data, os and
                            any other component) as stacked bars, one bar per configuration
                            (mean over repeats)
  <y>_vs_<x>.{png,svg,csv}  a statistic (--y, default derived.cpi) against a swept key (--x),
                            one line per value of --by, mean over repeats with the min-max spread
  hist_<name>.{png,svg,csv} each latency histogram of stats.json (e.g. walker.latency,
                            fault_latency), summed over cores and repeats, one line per configuration
A configuration is one combination of the swept keys' values (the runs that differ only by repeat).
"""
import math
import os
import re

from .common import Parser, UserError, read_json, suggest, write_atomic
from .results import read_table
from .stats import ordered
from .table import csv_text, fmt, number



def parse(argv):
    p = Parser(prog="plot", description="Pictures of a sweep's results (scripts/sweep --out DIR).")
    p.add_argument("dir", help="the sweep's output folder (results.csv, sweep.json, runs/)")
    p.add_argument("--x", metavar="KEY", help="swept key on the x axis (default: the one with most values)")
    p.add_argument("--y", metavar="STAT", default="derived.cpi", help="column of results.csv (default derived.cpi)")
    p.add_argument("--by", metavar="KEY", help="one line per value of this key (default: the other swept keys)")
    p.add_argument("--out", metavar="DIR2", help="output folder (default DIR/plots)")
    return p.parse_args(argv)


def short(key):
    parts = key.split(".")
    return ".".join(parts[-2:]) if len(parts) > 2 else key


def load(directory):
    results = os.path.join(directory, "results.csv")
    meta_path = os.path.join(directory, "sweep.json")
    columns, rows = read_table(directory)
    meta = read_json(meta_path)
    if meta is None:
        raise UserError(f"{meta_path}: missing or unreadable (written by scripts/sweep)")
    ok = [r for r in rows if r.get("status") == "ok"]
    if not ok:
        raise UserError(f"{results}: no successful run to plot")
    return columns, ok, meta


class Configs:
    """The runs grouped by the values of the swept keys, in the table's order."""

    def __init__(self, rows, keys):
        self.keys = keys
        self.groups = {}
        for row in rows:
            self.groups.setdefault(tuple(row[k] for k in keys), []).append(row)

    def label(self, values):
        if not self.keys:
            return "all runs"
        return ", ".join(f"{short(k)}={v}" for k, v in zip(self.keys, values))


def pyplot():
    """matplotlib.pyplot drawing into files (Agg): no display needed, imported only when a
    picture is drawn (the tables work without matplotlib)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save_figure(fig, out, name, files):
    """fig as NAME.png and NAME.svg, byte-identical from run to run (fixed SVG ids, no date or
    software version in the files), so regenerated pictures show up in git only when they change."""
    import matplotlib
    matplotlib.rcParams["svg.hashsalt"] = "tlmmu"
    for ext, meta in (("png", {"Software": None}), ("svg", {"Date": None})):
        path = os.path.join(out, f"{name}.{ext}")
        fig.savefig(path, dpi=110, bbox_inches="tight", metadata=meta)
        files.append(path)


def write_csv(path, header, rows, files):
    write_atomic(path, csv_text(header, rows))
    files.append(path)


def mean(values):
    return sum(values) / len(values)


def cpi_stack(columns, configs, out, files, plt):
    comps = [c[len("derived.cpi_stack."):] for c in columns if c.startswith("derived.cpi_stack.")]
    comps = ordered(comps)
    if not comps:
        return
    table = []
    for values, rows in configs.groups.items():
        means = [mean([number(r[f"derived.cpi_stack.{c}"]) or 0.0 for r in rows]) for c in comps]
        table.append((values, len(rows), means))
    write_csv(os.path.join(out, "cpi_stack.csv"),
               ["configuration"] + configs.keys + ["runs"] + comps + ["total"],
               [[configs.label(v)] + list(v) + [n] + [fmt(m) for m in means] + [fmt(sum(means))]
                for v, n, means in table], files)
    shown = [i for i, c in enumerate(comps) if any(t[2][i] != 0 for t in table)] or [0]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.55 * len(table) + 2.5), 4.8))
    xs = range(len(table))
    bottom = [0.0] * len(table)
    cmap = plt.get_cmap("tab10")
    for i in shown:
        heights = [t[2][i] for t in table]
        ax.bar(xs, heights, bottom=bottom, label=comps[i], color=cmap(i % 10), width=0.75)
        bottom = [b + h for b, h in zip(bottom, heights)]
    ax.set_xticks(list(xs))
    ax.set_xticklabels([configs.label(t[0]) for t in table], rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("cycles per instruction")
    ax.set_title("CPI stack per configuration" + (" (mean over repeats)" if any(t[1] > 1 for t in table) else ""))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, title="component")
    ax.grid(axis="y", alpha=0.3)
    save_figure(fig, out, "cpi_stack", files)
    plt.close(fig)


def choose_x(rows, keys):
    best, best_n = None, -1
    for k in keys:
        values = {r[k] for r in rows}
        numeric = all(number(v) is not None for v in values)
        n = len(values) + (1000 if numeric else 0)
        if n > best_n:
            best, best_n = k, n
    return best


def line(columns, rows, meta, args, out, files, plt):
    keys = [k for k in meta.get("swept_keys", []) if k in columns]
    for opt, name in (("--x", args.x), ("--by", args.by)):
        if name is not None and name not in columns:
            raise UserError(f"{opt}: no column '{name}' in results.csv{suggest(name, columns)}; "
                            f"swept keys: {', '.join(keys) or 'none'}")
    if args.y not in columns:
        raise UserError(f"--y: no column '{args.y}' in results.csv{suggest(args.y, columns)}")
    if any(number(r[args.y]) is None for r in rows):
        raise UserError(f"--y: column '{args.y}' is not a number in every run")
    x = args.x or choose_x(rows, [k for k in keys if k != args.by])
    if x is None:
        return None
    if args.by is not None and args.by == x:
        raise UserError(f"--by: '{args.by}' is also the x axis; choose another key")
    by = [args.by] if args.by else [k for k in keys if k != x]
    groups = Configs(rows, by)
    numeric_x = all(number(r[x]) is not None for r in rows)
    table = []
    for bvals, brows in groups.groups.items():
        per_x = {}
        for r in brows:
            per_x.setdefault(r[x], []).append(number(r[args.y]))
        xs = sorted(per_x, key=lambda v: (number(v), v) if numeric_x else list(per_x).index(v))
        for xv in xs:
            ys = per_x[xv]
            table.append((bvals, xv, len(ys), mean(ys), min(ys), max(ys)))
    name = re.sub(r"[^A-Za-z0-9.]+", "_", f"{args.y}_vs_{x}")
    write_csv(os.path.join(out, f"{name}.csv"),
               ["by"] + by + [x, "runs", "mean", "min", "max"],
               [[groups.label(b) if by else ""] + list(b) + [xv, n, fmt(m), fmt(lo), fmt(hi)]
                for b, xv, n, m, lo, hi in table], files)
    fig, ax = plt.subplots(figsize=(7.0, 4.6))
    spread = False
    for bvals in groups.groups:
        pts = [t for t in table if t[0] == bvals]
        xs = [number(t[1]) if numeric_x else t[1] for t in pts]
        label = groups.label(bvals) if by else None
        lines = ax.plot(xs, [t[3] for t in pts], marker="o", label=label)
        if any(t[2] > 1 for t in pts):
            spread = True
            ax.fill_between(xs, [t[4] for t in pts], [t[5] for t in pts],
                            color=lines[0].get_color(), alpha=0.2, linewidth=0)
    if numeric_x:
        vals = [number(r[x]) for r in rows]
        if min(vals) > 0 and max(vals) / min(vals) >= 16:
            ax.set_xscale("log", base=2)
            ticks = sorted(set(vals))
            ax.set_xticks(ticks)
            ax.set_xticklabels([fmt(t) for t in ticks])
            ax.minorticks_off()
    ax.set_xlabel(x)
    ax.set_ylabel(args.y)
    ax.set_title(f"{args.y} against {x}" + (" (mean; band: min-max over repeats)" if spread else ""))
    ax.grid(alpha=0.3)
    if by:
        ax.legend(fontsize=8, title=", ".join(short(b) for b in by), title_fontsize=8)
    save_figure(fig, out, name, files)
    plt.close(fig)
    return name


def histograms(stats):
    """name -> {(low, high): count} of every histogram in a stats.json, cores summed."""
    found = {}

    def walk(node, path):
        if isinstance(node, dict):
            if isinstance(node.get("buckets"), list):
                name = re.sub(r"^cores\[\d+\]\.", "", path)
                acc = found.setdefault(name, {})
                for b in node["buckets"]:
                    key = (b["low"], b["high"])
                    acc[key] = acc.get(key, 0) + b["count"]
                return
            for k, v in node.items():
                if k != "config":
                    walk(v, f"{path}.{k}" if path else k)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")
    walk(stats, "")
    return found


def hist_plots(directory, configs, out, files, plt):
    per_config = {}
    names = []
    for values, rows in configs.groups.items():
        acc = {}
        for r in rows:
            path = os.path.join(directory, "runs", r["run"], "stats.json")
            stats = read_json(path)
            if stats is None:
                raise UserError(f"{path}: missing or unreadable (the run's statistics)")
            for name, buckets in histograms(stats).items():
                if name not in names:
                    names.append(name)
                h = acc.setdefault(name, {})
                for key, count in buckets.items():
                    h[key] = h.get(key, 0) + count
        per_config[values] = acc
    for name in names:
        fname = "hist_" + re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")
        edges = sorted({k for acc in per_config.values() for k in acc.get(name, {})})
        write_csv(os.path.join(out, f"{fname}.csv"),
                   ["configuration"] + configs.keys + ["low", "high", "count"],
                   [[configs.label(v)] + list(v) + [lo, hi, acc.get(name, {})[(lo, hi)]]
                    for v, acc in per_config.items() for lo, hi in edges
                    if (lo, hi) in acc.get(name, {})], files)
        if not edges:
            continue
        # A heat map: one row per configuration, one column per log2 bucket, the count in it.
        labels = [configs.label(v) for v in per_config]
        grid = [[acc.get(name, {}).get(e, 0) for e in edges] for acc in per_config.values()]
        fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(edges) + 4.0), max(2.5, 0.32 * len(labels) + 1.6)))
        from matplotlib.colors import LogNorm
        peak = max(max(row) for row in grid) or 1
        masked = [[c if c > 0 else float("nan") for c in row] for row in grid]
        image = ax.imshow(masked, aspect="auto", cmap="viridis", norm=LogNorm(vmin=1, vmax=max(peak, 2)),
                          interpolation="nearest")
        if len(labels) * len(edges) <= 400:
            for i, row in enumerate(grid):
                for j, c in enumerate(row):
                    if c:
                        ax.text(j, i, str(c), ha="center", va="center", fontsize=7,
                                color="white" if c < math.sqrt(peak) else "black")
        ax.set_xticks(range(len(edges)))
        ax.set_xticklabels([f"{lo}-{hi}" for lo, hi in edges], rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(len(labels)))
        ax.set_yticklabels(labels, fontsize=8)
        ax.set_xlabel(f"{name} (cycles; log2 buckets)")
        ax.set_title(f"{name}: histogram per configuration (count, summed over cores and repeats)", fontsize=10)
        fig.colorbar(image, ax=ax, label="count")
        save_figure(fig, out, fname, files)
        plt.close(fig)


def main(argv):
    args = parse(argv)
    columns, rows, meta = load(args.dir)
    plt = pyplot()
    out = os.path.abspath(args.out or os.path.join(args.dir, "plots"))
    os.makedirs(out, exist_ok=True)
    keys = [k for k in meta.get("swept_keys", []) if k in columns]
    configs = Configs(rows, keys)
    files = []
    cpi_stack(columns, configs, out, files, plt)
    line(columns, rows, meta, args, out, files, plt)
    hist_plots(args.dir, configs, out, files, plt)
    for f in files:
        print(f)
    return 0
