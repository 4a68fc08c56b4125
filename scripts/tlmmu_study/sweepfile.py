"""Reading a sweep file (YAML) into its runs, every error naming file:line and key.

    base: ../single.yaml            # configuration file, relative to the sweep file (optional)
    set: {cores: 1, tlb.l1d.entries: 16}        # keys for every run
    axes:                           # cartesian product, first axis slowest ...
      tlb.l2.entries: [0, 32, 128]
    runs:                           # ... or an explicit list of runs (not both)
      - {tlb.l2.entries: 64, walker.pwc.entries: 0}
    repeat: 3                       # seeds: base seed + 0, 1, 2
    engine: local                   # or slurm (the command line's --engine wins)
    slurm: {partition: p, time: "00:10:00", mem: 1G, max_parallel: 50}
Keys may be dotted (tlb.l2.entries) or nested mappings (tlb: {l2: {entries: 64}}).
"""
import hashlib
import itertools
import os
import re

import yaml

from .common import UserError, suggest
from .identity import canonical

TOP_KEYS = ("base", "set", "axes", "runs", "repeat", "engine", "slurm")
ENGINES = ("local", "slurm")
SLURM_KEYS = ("partition", "time", "mem", "max_parallel", "account")


def is_path_key(key):
    """Keys whose value is a file, relative to the sweep file when written relative."""
    return key in ("workload.trace", "workload.scenario") or key.endswith(".waveform") \
        or key.endswith(".trace") or key.endswith(".scenario")


def render(value):
    """A scalar as YAML text, the form `tlmmu --set key=TEXT` reads back to the same value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = yaml.safe_dump(value, default_flow_style=True, width=1 << 20)
    if text.endswith("\n...\n"):
        text = text[:-5]
    return text.rstrip("\n")


class Run:
    """One run: the settings as written (key -> value) and its seed."""

    def __init__(self, index, swept, settings, seed, repeat_index, origin):
        self.index = index              # position in the sweep, the order of the table's rows
        self.swept = swept              # swept key -> value (as written)
        self.settings = settings        # [(key, value)] given to tlmmu with --set, seed last
        self.seed = seed
        self.repeat_index = repeat_index
        self.origin = origin            # "file:line" of the entry the run comes from
        self.id = None


class Sweep:
    def __init__(self, path):
        self.path = path
        self.dir = os.path.dirname(os.path.abspath(path))
        self.base = None                # as written
        self.base_path = None           # absolute
        self.base_sha = None
        self.set = {}                   # key -> value
        self.swept_keys = []            # in order of first appearance
        self.repeat = 1
        self.engine = None
        self.engine_where = None
        self.slurm = {}
        self.runs = []

    def resolve_value(self, key, value):
        """The value given to tlmmu: a relative path is made absolute (sweep file's folder)."""
        if is_path_key(key) and isinstance(value, str) and value and not os.path.isabs(value):
            return os.path.normpath(os.path.join(self.dir, value))
        return value


class _Reader:
    def __init__(self, path, keys):
        self.path = path
        self.keys = keys
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise UserError(f"{path}: cannot read the sweep file: {e.strerror}")
        self.loader = yaml.SafeLoader(text)
        try:
            self.root = self.loader.get_single_node()
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark else path
            problem = getattr(e, "problem", None) or str(e).splitlines()[0]
            raise UserError(f"{where}: not valid YAML: {problem}")

    def where(self, node):
        return f"{self.path}:{node.start_mark.line + 1}"

    def fail(self, node, message):
        raise UserError(f"{self.where(node)}: {message}")

    def scalar(self, node, what):
        if not isinstance(node, yaml.ScalarNode):
            self.fail(node, f"{what}: expected a single value, not a "
                            f"{'list' if isinstance(node, yaml.SequenceNode) else 'mapping'}")
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as e:
            self.fail(node, f"{what}: {getattr(e, 'problem', e)}")
        if value is None:
            self.fail(node, f"{what}: has no value")
        if not isinstance(value, (str, int, float, bool)):
            self.fail(node, f"{what}: expected a number, a string or true/false, "
                            f"not {type(value).__name__}")
        return value

    def mapping(self, node, what):
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"{what}: expected a mapping (key: value)")
        seen = {}
        out = []
        for knode, vnode in node.value:
            key = self.scalar(knode, what)
            key = str(key) if not isinstance(key, bool) else str(key).lower()
            if key in seen:
                self.fail(knode, f"{what}: key '{key}' given twice (first at line {seen[key]})")
            seen[key] = knode.start_mark.line + 1
            out.append((key, knode, vnode))
        return out

    def check_key(self, key, knode, what):
        if key not in self.keys:
            self.fail(knode, f"{what}: unknown key '{key}'{suggest(key, self.keys)}; "
                             "tlmmu --list-keys shows every key")

    def settings(self, node, what, allow_lists, prefix=""):
        """A mapping of configuration keys, dotted or nested -> [(key, knode, vnode)] of leaves."""
        out = []
        for key, knode, vnode in self.mapping(node, what):
            full = f"{prefix}{key}"
            if isinstance(vnode, yaml.MappingNode) and full not in self.keys:
                out.extend(self.settings(vnode, what, allow_lists, full + "."))
                continue
            self.check_key(full, knode, what)
            if isinstance(vnode, yaml.SequenceNode) and not allow_lists:
                self.fail(vnode, f"{what}: '{full}' takes a single value here "
                                 "(a list of values belongs under axes:)")
            out.append((full, knode, vnode))
        return out


def _check_path(reader, sweep, key, value, node, what):
    if is_path_key(key) and isinstance(value, str) and value:
        resolved = sweep.resolve_value(key, value)
        if not os.path.isfile(resolved):
            reader.fail(node, f"{what}: '{key}': no such file '{value}' "
                              f"(relative paths are taken from the sweep file's folder)")


def _slug(swept, seed):
    parts = []
    for key, value in swept.items():
        if key == "seed":
            continue
        text = os.path.basename(value) if isinstance(value, str) and is_path_key(key) else render(value)
        short = key.split(".", 1)[1] if key.count(".") >= 2 else key
        parts.append(f"{short}-{text}")
    parts.append(f"seed-{seed}")
    slug = re.sub(r"[^A-Za-z0-9.+=-]+", "_", "_".join(parts))
    return slug[:80].strip("_")


def run_id(sweep, run):
    """A stable id from the base as named and the settings in canonical form (sorted by key):
    the same run written in another order is the same id, so a duplicate is found. The inputs'
    contents are not in it (identity.py: they are in run.json and decide whether it is done)."""
    h = hashlib.sha256()
    h.update(f"base {sweep.base!r}\n".encode())
    for key, text in canonical(run.settings, render):
        h.update(f"set {key}={text}\n".encode())
    return f"{_slug(run.swept, run.seed)}-{h.hexdigest()[:12]}"


def load(path, keys):
    """Reads and checks a sweep file against the keys of `tlmmu --list-keys`; returns a Sweep."""
    reader = _Reader(path, keys)
    sweep = Sweep(path)
    root = reader.root
    if root is None:
        raise UserError(f"{path}: the sweep file is empty; it needs at least base:, set:, axes: or runs:")
    top = {}
    for key, knode, vnode in reader.mapping(root, "sweep file"):
        if key not in TOP_KEYS:
            reader.fail(knode, f"unknown sweep key '{key}'{suggest(key, TOP_KEYS)}; "
                               f"allowed: {', '.join(TOP_KEYS)}")
        top[key] = (knode, vnode)

    if "base" in top:
        knode, vnode = top["base"]
        base = reader.scalar(vnode, "base")
        if not isinstance(base, str):
            reader.fail(vnode, "base: expected the path of a configuration file")
        sweep.base = base
        sweep.base_path = os.path.normpath(os.path.join(sweep.dir, base))
        try:
            with open(sweep.base_path, "rb") as f:
                content = f.read()
        except OSError as e:
            reader.fail(vnode, f"base: cannot read '{base}' ({e.strerror}; relative to the sweep file's folder)")
        sweep.base_sha = hashlib.sha256(content).hexdigest()
        try:
            base_tree = yaml.safe_load(content)
        except yaml.YAMLError:
            base_tree = None   # tlmmu reports it, with its line, when the runs start
    else:
        base_tree = None

    if "engine" in top:
        knode, vnode = top["engine"]
        engine = reader.scalar(vnode, "engine")
        if engine not in ENGINES:
            reader.fail(vnode, f"engine: unknown engine '{engine}'; allowed: {', '.join(ENGINES)}")
        sweep.engine = engine
        sweep.engine_where = reader.where(vnode)

    if "slurm" in top:
        for key, knode, vnode in reader.mapping(top["slurm"][1], "slurm"):
            if key not in SLURM_KEYS:
                reader.fail(knode, f"slurm: unknown key '{key}'{suggest(key, SLURM_KEYS)}; "
                                   f"allowed: {', '.join(SLURM_KEYS)}")
            value = reader.scalar(vnode, f"slurm.{key}")
            if key == "max_parallel" and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                reader.fail(vnode, "slurm.max_parallel: expected a whole number of at least 1")
            sweep.slurm[key] = value

    if "repeat" in top:
        vnode = top["repeat"][1]
        repeat = reader.scalar(vnode, "repeat")
        if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 0:
            reader.fail(vnode, "repeat: expected a whole number of repetitions (1 or more)")
        if repeat == 0:
            reader.fail(vnode, "repeat: 0 makes a sweep of zero runs; use 1 or more")
        sweep.repeat = repeat

    set_where = {}
    if "set" in top:
        for key, knode, vnode in reader.settings(top["set"][1], "set", allow_lists=False):
            value = reader.scalar(vnode, f"set.{key}")
            _check_path(reader, sweep, key, value, vnode, "set")
            sweep.set[key] = value
            set_where[key] = knode

    if "axes" in top and "runs" in top:
        reader.fail(top["runs"][0], "runs: give either axes: (a cartesian product) or runs: (a list), not both")

    combos = [((), reader.where(root))]     # tuples of (key, value), with where they come from
    swept = []
    if "axes" in top:
        knode_axes, vnode_axes = top["axes"]
        entries = reader.settings(vnode_axes, "axes", allow_lists=True)
        if not entries:
            reader.fail(vnode_axes, "axes: no axis given; a sweep of zero runs")
        axes = []
        for key, knode, vnode in entries:
            if key in sweep.set:
                reader.fail(knode, f"axes: '{key}' is also under set: (line "
                                   f"{set_where[key].start_mark.line + 1}); give it in one place")
            if not isinstance(vnode, yaml.SequenceNode):
                reader.fail(vnode, f"axes: '{key}': expected a list of values, e.g. [16, 32, 64]")
            if not vnode.value:
                reader.fail(vnode, f"axes: '{key}': empty list of values; a sweep of zero runs")
            values = []
            for item in vnode.value:
                value = reader.scalar(item, f"axes.{key}")
                _check_path(reader, sweep, key, value, item, "axes")
                if any(render(value) == render(v) for v in values):
                    reader.fail(item, f"axes: '{key}': value {render(value)} is listed twice")
                values.append(value)
            axes.append((key, values))
            swept.append(key)
        combos = [(tuple(zip([k for k, _ in axes], prod)), reader.where(vnode_axes))
                  for prod in itertools.product(*[v for _, v in axes])]
    elif "runs" in top:
        knode_runs, vnode_runs = top["runs"]
        if not isinstance(vnode_runs, yaml.SequenceNode):
            reader.fail(vnode_runs, "runs: expected a list of runs, each a mapping of key: value")
        if not vnode_runs.value:
            reader.fail(vnode_runs, "runs: empty list; a sweep of zero runs")
        combos = []
        for i, item in enumerate(vnode_runs.value):
            pairs = []
            for key, knode, vnode in reader.settings(item, f"runs[{i}]", allow_lists=False):
                if key in sweep.set:
                    reader.fail(knode, f"runs[{i}]: '{key}' is also under set: (line "
                                       f"{set_where[key].start_mark.line + 1}); give it in one place")
                value = reader.scalar(vnode, f"runs[{i}].{key}")
                _check_path(reader, sweep, key, value, vnode, f"runs[{i}]")
                pairs.append((key, value))
                if key not in swept:
                    swept.append(key)
            combos.append((tuple(pairs), reader.where(item)))
    sweep.swept_keys = swept

    # The seed the repeats start from: swept, else set:, else the base file's, else tlmmu's default.
    default_seed = keys.get("seed")
    try:
        default_seed = int(default_seed)
    except (TypeError, ValueError):
        default_seed = 1
    if isinstance(base_tree, dict) and isinstance(base_tree.get("seed"), int):
        default_seed = base_tree["seed"]
    default_seed = sweep.set.get("seed", default_seed)
    if not isinstance(default_seed, int) or isinstance(default_seed, bool):
        raise UserError(f"{path}: seed: expected a whole number, not {default_seed!r}")

    seen = {}
    for pairs, origin in combos:
        given = dict(pairs)
        first_seed = given.get("seed", default_seed)
        if not isinstance(first_seed, int) or isinstance(first_seed, bool):
            raise UserError(f"{origin}: seed: expected a whole number, not {render(first_seed)}")
        for r in range(sweep.repeat):
            seed = first_seed + r
            settings = [(k, v) for k, v in sweep.set.items() if k != "seed"]
            settings += [(k, v) for k, v in pairs if k != "seed"]
            settings.append(("seed", seed))
            swept_values = {k: given[k] for k in swept if k in given}
            run = Run(len(sweep.runs), swept_values, settings, seed, r, origin)
            run.id = run_id(sweep, run)
            if run.id in seen:
                raise UserError(f"{origin}: this run repeats the one at {seen[run.id]} "
                                "(same settings and seed)")
            seen[run.id] = origin
            sweep.runs.append(run)
    if not sweep.runs:
        raise UserError(f"{path}: the sweep makes zero runs")
    return sweep
