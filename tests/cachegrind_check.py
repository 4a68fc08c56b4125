#!/usr/bin/env python3
"""The cache hierarchy against valgrind's cachegrind on two real programs (gzip -c of a text
made here from a fixed seed, so every machine compresses the same bytes; ls -l of a folder of
files made here, whose many unaligned string accesses straddle lines): cachegrind simulates
D1 and LL with the geometry below; lackey traces the same run, and tests/unit/cache_check runs
the trace's data references through an L1D + LLC hierarchy of the same geometry. Both runs have
ASLR off (setarch -R), so they see the same addresses. Passes when D1 and LLd misses agree
within 2% (cache_check.cpp says what is matched and what is not); exit 77 (skip) when valgrind,
setarch, gzip or ls is missing.

With --tlmmu, the same trace also runs through the whole model (one core, the trace's pages
prefaulted, walker.cache_level memory so that only data enters the caches, cache.data on, an
L1D and an LLC of the same geometry, no L2): its L1D and LLC misses must agree within 2% too.
(Its caches are physically indexed: the D1's sets lie inside the page offset, so they see what
cachegrind sees; the LL's misses here are nearly all first touches, which no mapping changes.)

usage: cachegrind_check.py --driver PATH/cache_check [--tlmmu PATH/tlmmu]
"""
import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

D1 = "32768,8,64"
LL = "1048576,16,64"
I1 = "32768,8,64"  # given explicitly: I1 misses go to cachegrind's LL, whatever the host has
TOLERANCE = 0.02
INPUT_BYTES = 40000  # about 2 million data references: a lackey run of ~20 s


def make_input(path):
    rng = random.Random(17)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
             for _ in range(3000)]
    text = " ".join(rng.choice(words) for _ in range(INPUT_BYTES // 4))
    path.write_text(text[:INPUT_BYTES])


def make_folder(path):
    rng = random.Random(18)
    path.mkdir()
    for i in range(400):
        name = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz_.-") for _ in range(rng.randint(3, 40)))
        (path / f"{i:03d}{name}").write_text("x" * rng.randint(0, 300))


def cachegrind(program, cwd):
    cmd = ["setarch", "-R", "valgrind", "--tool=cachegrind", "--cache-sim=yes", "--I1=" + I1,
           "--D1=" + D1, "--LL=" + LL, "--cachegrind-out-file=/dev/null"] + program
    run = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True, check=True)

    def count(label):
        m = re.search(r"^==\d+== " + re.escape(label) + r":\s+([\d,]+)", run.stderr, re.M)
        if not m:
            sys.exit(f"cachegrind printed no '{label}':\n{run.stderr}")
        return int(m.group(1).replace(",", ""))

    return {"refs": count("D   refs"), "d1_misses": count("D1  misses"),
            "ll_misses": count("LLd misses")}


def lackey_trace(program, cwd, trace):
    cmd = ["setarch", "-R", "valgrind", "--tool=lackey", "--trace-mem=yes",
           "--log-file=" + str(trace)] + program
    subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, check=True)


def geometry(spec):
    size, ways, line = spec.split(",")
    return size, ways, line


def platform_misses(tlmmu, work):
    """The trace through the whole model: its L1D and LLC misses."""
    d_size, d_ways, line = geometry(D1)
    l_size, l_ways, _ = geometry(LL)
    sets = ["workload.format=lackey", f"workload.trace={work / 'trace.txt'}",
            "workload.prefault=true", "walker.cache_level=memory", "cache.data=true",
            f"cache.l1d.size={d_size}", f"cache.l1d.ways={d_ways}", f"cache.l1d.line_bytes={line}",
            f"cache.llc.size={l_size}", f"cache.llc.ways={l_ways}", f"cache.llc.line_bytes={line}"]
    (work / "platform.yaml").write_text("cores: 1\n")
    cmd = [tlmmu, "-q", "--config", str(work / "platform.yaml"), "--stats-json",
           str(work / "stats.json")]
    for s in sets:
        cmd += ["--set", s]
    subprocess.run(cmd, cwd=work, check=True)
    stats = json.loads((work / "stats.json").read_text())
    return {"d1_misses": stats["cores"][0]["cache"]["l1d"]["misses"],
            "ll_misses": stats["cache"]["llc"]["misses"]}


def within(got, expected, keys, label):
    ok = True
    for key in keys:
        error = abs(got[key] - expected[key]) / max(expected[key], 1)
        good = error <= (0.001 if key == "refs" else TOLERANCE)
        ok &= good
        print(f"  {label} {key}: {got[key]} vs cachegrind {expected[key]} ({100 * error:.2f}%)"
              f" {'ok' if good else 'FAIL'}")
    return ok


def agrees(program, work, driver, tlmmu):
    expected = cachegrind(program, work)
    lackey_trace(program, work, work / "trace.txt")
    out = subprocess.run([driver, "--D1=" + D1, "--LL=" + LL, str(work / "trace.txt")],
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    got = json.loads(out)
    print(Path(program[0]).name, *program[1:], "- cachegrind:", expected, "hierarchy:", got)
    ok = within(got, expected, ("refs", "d1_misses", "ll_misses"), "hierarchy")
    if tlmmu:
        model = platform_misses(tlmmu, work)
        print("  tlmmu:", model)
        ok &= within(model, expected, ("d1_misses", "ll_misses"), "tlmmu")
    (work / "trace.txt").unlink()
    return ok


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--driver", required=True)
    parser.add_argument("--tlmmu", help="also run the trace through the whole model")
    args = parser.parse_args()
    for tool in ("valgrind", "setarch", "gzip", "ls"):
        if not shutil.which(tool):
            print(f"skipped: {tool} is not installed")
            return 77
    failed = False
    with tempfile.TemporaryDirectory(prefix="cachegrind_check.") as tmp:
        work = Path(tmp)
        make_input(work / "input.txt")
        make_folder(work / "folder")
        for program in ([shutil.which("gzip"), "-c", "input.txt"],
                        [shutil.which("ls"), "-l", "folder"]):
            failed |= not agrees(program, work, args.driver, args.tlmmu)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
