"""scripts/compare A B [...]: what differs between runs of tlmmu.

Each argument is a statistics file (tlmmu --stats-json) or a sweep's output folder
(scripts/sweep --out). Files: every file against the first. Folders: each run of the first
folder against the run with the same settings (key = value, in any order) in each other folder;
one folder alone: each of its runs against its first. For each comparison it prints the
statistics that differ (the configuration apart), with their relative change, largest first,
then the CPI stacks (cycles per instruction per component, tlmmu's cores[i].cpi_stack /
cores[i].instructions) side by side per core; --plot draws the stacks.

Exit status: 0 done (differences are no error), 1 with --fail-on-diff when a statistic differs
by the threshold or more, 2 bad input (one line).
"""
import math
import os

from . import stats as st
from .common import Parser, UserError, read_json
from .identity import canonical
from .results import read_table
from .sweepfile import render


def parse(argv):
    p = Parser(prog="compare", description="Compares tlmmu runs: statistics files (--stats-json) "
                                           "or sweep output folders (docs/studies.md).",
               epilog="exit status: 0 done; 1 --fail-on-diff and something differs; 2 bad input")
    p.add_argument("inputs", nargs="+", metavar="A", help="statistics JSON files or sweep folders")
    p.add_argument("--threshold", type=float, default=0.0, metavar="PCT",
                   help="show only statistics whose relative change is at least PCT percent "
                        "(default 0: every difference)")
    p.add_argument("--top", type=int, metavar="N", help="at most N statistics per comparison")
    p.add_argument("--all-cores", action="store_true",
                   help="CPI stacks of every core (default: at most 8 cores, then the sum)")
    p.add_argument("--plot", metavar="OUT", help="draw the CPI stacks side by side (OUT.png or OUT.svg)")
    p.add_argument("--fail-on-diff", action="store_true",
                   help="exit 1 if a statistic differs by the threshold or more")
    args = p.parse_args(argv)
    if len(args.inputs) < 2 and not os.path.isdir(args.inputs[0]):
        raise UserError("give two statistics files or more, or sweep folders (one folder: its "
                        "runs against its first)")
    if args.threshold < 0:
        raise UserError("--threshold: expected a percentage of 0 or more")
    if args.top is not None and args.top < 1:
        raise UserError("--top: expected 1 or more")
    if args.plot and os.path.splitext(args.plot)[1].lower() not in (".png", ".svg"):
        raise UserError(f"--plot: '{args.plot}': expected a file name ending in .png or .svg")
    return args


class Run:
    """One compared run: a label and its statistics (stats.json's content)."""

    def __init__(self, label, stats):
        self.label = label
        self.stats = stats
        self.flat = {k: v for k, v in st.flatten(stats).items() if ".buckets[" not in k}


def _sweep_runs(folder):
    """The successful runs of a sweep folder, in its order: [(settings key, Run)]."""
    if not os.path.isfile(os.path.join(folder, "results.csv")) or \
            not os.path.isdir(os.path.join(folder, "runs")):
        raise UserError(f"{folder}: not a sweep output folder (no results.csv and runs/; "
                        "written by scripts/sweep --out)")
    out = []
    for row in read_table(folder)[1]:
        if row.get("status") != "ok":
            continue
        path = os.path.join(folder, "runs", row["run"])
        desc = read_json(os.path.join(path, "run.json")) or {}
        settings = (desc.get("identity") or {}).get("settings") or \
            canonical(desc.get("settings") or [], render)
        key = tuple(tuple(kv) for kv in settings)
        out.append((key, Run(f"{os.path.basename(os.path.normpath(folder))}/{row['run']}",
                             st.load_json(os.path.join(path, "stats.json")))))
    if not out:
        raise UserError(f"{folder}: no successful run to compare")
    return out


def groups(inputs):
    """[(title, [Run])]: in each group the first run is the reference of the others."""
    for path in inputs:
        if not os.path.exists(path):
            raise UserError(f"{path}: no such file or folder")
    folders = [os.path.isdir(p) for p in inputs]
    if any(folders) and not all(folders):
        raise UserError("give either statistics files or sweep folders, not both")
    if not all(folders):
        names = [os.path.basename(p) for p in inputs]
        labels = names if len(set(names)) == len(names) else list(inputs)
        return [("", [Run(l, st.load_json(p)) for l, p in zip(labels, inputs)])], []
    sweeps = [_sweep_runs(p) for p in inputs]
    if len(sweeps) == 1:
        return [("", [r for _, r in sweeps[0]])], []
    out, unmatched = [], []
    others = [dict(s) for s in sweeps[1:]]
    for key, run in sweeps[0]:
        members = [run] + [o[key] for o in others if key in o]
        if len(members) == 1:
            unmatched.append(run.label)
            continue
        out.append((key, members))
    firsts = {k for k, _ in sweeps[0]}
    for folder, s in zip(inputs[1:], sweeps[1:]):
        unmatched += [r.label for k, r in s if k not in firsts]
    if not out:
        raise UserError(f"no run of {inputs[0]} has the same settings as a run of the others")
    # a group's title: its settings, but those every group shares (the set: keys) only once
    shared = set.intersection(*(set(k) for k, _ in out)) if len(out) > 1 else set()
    titled = [(" ".join(f"{k}={v}" for k, v in key if (k, v) not in shared) or "(the base's settings)",
               members) for key, members in out]
    if shared:
        titled[0] = (titled[0][0] + "  (every run: " + " ".join(f"{k}={v}" for k, v in sorted(shared)) + ")",
                     titled[0][1])
    return titled, unmatched


def change(a, b):
    """The relative change from a to b (inf: from 0; None: not numbers)."""
    if isinstance(a, bool) or isinstance(b, bool) or not all(isinstance(v, (int, float)) for v in (a, b)):
        return None
    if a == b:
        return 0.0
    return math.inf if a == 0 else (b - a) / abs(a)


def differences(ref, other, threshold):
    """[(stat, a, b, relative change or None)] of the statistics (not config.*) that differ by
    the threshold (a fraction) or more, the largest change first; config: [(key, a, b)]."""
    diffs, config = [], []
    for key in sorted(set(ref.flat) | set(other.flat)):
        a, b = ref.flat.get(key), other.flat.get(key)
        if a == b and type(a) is type(b):
            continue
        if key.startswith("config."):
            config.append((key, a, b))
            continue
        rel = change(a, b)
        if rel is not None and abs(rel) < threshold:
            continue
        diffs.append((key, a, b, rel))
    # largest change first; a non-number (or missing) that changed counts as the largest
    diffs.sort(key=lambda d: (-(math.inf if d[3] is None else abs(d[3])), d[0]))
    return diffs, config


def _cell(value):
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _pct(rel):
    if rel is None:
        return "changed"
    if math.isinf(rel):
        return "new (was 0)"
    return f"{100 * rel:+.2f}%"


def table(header, rows, right=()):
    """Plain text columns, those whose index is in `right` aligned right."""
    cells = [header] + rows
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return ["  ".join(c.rjust(w) if i in right else c.ljust(w)
                      for i, (c, w) in enumerate(zip(r, widths))).rstrip() for r in cells]


def stacks_of(run, all_cores):
    """[(core label, {component: CPI})]: each core (at most 8 unless all_cores), then all cores
    together when there are several (the sums' ratio)."""
    per_core = st.cpi_stacks(run.stats)
    cores = run.stats["cores"]
    shown = per_core if all_cores or len(per_core) <= 8 else per_core[:8]
    out = [(f"core {i}", s) for i, s in enumerate(shown)]
    if len(per_core) > 1:
        instr = sum(c.get("instructions") or 0 for c in cores)
        names = list(dict.fromkeys(n for s in per_core for n in s))
        out.append(("all cores", {n: (sum((c.get("cpi_stack") or {}).get(n, 0) for c in cores) / instr
                                      if instr else 0.0) for n in names}))
    return out


def cpi_text(members, all_cores):
    lines = []
    stacks = [dict(stacks_of(r, all_cores)) for r in members]
    for core in dict.fromkeys(c for s in stacks for c in s):
        names = list(dict.fromkeys(n for s in stacks for n in s.get(core, {})))
        rows = []
        for n in names + ["total"]:
            vals = [sum(s.get(core, {}).values()) if n == "total" else s.get(core, {}).get(n)
                    for s in stacks]
            rows.append([n] + ["-" if v is None else f"{v:.4f}" for v in vals]
                        + [_pct(change(vals[0], v)) if v is not None and vals[0] is not None
                           else "-" for v in vals[1:]])
        header = [f"CPI {core}"] + [r.label for r in members] + [f"change {i + 1}" for i in range(len(members) - 1)]
        if len(members) == 2:
            header[-1] = "change"
        lines += table(header, rows, right=range(1, len(header))) + [""]
    return lines


def report(title, members, args):
    """The text of one group; whether something differed by the threshold or more."""
    lines = [f"=== {title}", ""] if title else []
    differed = False
    for other in members[1:]:
        diffs, config = differences(members[0], other, args.threshold / 100.0)
        differed = differed or bool(diffs)
        lines.append(f"{other.label} against {members[0].label}:")
        if config:
            lines.append("  configuration: " + ", ".join(f"{k[len('config.'):]} {_cell(a)} -> {_cell(b)}"
                                                      for k, a, b in config))
        if not diffs:
            lines += [f"  no statistic differs{' by ' + format(args.threshold, 'g') + '% or more' if args.threshold else ''}", ""]
            continue
        shown = diffs[:args.top] if args.top else diffs
        lines.append(f"  {len(diffs)} statistics differ" +
                     (f" by {args.threshold:g}% or more" if args.threshold else "") +
                     (f" ({len(shown)} shown, --top)" if len(shown) < len(diffs) else "") + ":")
        lines += ["  " + l for l in table(["statistic", members[0].label, other.label, "change"],
                                          [[k, _cell(a), _cell(b), _pct(rel)] for k, a, b, rel in shown],
                                          right=(1, 2, 3))]
        lines.append("")
    lines += cpi_text(members, args.all_cores)
    return lines, differed


def plot(all_groups, path, all_cores):
    """Stacked bars of the CPI stacks: per group and core, one bar per compared run."""
    from .plotting import pyplot
    plt = pyplot()
    bars = []       # (x label, run label, member index, {component: CPI})
    for g, (title, members) in enumerate(all_groups):
        per = [stacks_of(r, all_cores) for r in members]
        for c, (core, _) in enumerate(per[0]):
            for m, run in enumerate(members):
                stack = dict(per[m]).get(core, {})
                label = f"{core}" if len(all_groups) == 1 else f"{g + 1}: {core}"
                bars.append((label, run.label, m, stack))
    names = list(dict.fromkeys(n for b in bars for n in b[3]))
    names = st.ordered(names)
    shown = [n for n in names if any(b[3].get(n) for b in bars)] or names[:1]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * len(bars) + 3.0), 4.8))
    cmap = plt.get_cmap("tab10")
    xs, x, last = [], 0.0, None
    for b in bars:
        if last is not None and b[0] != last:
            x += 0.6        # a gap between clusters (core, group)
        xs.append(x)
        x += 1.0
        last = b[0]
    bottom = [0.0] * len(bars)
    for i, n in enumerate(shown):
        heights = [b[3].get(n, 0.0) for b in bars]
        ax.bar(xs, heights, bottom=bottom, color=cmap(i % 10), label=n, width=0.85,
               edgecolor="black", linewidth=0.3)
        bottom = [u + h for u, h in zip(bottom, heights)]
    ax.set_xticks(xs)
    ax.set_xticklabels([f"{b[0]}\n{b[1]}" for b in bars], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("cycles per instruction")
    ax.set_title("CPI stacks side by side")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, title="component")
    ax.grid(axis="y", alpha=0.3)
    try:
        fig.savefig(path, dpi=110, bbox_inches="tight",
                    metadata={"Software": None} if path.lower().endswith(".png") else {"Date": None})
    except OSError as e:
        raise UserError(f"--plot: cannot write '{path}': {e.strerror}")
    finally:
        plt.close(fig)


def main(argv):
    args = parse(argv)
    all_groups, unmatched = groups(args.inputs)
    differed = False
    for title, members in all_groups:
        lines, d = report(title, members, args)
        differed = differed or d
        print("\n".join(lines).rstrip() + "\n")
    for label in unmatched:
        print(f"compare: no run with the same settings to compare with: {label}")
    if args.plot:
        plot(all_groups, args.plot, args.all_cores)
        print(args.plot)
    return 1 if differed and args.fail_on_diff else 0
