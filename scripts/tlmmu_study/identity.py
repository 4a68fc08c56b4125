"""A run's identity: what decides whether a finished run still answers for the run asked now.

  settings  the run's --set keys and values in a canonical form: sorted by key, each value as
            render() writes it, so the same run written with its keys in another order (or
            nested instead of dotted) is the same run;
  inputs    {absolute path: SHA-256 of its content} of every file the run reads: the base
            configuration, each file-valued key of the resolved configuration (`tlmmu
            --print-config` with the run's settings: the scenario, the trace, with tlmmu's own
            resolution of relative paths), and the traces a scenario's threads name (relative to
            the scenario's folder, as tlmmu takes them).
A finished run is reused only if both are unchanged (runs.is_done); editing a trace in place
reruns the runs that read it. The run's folder name (sweepfile.run_id) hashes the settings only,
so an edited input reruns a run in its own folder rather than leaving the old one behind.
"""
import hashlib
import os
import subprocess

import yaml

from .common import list_keys_json
from .stats import flatten

# File-valued keys tlmmu writes rather than reads (an RTL TLB's VCD): never inputs, or every run
# would change its own identity. `tlmmu --list-keys-json` gives no direction for a "path" key.
OUTPUT_KEY_SUFFIXES = (".waveform",)


def canonical(settings, render):
    """[[key, text]] sorted by key: the order a run's keys are written in does not matter."""
    return sorted([k, render(v)] for k, v in settings)


def file_sha256(path, _cache={}):  # pylint: disable=dangerous-default-value
    """The hex SHA-256 of a file's content, or 'missing: WHY'; cached per (path, size, mtime)
    because many runs of a sweep share one trace."""
    try:
        st = os.stat(path)
    except OSError as e:
        return f"missing: {e.strerror}"
    key = (path, st.st_size, st.st_mtime_ns)
    if key not in _cache:
        h = hashlib.sha256()
        try:
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
        except OSError as e:
            return f"missing: {e.strerror}"
        _cache[key] = h.hexdigest()
    return _cache[key]


def _scenario_traces(path):
    """The trace files a scenario's threads name (any `trace:` under a workload), absolute."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
    except (OSError, yaml.YAMLError):
        return []        # tlmmu refuses it when the run starts; its own hash is in the inputs
    found = []

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "trace" and isinstance(v, str) and v:
                    found.append(os.path.normpath(os.path.join(os.path.dirname(path), v)))
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(doc)
    return found


class Inputs:
    """The files one tlmmu's runs read; one --list-keys-json for the sweep, one --print-config
    per run (about 20 ms each)."""

    def __init__(self, tlmmu):
        self.tlmmu = tlmmu
        info = list_keys_json(tlmmu)
        self.path_keys = sorted(k for k, v in info.items()
                                if isinstance(v, dict) and v.get("type") == "path"
                                and not k.endswith(OUTPUT_KEY_SUFFIXES))

    def of(self, config_argv):
        """{path: sha256} of the files a run reads; config_argv: tlmmu's arguments without the
        outputs (--config FILE --set k=v ...). If tlmmu refuses the configuration, the run will
        fail with its message; its inputs are then only the files named on the command line,
        and 'refused' says why."""
        files = []
        if "--config" in config_argv:
            files.append(os.path.abspath(config_argv[config_argv.index("--config") + 1]))
        proc = subprocess.run([self.tlmmu, *config_argv, "--print-config"], capture_output=True,
                              text=True, stdin=subprocess.DEVNULL)
        refused = None
        resolved = {}
        if proc.returncode == 0:
            try:
                resolved = flatten(yaml.safe_load(proc.stdout) or {})
            except yaml.YAMLError:
                refused = "tlmmu --print-config printed no YAML"
        else:
            refused = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
        for key in self.path_keys:
            value = resolved.get(key)
            if isinstance(value, str) and value:
                path = os.path.abspath(value)
                files.append(path)
                if key.endswith("scenario"):
                    files += _scenario_traces(path)
        out = {p: file_sha256(p) for p in sorted(set(files))}
        if refused:
            out["refused"] = refused
        return out
