"""A run's directory, and running one run (the per-run command both engines execute).

DIR/runs/<id>/
    run.json      what decides the run: id, base, settings, seed, repeat, the command, the version
    command.sh    the exact command (cd + tlmmu ...), to rerun it by hand
    stdout.txt, stderr.txt, stats.json, stats.csv    tlmmu's outputs
    stats_list.json   tlmmu --list-stats-json of the run's configuration: each statistic's kind
                  and additive flag (how results.csv combines it over the cores)
    config.yaml   the resolved configuration, defaults included (from stats.json's config)
    done.json     written last: exit_code, error (last stderr line), host_seconds
    engine.json   which engine ran it (and its Slurm job and state)
"""
import os
import shlex
import signal
import subprocess
import sys
import time

import yaml

from .common import read_json, write_atomic, write_json
from .identity import canonical
from .sweepfile import render

OUTPUTS = ("stdout.txt", "stderr.txt", "stats.json", "stats.csv", "stats_list.json", "config.yaml",
           "done.json", "engine.json")
_OUTPUT_ARGS = ["--stats-json", "stats.json", "--stats-csv", "stats.csv"]


def config_argv(sweep, run):
    """tlmmu's arguments that give the run's configuration: --config BASE --set k=v ..."""
    argv = ["--config", sweep.base_path] if sweep.base_path else []
    for key, value in run.settings:
        argv += ["--set", f"{key}={render(sweep.resolve_value(key, value))}"]
    return argv


def command(tlmmu, sweep, run):
    return [tlmmu, *config_argv(sweep, run), *_OUTPUT_ARGS]


def write_catalogue(path, description):
    """Writes the run's stats_list.json (tlmmu --list-stats-json of its configuration, in its
    folder as the run itself); returns "" or the error in one line."""
    cmd = description.get("command") or []
    if cmd[-len(_OUTPUT_ARGS):] != _OUTPUT_ARGS:
        return "run.json: not a command this sweep wrote"
    try:
        proc = subprocess.run(cmd[:-len(_OUTPUT_ARGS)] + ["--list-stats-json"], cwd=path,
                              capture_output=True, stdin=subprocess.DEVNULL)
    except OSError as e:
        return f"cannot start {cmd[0]}: {e.strerror}"
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        return "tlmmu --list-stats-json: " + (err[-1] if err else f"exit status {proc.returncode}")
    write_atomic(os.path.join(path, "stats_list.json"), proc.stdout.decode("utf-8"))
    return ""


def describe(tlmmu, sweep, run, version, inputs):
    """run.json; `inputs` an identity.Inputs that finds the files the run reads."""
    return {
        "id": run.id,
        "sweep_file": os.path.abspath(sweep.path),
        "base": sweep.base,
        "base_sha256": sweep.base_sha,
        "settings": [[k, render(v)] for k, v in run.settings],
        "swept": {k: render(v) for k, v in run.swept.items()},
        "seed": run.seed,
        "repeat": run.repeat_index,
        "command": command(tlmmu, sweep, run),
        "version": version,
        "identity": {"settings": canonical(run.settings, render),
                     "inputs": inputs.of(config_argv(sweep, run))},
    }


def run_dir(out, run):
    return os.path.join(out, "runs", run.id)


def is_done(path, description):
    """A finished, successful run whose identity (settings and the contents of the files it
    reads: identity.py) is that of the run asked for now."""
    done = read_json(os.path.join(path, "done.json"))
    old = read_json(os.path.join(path, "run.json"))
    return (done is not None and done.get("exit_code") == 0 and old is not None
            and old.get("identity") == description["identity"])


def remove_outputs(path):
    """A run's outputs of an earlier start gone, so that none is taken for this one's."""
    for name in OUTPUTS:
        try:
            os.remove(os.path.join(path, name))
        except FileNotFoundError:
            pass


def prepare(path, description):
    """Makes the run's directory ready to run: run.json and command.sh written, old outputs gone."""
    os.makedirs(path, exist_ok=True)
    remove_outputs(path)
    write_json(os.path.join(path, "run.json"), description)
    write_atomic(os.path.join(path, "command.sh"),
                 "#!/bin/sh\n# tlmmu " + description["version"] + "\n"
                 f"cd {shlex.quote(os.path.abspath(path))} && exec {shlex.join(description['command'])}\n")


def last_line(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = [l.strip() for l in f.read().splitlines() if l.strip()]
    except OSError:
        return ""
    return lines[-1] if lines else ""


def run_one(path):
    """Runs the run in `path` (its run.json), writes its outputs and done.json; returns the exit
    code (tlmmu's, 128+N if killed by signal N, 127 if it could not start)."""
    path = os.path.abspath(path)
    description = read_json(os.path.join(path, "run.json"))
    if description is None:
        print(f"sweep: {path}/run.json missing or unreadable", file=sys.stderr)
        return 2
    remove_outputs(path)
    start = time.monotonic()
    error = ""
    with open(os.path.join(path, "stdout.txt"), "wb") as out, \
            open(os.path.join(path, "stderr.txt"), "wb") as err:
        try:
            code = subprocess.run(description["command"], cwd=path, stdout=out, stderr=err,
                                  stdin=subprocess.DEVNULL).returncode
        except OSError as e:
            code, error = 127, f"cannot start {description['command'][0]}: {e.strerror}"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "?"
        code, error = 128 - code, f"killed by signal {-code} ({name})"
    if code != 0 and not error:
        error = last_line(os.path.join(path, "stderr.txt")) or f"exit status {code}, nothing on stderr"
    if code == 0:
        stats = read_json(os.path.join(path, "stats.json"))
        if stats is None or not os.path.isfile(os.path.join(path, "stats.csv")):
            code, error = 1, "tlmmu exited 0 but wrote no readable stats.json/stats.csv"
        else:
            if isinstance(stats.get("config"), dict):
                write_atomic(os.path.join(path, "config.yaml"),
                             "# resolved configuration of this run (defaults included)\n"
                             + yaml.safe_dump(stats["config"], sort_keys=True))
            error = write_catalogue(path, description)
            code = 1 if error else 0
    write_json(os.path.join(path, "done.json"), {
        "exit_code": code, "error": error, "host_seconds": round(time.monotonic() - start, 3)})
    return code
