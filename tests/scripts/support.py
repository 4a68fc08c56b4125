"""Helpers of the tests of scripts/sweep and scripts/plot."""
import csv
import json
import os
import shutil
import stat
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SWEEP = os.path.join(REPO, "scripts", "sweep")
PLOT = os.path.join(REPO, "scripts", "plot")
L2_PWC = os.path.join(REPO, "configs", "sweeps", "l2_pwc.yaml")
SINGLE = os.path.join(REPO, "configs", "single.yaml")


def tlmmu():
    path = os.environ.get("TLMMU") or os.path.join(REPO, "build", "testbench", "tlmmu")
    if not os.access(path, os.X_OK):
        raise unittest.SkipTest(f"tlmmu not built at {path}")
    return path


class TempDir:
    def __init__(self, name):
        self.path = tempfile.mkdtemp(prefix=f"tlmmu-{name}-")

    def join(self, *parts):
        return os.path.join(self.path, *parts)

    def write(self, name, text):
        path = self.join(name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def remove(self):
        shutil.rmtree(self.path, ignore_errors=True)


class Counter:
    """A tlmmu wrapper that logs every simulation it starts (calls with --stats-json)."""

    def __init__(self, tmp):
        self.log = tmp.join("tlmmu-calls.log")
        self.path = tmp.join("tlmmu-counting")
        with open(self.path, "w", encoding="utf-8") as f:
            f.write(f'#!/bin/sh\ncase "$*" in *--stats-json*) echo "$*" >> "{self.log}" ;; esac\n'
                    f'exec "{tlmmu()}" "$@"\n')
        os.chmod(self.path, os.stat(self.path).st_mode | stat.S_IXUSR)

    def runs(self):
        try:
            with open(self.log, encoding="utf-8") as f:
                return len(f.read().splitlines())
        except FileNotFoundError:
            return 0


def run(argv, env=None, timeout=600):
    full = dict(os.environ)
    full.setdefault("TLMMU", tlmmu())
    full.update(env or {})
    return subprocess.run(argv, capture_output=True, text=True, env=full, timeout=timeout)


def sweep(*args, env=None, timeout=600):
    return run([SWEEP, *args], env=env, timeout=timeout)


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def flatten(node, prefix="", out=None):
    """stats.json as {--stats-csv path: value}: a.b, a[0].b."""
    out = {} if out is None else out
    if isinstance(node, dict):
        for k, v in node.items():
            flatten(v, f"{prefix}.{k}" if prefix else k, out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            flatten(v, f"{prefix}[{i}]", out)
    else:
        out[prefix] = node
    return out


def flatten_dicts(node, prefix="", out=None):
    """Every mapping of a stats.json by its path (a histogram is one with 'buckets')."""
    out = {} if out is None else out
    if isinstance(node, dict):
        if prefix:
            out[prefix] = node
        for k, v in node.items():
            flatten_dicts(v, f"{prefix}.{k}" if prefix else k, out)
    return out


def same_value(text, value):
    """A results.csv cell against the stats.json value it comes from."""
    if isinstance(value, bool):
        return text == ("true" if value else "false")
    if isinstance(value, (int, float)):
        try:
            return float(text) == float(value)
        except ValueError:
            return False
    return text == ("" if value is None else str(value))


def close(a, b):
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
