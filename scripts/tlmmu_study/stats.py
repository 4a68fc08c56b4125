"""tlmmu's statistics (--stats-json, --stats-csv): their paths, which per-core ones combine over the
cores and how, and the CPI stack of each core.

How a per-core statistic combines is decided by rule() alone. Today it goes by the statistic's
name and shape: a histogram (a statistic with buckets) has an additive count and sum, a min
(combined as the min over cores) and a max (the max); its mean, percentiles and
percentiles_exact do not combine (a percentile of the cores together needs the buckets, and a
sum of percentiles is no percentile). Any other number is a counter (events or cycles) and adds
up, except cpi and anything named as a ratio, rate, mean, minimum, maximum or percentile. If
tlmmu one day describes its statistics (`--list-stats-json` with an "additive" flag), rule() is
the one place to read it.
"""
import json
import re

from .common import UserError
from .table import number

# The CPI stack components in the order pictures and tables show them; later ones (shootdown,
# ipi, any new one) follow in name order.
CPI_ORDER = ["base", "tlb", "walk", "fault", "data", "os"]
_CORE = re.compile(r"^cores\[(\d+)\]\.(.+)$")
_BUCKETS = re.compile(r"^(.*)\.buckets\[\d+\]\.")
_NOT_ADDITIVE = re.compile(r"(^|\.)(cpi|rate|ratio|[a-z_]*_(rate|ratio)|mean|min|max|p\d+)$")


def ordered(components):
    """CPI stack component names in CPI_ORDER, then the others by name."""
    return [c for c in CPI_ORDER if c in components] + sorted(c for c in components if c not in CPI_ORDER)


def histograms(paths):
    """The paths (below cores[i]. for a per-core one) of the histograms among stat paths."""
    found = set()
    for path in paths:
        m = _BUCKETS.match(path)
        if m:
            found.add(re.sub(r"^cores\[\d+\]\.", "", m.group(1)))
    return found


def rule(stat, hists):
    """How the per-core statistic `stat` (its path below cores[i].) combines over the cores:
    'sum', 'min', 'max', or None (it does not). `hists`: histograms(...) of the run."""
    head, _, field = stat.rpartition(".")
    if head in hists:
        return {"count": "sum", "sum": "sum", "min": "min", "max": "max"}.get(field)
    if _NOT_ADDITIVE.search(stat) or ".buckets[" in stat:
        return None
    return "sum"


def combine_cores(flat):
    """{name: value} of the per-core statistics combined over the cores, from {path: value}
    (numbers, or their text as in stats.csv): cores.sum.<stat> for each additive one, and
    min.<hist>.min / max.<hist>.max for each histogram (named by the caller)."""
    hists = histograms(flat)
    out = {}
    for path, value in flat.items():
        m = _CORE.match(path)
        if not m:
            continue
        how = rule(m.group(2), hists)
        value = _num(value)
        if how is None or value is None:
            continue
        name = f"{how}.{m.group(2)}"
        if name not in out:
            out[name] = value
        elif how == "sum":
            out[name] += value
        else:
            out[name] = min(out[name], value) if how == "min" else max(out[name], value)
    return out


def _num(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    return number(value)


def flatten(node, prefix="", out=None):
    """stats.json as {--stats-csv path: value}: a.b, a[0].b."""
    out = {} if out is None else out
    if isinstance(node, dict):
        for k, v in node.items():
            flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            flatten(v, f"{prefix}[{i}]", out)
    else:
        out[prefix] = node
    return out


def load_json(path):
    """A tlmmu --stats-json file, checked to be one: one line (UserError) if it is not."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise UserError(f"{path}: {e.strerror}")
    except (ValueError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: not a statistics file (not JSON: {e}); give tlmmu --stats-json "
                        "output or a scripts/sweep folder")
    cores = data.get("cores") if isinstance(data, dict) else None
    if not isinstance(cores, list) or not cores or \
            not all(isinstance(c, dict) and "instructions" in c for c in cores):
        raise UserError(f"{path}: not a statistics file (no cores[i].instructions); give tlmmu "
                        "--stats-json output or a scripts/sweep folder")
    return data


def cpi_stacks(stats):
    """[{component: cycles per instruction}] per core, in CPI_ORDER then any later component."""
    out = []
    for core in stats["cores"]:
        stack = core.get("cpi_stack") or {}
        instr = core.get("instructions") or 0
        out.append({c: (stack[c] / instr if instr else 0.0) for c in ordered(stack)})
    return out
