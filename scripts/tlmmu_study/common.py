"""Errors, the tlmmu program, its keys and its version."""
import argparse
import difflib
import json
import os
import re
import subprocess
import sys

import yaml

SCRIPTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_DIR = os.path.dirname(SCRIPTS_DIR)


class UserError(Exception):
    """Input refused before anything ran: one line for the user, exit status 2."""

    def __init__(self, message, status=2):
        super().__init__(message)
        self.status = status


class Parser(argparse.ArgumentParser):
    """argparse whose errors are UserErrors (one line, exit 2) pointing at `scripts/PROG --help`."""

    def error(self, message):
        raise UserError(f"{message} (scripts/{self.prog} --help)")


def default_out(name):
    """A study's default output folder: $BUILD_DIR (default build) of this checkout / name."""
    return os.path.join(REPO_DIR, os.environ.get("BUILD_DIR", "build"), name)


def find_tlmmu(explicit=None):
    """The tlmmu program: --tlmmu, else $TLMMU, else $BUILD_DIR (or build)/testbench/tlmmu."""
    path = explicit or os.environ.get("TLMMU")
    if not path:
        path = os.path.join(REPO_DIR, os.environ.get("BUILD_DIR", "build"), "testbench", "tlmmu")
    path = os.path.abspath(path)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise UserError(f"tlmmu program not found at {path} (build it with scripts/build, "
                        "or name it with --tlmmu or $TLMMU)")
    return path


_DESCRIPTOR = {"default", "type", "meaning", "help", "description", "allowed", "values", "doc"}
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def _flatten(prefix, value, out):
    """A tree of defaults -> {dotted key: default}. A mapping that describes one key
    ({default: ..., type: ..., meaning: ...}, none of its values a mapping) is that key."""
    if isinstance(value, dict):
        if prefix and value and set(value) & _DESCRIPTOR and \
                not any(isinstance(v, dict) for v in value.values()):
            out[prefix] = value.get("default")
            return
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = value


def _query(tlmmu, flag):
    """tlmmu's answer to an informational flag (--list-keys...), its failure one line."""
    try:
        proc = subprocess.run([tlmmu, flag], capture_output=True, text=True, timeout=60)
    except OSError as e:
        raise UserError(f"cannot run {tlmmu} {flag}: {e}")
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise UserError(f"{tlmmu} {flag} failed (exit {proc.returncode}): {last}")
    return proc


def refusal(argv):
    """Why tlmmu refuses a command line (argv, tlmmu first: exit 2, its last line of stderr
    without the "tlmmu: error: " prefix); None when it does not refuse it."""
    proc = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if proc.returncode != 2:
        return None
    why = (proc.stderr.strip().splitlines() or ["refused"])[-1]
    prefix = "tlmmu: error: "
    return why[len(prefix):] if why.startswith(prefix) else why


def list_keys_json(tlmmu):
    """`tlmmu --list-keys-json`: {key: {type, default, allowed, meaning}}."""
    try:
        info = json.loads(_query(tlmmu, "--list-keys-json").stdout)
    except ValueError:
        info = None
    if not isinstance(info, dict):
        raise UserError(f"{tlmmu} --list-keys-json did not print a JSON object")
    return info


def allowed_values(tlmmu, key):
    """The values tlmmu accepts for a key of enumerated values, from `tlmmu --list-keys-json`
    ({key: {allowed: "a, b", ...}}), so that a study can tell which choices this build has."""
    entry = list_keys_json(tlmmu).get(key)
    if not isinstance(entry, dict) or not isinstance(entry.get("allowed"), str):
        raise UserError(f"{tlmmu} --list-keys-json: no allowed values for '{key}'")
    return [v.strip() for v in entry["allowed"].split(",") if v.strip()]


def list_keys(tlmmu):
    """Every configuration key tlmmu accepts, from `tlmmu --list-keys` (key -> default).

    Today it prints the defaults as a JSON tree; a YAML tree or a 'key ...' line per key (the
    first word of each line) are read too."""
    proc = _query(tlmmu, "--list-keys")
    keys = {}
    tree = None
    try:
        tree = json.loads(proc.stdout)
    except ValueError:
        try:
            tree = yaml.safe_load(proc.stdout)
        except yaml.YAMLError:
            tree = None
    if isinstance(tree, dict):
        _flatten("", tree, keys)
    else:
        for line in proc.stdout.splitlines():
            words = line.replace("|", " ").replace("`", " ").split()
            if words and _KEY.match(words[0]):
                keys[words[0]] = words[1] if len(words) > 1 else None
    if not keys:
        raise UserError(f"{tlmmu} --list-keys printed no keys")
    return keys


def int_list(text, what):
    """Whole numbers separated by commas (or spaces) of an option's value; anything else is a
    UserError naming the option `what`."""
    try:
        values = [int(v) for v in text.replace(",", " ").split()]
    except ValueError:
        raise UserError(f"{what}: expected whole numbers separated by commas, got '{text}'")
    if not values:
        raise UserError(f"{what}: empty list")
    return values


def suggest(word, choices):
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def tlmmu_version(tlmmu):
    """`tlmmu --version` when it exists, else `git describe --always --dirty` of this checkout."""
    try:
        proc = subprocess.run([tlmmu, "--version"], capture_output=True, text=True, timeout=30)
        if proc.returncode == 0 and proc.stdout.strip():
            return proc.stdout.strip().splitlines()[0]
    except OSError:
        pass
    try:
        proc = subprocess.run(["git", "-C", REPO_DIR, "describe", "--always", "--dirty"],
                              capture_output=True, text=True, timeout=30)
        if proc.returncode == 0 and proc.stdout.strip():
            return "git " + proc.stdout.strip()
    except OSError:
        pass
    return "unknown"


def write_atomic(path, text):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.replace(tmp, path)


def write_json(path, data):
    write_atomic(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def guard(main, prog):
    """Runs main(); a UserError is one line and its status, anything unexpected one line and 1.
    TLMMU_DEBUG=1 shows the traceback."""
    try:
        sys.exit(main())
    except UserError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        sys.exit(e.status)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
    except Exception as e:  # pylint: disable=broad-except
        if os.environ.get("TLMMU_DEBUG"):
            raise
        print(f"{prog}: internal error: {type(e).__name__}: {e} (TLMMU_DEBUG=1 shows where)",
              file=sys.stderr)
        sys.exit(1)
