"""The picture of the shootdown scaling study: shootdown_scaling.{png,svg}."""
from .plotting import pyplot, save_figure
from .shootdown_cases import VARIANTS


def plot(rows, mechanisms, out, files):
    """Left: p50 and p99 against the target count per mechanism; right: each variant's p50."""
    plt = pyplot()
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
