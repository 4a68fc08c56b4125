"""tlmmu's statistics (--stats-json, --stats-csv): their paths, which per-core ones combine over the
cores and how, and the CPI stack of each core.

How a per-core statistic combines is tlmmu's word, not a rule of names here: `tlmmu --config F
--list-stats-json` (the catalogue, runs/<id>/stats_list.json) gives each statistic's kind and
whether it adds up, declared once where it is registered. A statistic flagged additive is
summed over the cores; of a histogram the count and sum are summed, the min is the min over the
cores and the max the max, its mean, percentiles and buckets do not combine (a sum of
percentiles is no percentile). Anything else does not combine: cpi, ratios, and the per-core
view of a process's statistics (cores[i].firmware.*: the process that ran there, so a threaded
process's faults would count once per core it ran on).
"""
import json
import re

from .common import UserError
from .table import number

# The CPI stack components in the order pictures and tables show them; later ones (shootdown,
# ipi, any new one) follow in name order.
CPI_ORDER = ["base", "tlb", "walk", "fault", "data", "os"]
_CORE = re.compile(r"^cores\[(\d+)\]\.(.+)$")
_INDEX = re.compile(r"\[\d+\]")
_HISTOGRAM_FIELDS = {"count": "sum", "sum": "sum", "min": "min", "max": "max"}


def ordered(components):
    """CPI stack component names in CPI_ORDER, then the others by name."""
    return [c for c in CPI_ORDER if c in components] + sorted(c for c in components if c not in CPI_ORDER)


def catalogue_key(path):
    """A statistic's path as the catalogue names it: every index [N] as [i]."""
    return _INDEX.sub("[i]", path)


def load_catalogue(path):
    """A tlmmu --list-stats-json file: {path with [i]: {kind, additive, unit, meaning}}, or None
    when it is missing or unreadable."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def rule(stat, catalogue):
    """How the per-core statistic `stat` (its path below cores[i].) combines over the cores:
    'sum', 'min', 'max', or None (it does not), from the catalogue's additive flag and kind."""
    key = catalogue_key("cores[i]." + stat)
    info = catalogue.get(key)
    if info is not None:
        return "sum" if info.get("additive") and info.get("kind") != "histogram" else None
    head, _, field = key.rpartition(".")
    info = catalogue.get(head)
    if info is not None and info.get("kind") == "histogram":
        return _HISTOGRAM_FIELDS.get(field)
    return None


def combine_cores(flat, catalogue):
    """{name: value} of the per-core statistics combined over the cores, from {path: value}
    (numbers, or their text as in stats.csv) and the run's catalogue (load_catalogue):
    cores.sum.<stat> for each additive one, and min.<hist>.min / max.<hist>.max for each
    histogram (named by the caller)."""
    out = {}
    for path, value in flat.items():
        m = _CORE.match(path)
        if not m:
            continue
        how = rule(m.group(2), catalogue)
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
