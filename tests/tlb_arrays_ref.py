#!/usr/bin/env python3
"""Reference model of a TLB level made of several arrays (tlb.<level>.arrays), independent of
the C++ Tlb: it shares no code with it, only the rules (README, models/mmu/Tlb.h):

- each array holds its page sizes; a set-associative array indexes each size's own set,
  set = (vpn >> (9 * level)) & (sets - 1) (x86_64: 4 KiB level 0, 2 MiB level 1, 1 GiB level 2),
  a fully associative one compares every entry at its own size;
- a lookup probes every array (first hit in array order answers); a hit makes its way most
  recently used (LRU);
- a miss fills the array holding the access's page size (none: an uncacheable fill), into the
  lowest invalid way of the set, else its least recently used way.

Commands (Python 3, standard library only):
  accesses TRACE OUT        the access list of a lackey trace (plain, .gz or .xz), by RULE below
  simulate CONFIG ACCESSES  the statistics of CONFIG (JSON, as the driver reads it) on a list
  check --driver BIN --trace TRACE
                            runs the C++ Tlb (BIN: tests/unit/tlb_arrays_driver) and this model
                            on TRACE's access list for each configuration of CONFIGS, and fails
                            unless they agree exactly (hits and misses per array, in total,
                            uncacheable fills)

The access list: one access per line, "VPN SIZE": the base-page (4 KiB) number in hex and the
size in bytes of the page that holds it.

RULE (how a trace's addresses are given mixed page sizes, every address of one page alike):
  - an address in a 1 GiB region whose number is 3 mod 4 (the stack, 0x1fc0000000..) is in a
    1 GiB page at its own address;
  - otherwise, in a 16 KiB chunk whose number (va >> 14) is divisible by 3 it is in a 2 MiB page
    of its own: the chunk is moved to 2^40 + chunk * 2 MiB, keeping its offset (so the trace's
    reuse is kept and its hot chunks become many huge pages);
  - otherwise it is in a 4 KiB page at its own address.
tests/data/xz_window.lackey.xz (records 12,000,001..12,200,000 of
`scripts/trace-program -- xz -1 -c IN`, IN the first 200000 bytes of
`cat /usr/share/common-licenses/*`) gives 150663 accesses in 258 base pages, 38395 in 58 huge
pages and 10942 in one 1 GiB page.
"""
import argparse
import gzip
import json
import lzma
import subprocess
import sys
import tempfile

PAGE_SHIFT, INDEX_BITS = 12, 9  # x86_64
SIZE_LEVEL = {1 << (PAGE_SHIFT + INDEX_BITS * level): level for level in range(3)}

# The configurations checked: Intel's split L1 DTLB and smaller ones that miss often, a shared
# 4 KiB / 2 MiB array (hash-rehash), AMD's fully associative array of every size, the single
# form, and a level that holds no 1 GiB page.
CONFIGS = {
    "intel_l1d": {"arrays": [{"page_sizes": [4096], "entries": 64, "ways": 4},
                             {"page_sizes": [2 << 20], "entries": 32, "ways": 4},
                             {"page_sizes": [1 << 30], "entries": 4, "ways": 4}]},
    "small_split": {"arrays": [{"page_sizes": [4096], "entries": 16, "ways": 4},
                               {"page_sizes": [2 << 20], "entries": 8, "ways": 2},
                               {"page_sizes": [1 << 30], "entries": 1, "ways": 1}]},
    "shared_4k_2m": {"arrays": [{"page_sizes": [4096, 2 << 20], "entries": 64, "ways": 4},
                                {"page_sizes": [1 << 30], "entries": 2, "ways": 2}]},
    "amd_fully_assoc": {"arrays": [{"page_sizes": [4096, 2 << 20, 1 << 30], "entries": 32,
                                    "ways": 32}]},
    "single_form": {"entries": 64, "ways": 4},
    "no_1g": {"arrays": [{"page_sizes": [4096], "entries": 32, "ways": 4},
                         {"page_sizes": [2 << 20], "entries": 16, "ways": 16}]},
}


def open_text(path):
    with open(path, "rb") as f:
        magic = f.read(6)
    if magic.startswith(b"\x1f\x8b"):
        return gzip.open(path, "rt")
    if magic.startswith(b"\xfd7zXZ"):
        return lzma.open(path, "rt")
    return open(path)


def page_of(va):
    """(base-page vpn, page size) of va under RULE."""
    if (va >> 30) % 4 == 3:
        return va >> PAGE_SHIFT, 1 << 30
    chunk = va >> 14
    if chunk % 3 == 0:
        moved = (1 << 40) + (chunk << 21) + (va & 0x3FFF)
        return moved >> PAGE_SHIFT, 2 << 20
    return va >> PAGE_SHIFT, 4096


def lackey_accesses(path):
    """Every I, L, S and M record of a lackey trace, in order (an M is one access)."""
    with open_text(path) as f:
        for line in f:
            if line.startswith("==") or len(line) < 3 or line[0] not in " I":
                continue
            kind, _, rest = line.strip().partition(" ")
            if kind not in ("I", "L", "S", "M"):
                continue
            yield page_of(int(rest.strip().split(",")[0], 16))


class Array:
    def __init__(self, levels, entries, ways):
        self.levels = sorted(levels)
        self.sets, self.ways = entries // ways, ways
        self.tags = [[None] * ways for _ in range(self.sets)]  # (aligned vpn, level)
        self.stamp = [[0] * ways for _ in range(self.sets)]
        self.clock = 0
        self.hits = self.misses = 0

    def _set(self, vpn, level):
        return 0 if self.sets == 1 else (vpn >> (INDEX_BITS * level)) & (self.sets - 1)

    def lookup(self, vpn):
        probes = [None] if self.sets == 1 else self.levels
        for level in probes:
            s = self._set(vpn, 0 if level is None else level)
            for w, tag in enumerate(self.tags[s]):
                if tag is None or (level is not None and tag[1] != level):
                    continue
                mask = (1 << (INDEX_BITS * tag[1])) - 1
                if tag[0] == vpn & ~mask:
                    self.clock += 1
                    self.stamp[s][w] = self.clock
                    return True
        return False

    def fill(self, vpn, level):
        aligned = vpn & ~((1 << (INDEX_BITS * level)) - 1)
        s = self._set(aligned, level)
        tags = self.tags[s]
        way = tags.index(None) if None in tags else min(range(self.ways),
                                                         key=lambda w: self.stamp[s][w])
        tags[way] = (aligned, level)
        self.clock += 1
        self.stamp[s][way] = self.clock


def simulate(config, accesses):
    specs = config.get("arrays") or [{"entries": config["entries"], "ways": config["ways"]}]
    arrays = [Array([SIZE_LEVEL[size] for size in a.get("page_sizes", SIZE_LEVEL)],
                    a["entries"], a["ways"]) for a in specs]
    holder = {level: a for a in arrays for level in a.levels}
    hits = misses = uncacheable = 0
    for vpn, size in accesses:
        level = SIZE_LEVEL[size]
        hit = next((a for a in arrays if a.lookup(vpn)), None)
        if hit:
            hit.hits += 1
            hits += 1
            continue
        misses += 1
        if level not in holder:
            uncacheable += 1
            continue
        holder[level].misses += 1
        holder[level].fill(vpn, level)
    return {"accesses": hits + misses, "hits": hits, "misses": misses,
            "uncacheable_fills": uncacheable,
            "arrays": [{"hits": a.hits, "misses": a.misses} for a in arrays]}


def read_accesses(path):
    with open(path) as f:
        return [(int(v, 16), int(s)) for v, s in (line.split() for line in f)]


def write_accesses(accesses, path):
    with open(path, "w") as f:
        for vpn, size in accesses:
            f.write(f"{vpn:x} {size}\n")


def check(driver, trace):
    accesses = list(lackey_accesses(trace))
    per_size = {size: sum(1 for _, s in accesses if s == size) for size in SIZE_LEVEL}
    print(f"{trace}: {len(accesses)} accesses; per page size {per_size}")
    if min(per_size.values()) == 0:
        sys.exit("the access list does not mix every page size")
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        list_path = f"{tmp}/accesses.txt"
        write_accesses(accesses, list_path)
        for name, config in CONFIGS.items():
            config_path = f"{tmp}/{name}.json"
            with open(config_path, "w") as f:
                json.dump(config, f)
            out = subprocess.run([driver, config_path, list_path], check=True,
                                 capture_output=True, text=True).stdout
            cpp, ref = json.loads(out), simulate(config, accesses)
            same = cpp == ref
            failed |= not same
            print(f"{name}: {'agree' if same else 'DIFFER'}: {json.dumps(ref)}")
            if not same:
                print(f"  C++ Tlb: {json.dumps(cpp)}")
            # An agreement on a stream that only hits or only misses would prove little.
            if ref["misses"] == 0 or ref["hits"] == 0:
                sys.exit(f"{name}: the stream exercises nothing")
    if failed:
        sys.exit("the C++ Tlb and the reference model differ")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("accesses")
    a.add_argument("trace")
    a.add_argument("out")
    s = sub.add_parser("simulate")
    s.add_argument("config")
    s.add_argument("accesses")
    c = sub.add_parser("check")
    c.add_argument("--driver", required=True)
    c.add_argument("--trace", required=True)
    args = p.parse_args()
    if args.command == "accesses":
        write_accesses(lackey_accesses(args.trace), args.out)
    elif args.command == "simulate":
        with open(args.config) as f:
            config = json.load(f)
        print(json.dumps(simulate(config, read_accesses(args.accesses))))
    else:
        check(args.driver, args.trace)


if __name__ == "__main__":
    main()
