"""An output folder (--out of scripts/sweep and the studies): made, checked writable, and held by
one sweep at a time.

The lock is DIR/.sweep.lock, held with fcntl.flock (exclusive) from before the first run folder
is touched until results.csv is written. A second sweep into the same folder does not wait: it
exits 2 with one line naming the holder (pid, host, command, start time; the holder writes them
into the lock file). A waiting sweep would start on a folder whose runs the first has just
rewritten, and nobody would see why it sat there. The lock file is never removed: removing a
flock'd file lets a third sweep lock a new file of the same name while the second still holds
the old one. The kernel drops the lock when the holder exits, even if it is killed, so a stale
lock file means nothing."""
import contextlib
import datetime
import fcntl
import json
import os
import socket
import sys

from .common import UserError

LOCK_NAME = ".sweep.lock"

# Folders this process holds: a study locks its folder, then runs scripts/sweep's main in the
# same process on it. flock locks belong to an open file, so locking again from a second open
# would block this same process; it re-enters instead.
_held = {}


def check_folder(path, flag="--out"):
    """The absolute path, unless it names something that is not a folder."""
    full = os.path.abspath(path)
    if os.path.exists(full) and not os.path.isdir(full):
        raise UserError(f"{flag}: '{path}' exists and is not a folder")
    return full


def prepare(path, flag="--out"):
    """Makes the folder (and its parents) and checks a file can be created in it; the absolute
    path. A failure is one line naming the option, the path and why (exit 2)."""
    full = check_folder(path, flag)
    try:
        os.makedirs(full, exist_ok=True)
        probe = os.path.join(full, f".write-test.{os.getpid()}")
        with open(probe, "w", encoding="utf-8"):
            pass
        os.remove(probe)
    except OSError as e:
        where = f" ({e.filename})" if e.filename and os.path.abspath(e.filename) != full else ""
        raise UserError(f"{flag}: cannot write into '{path}': {e.strerror}{where}")
    return full


def holder(path):
    """Who holds the folder's lock, as one phrase, from the lock file ('' if unknown)."""
    try:
        with open(os.path.join(path, LOCK_NAME), encoding="utf-8") as f:
            info = json.load(f)
        return (f"{info['command']} (pid {info['pid']} on {info['host']}, since "
                f"{info['started']})")
    except (OSError, ValueError, KeyError, TypeError):
        return "another sweep"   # it has the lock but has not written its name yet


@contextlib.contextmanager
def locked(path, what):
    """Holds `path`'s lock for the block; `what` (the program) and its arguments name this
    sweep in the lock file."""
    key = os.path.realpath(path)
    if key in _held:
        yield
        return
    fd = os.open(os.path.join(path, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise UserError(f"--out: '{path}' is in use by {holder(path)}; wait for it to finish "
                        "or choose another --out")
    try:
        info = {"command": " ".join([what] + sys.argv[1:]), "pid": os.getpid(),
                "host": socket.gethostname(),
                "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
        _held[key] = fd
        yield
    finally:
        _held.pop(key, None)
        os.close(fd)     # releases the lock
