#!/usr/bin/python3
"""Property test: on seeded random scenarios (processes, threads, forks, shared memory, discards,
maps and unmaps, swapping under a memory limit, 1-4 cores, the checker and checked mode on),
every run succeeds with no violation and no data mismatch, and every total equals the sum of its
parts (the statistics never contradict each other).

  stats_consistency.py TLMMU [--runs N] [--seed S]     exit 0 when every run holds
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

import yaml

DATA = 0x10000000
SHARED = 0x20000000
EXTRA = 0x50000000


def workload(rng, footprint, base):
    return {"pattern": rng.choice(["random", "stream", "zipf"]), "footprint": footprint,
            "data_base": base, "instructions": rng.randint(5, 30) * 1000,
            "refs_per_instruction": rng.choice([0.2, 0.4, 0.6]),
            "write_fraction": rng.choice([0.1, 0.3, 0.5]), "checked": True}


def events(rng, footprint, instructions, extra=EXTRA):
    out = []
    for _ in range(rng.randint(0, 4) if instructions >= 12000 else 0):
        # Anywhere in the run, several events at one instruction included (a discard and a
        # fork at once write-protect nothing: that found a checker that wanted a flush).
        at = rng.randint(1, instructions // 1000 - 1) * 1000
        kind = rng.choice(["discard", "discard", "protect", "map_unmap", "protect_extra"])
        if kind == "discard":
            size = rng.choice([4096, 16384, footprint])
            start = DATA + rng.randrange(0, footprint // size) * size
            ev = {"at": at, "discard": {"start": start, "size": size}}
            count = min(rng.randint(2, 4), (instructions - 1 - at) // 2000 + 1)
            if rng.random() < 0.3 and count >= 2:  # every occurrence within the run
                ev.update({"every": 2000, "count": count})
            out.append(ev)
        elif kind == "protect":  # the same rights again: the firmware's path, no kill
            out.append({"at": at, "protect": {"start": DATA, "size": footprint, "prot": "rw"}})
        elif kind == "protect_extra":  # mapped or not (ENOMEM: counted, the task runs on)
            out.append({"at": at, "protect": {"start": extra, "size": 65536, "prot": "r"}})
        else:
            out.append({"at": at, "map": {"start": extra, "size": 65536, "prot": "rw"}})
            out.append({"at": at + 500, "unmap": {"start": extra, "size": 65536}})
    out.sort(key=lambda e: (e["at"], "unmap" in e))
    # map/unmap pairs of different draws must not overlap: keep the first of each overlap
    kept, mapped_until = [], -1
    for e in out:
        if "map" in e:
            if e["at"] <= mapped_until:
                continue
            mapped_until = e["at"] + 500
        if "unmap" in e and not any("map" in k and k["at"] + 500 == e["at"] for k in kept):
            continue
        kept.append(e)
    return kept


def scenario(rng, cores):
    shared = rng.random() < 0.5
    doc = {"processes": []}
    if shared:
        doc["shared"] = [{"name": "buf", "size": 65536}]
    for i in range(rng.randint(1, 4)):
        footprint = rng.choice([16384, 65536, 262144])
        vmas = [{"start": 0x400000, "size": 65536, "prot": "rx"},
                {"start": DATA, "size": footprint, "prot": "rw"}]
        if shared:
            vmas.append({"start": SHARED, "size": 65536, "prot": "rw", "shared": "buf"})
        p = {"name": f"p{i}", "vmas": vmas}
        nthreads = rng.choice([1, 1, 2, 3])
        if nthreads == 1:
            w = workload(rng, footprint, DATA)
            p["core"] = rng.randrange(cores)
            p["workload"] = w
            evs = events(rng, footprint, w["instructions"])
            if rng.random() < 0.3:
                child = {"name": f"p{i}c", "core": rng.randrange(cores), "forked_from": p["name"],
                         "workload": workload(rng, footprint, DATA)}
                evs.append({"at": rng.randint(1, w["instructions"] // 1000 - 1) * 1000,
                            "fork": child["name"]})
                evs.sort(key=lambda e: e["at"])
                p["events"] = evs
                doc["processes"].append(p)
                doc["processes"].append(child)
                continue
            if evs:
                p["events"] = evs
        else:
            p["threads"] = []
            for j in range(nthreads):
                w = workload(rng, footprint, DATA)
                t = {"core": rng.randrange(cores), "workload": w}
                # each thread maps its own range: they share one address space
                evs = events(rng, footprint, w["instructions"], EXTRA + j * 0x100000)
                if evs:
                    t["events"] = evs
                p["threads"].append(t)
        doc["processes"].append(p)
    return doc


def system(rng, cores, scenario_path):
    s = {"cores": cores, "memory": {"size": "1GiB"},
         "sched": {"time_slice_cycles": rng.choice([50000, 200000])},
         "workload": {"scenario": scenario_path},
         "checker": {"enabled": True, "fail_on_violation": True},
         "swap": {"slots": 8192}}
    if rng.random() < 0.5:
        s["firmware"] = {"memory_limit_frames": rng.choice([200, 400, 800])}
    if cores > 1 and rng.random() < 0.3:
        s["firmware"] = dict(s.get("firmware", {}), shootdown={"lazy_tlb": True})
    return s


def tasks(stats):
    """Every task's statistics (a single-threaded process's own, else each thread's)."""
    for p in stats["processes"].values():
        yield from p["threads"] if "threads" in p else [p]


def check(stats):
    """The totals that must equal the sums of their parts: a list of what does not."""
    bad = []

    def eq(what, total, parts):
        if total != parts:
            bad.append(f"{what}: total {total} != sum of parts {parts}")

    cores, procs = stats["cores"], stats["processes"]
    if stats["checker"]["violations"] != 0:
        bad.append(f"checker: {stats['checker']['first_violation']}")
    for name, p in procs.items():
        if p["data_mismatches"]:
            bad.append(f"process {name}: {p['data_mismatches']} loads did not return the data")
        if p["killed"] is not False:
            bad.append(f"process {name} killed: {p['killed']}")
        if "threads" in p:
            for field in ("instructions", "cycles", "fault_cycles", "data_checks",
                          "failed_events"):
                eq(f"processes.{name}.{field}", p[field], sum(t[field] for t in p["threads"]))
    for field in ("swap_outs", "swap_ins", "huge_splits", "huge_fallbacks"):
        eq(f"firmware.{field}", stats["firmware"][field],
           sum(p["firmware"][field] for p in procs.values()))
    eq("firmware.demand_faults", stats["firmware"]["demand_faults"],
       sum(p["firmware"]["faults"]["demand_zero"] for p in procs.values()))
    for name, p in procs.items():
        eq(f"processes.{name}.firmware.faults.demand_zero", p["firmware"]["faults"]["demand_zero"],
           sum(p["firmware"]["demand_faults_by_page_size"].values()))
    eq("instructions", sum(c["instructions"] for c in cores),
       sum(p["instructions"] for p in procs.values()))
    for kind in cores[0]["faults"]:
        eq(f"faults.{kind}", sum(c["faults"][kind] for c in cores),
           sum(t["faults"][kind] for t in tasks(stats)))
    for i, c in enumerate(cores):
        eq(f"cores[{i}].cycles", c["cycles"], sum(c["cpi_stack"].values()))
        for level, t in c["tlb"].items():
            eq(f"cores[{i}].tlb.{level}.accesses", t["accesses"], t["hits"] + t["misses"])
    eq("ipi.sent", stats["ipi"]["sent"], sum(c["ipi"]["sent"] for c in cores))
    eq("ipi.delivered", stats["ipi"]["delivered"], sum(c["ipi"]["received"] for c in cores))
    eq("shootdown.handled", stats["shootdown"]["handled"], sum(c["ipi"]["handled"] for c in cores))
    for field in ("count", "sum"):
        eq(f"shootdown.latency.{field}", stats["shootdown"]["latency"][field],
           sum(c["shootdown_latency"][field] for c in cores))
    eq("interconnect.transactions", stats["interconnect"]["transactions"],
       sum(stats["interconnect"]["targets"].values()))
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tlmmu")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    failures = failed_events = 0
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            rng = random.Random(args.seed * 100003 + run)
            cores = rng.randint(1, 4)
            scen = os.path.join(tmp, f"scenario{run}.yaml")
            cfg = os.path.join(tmp, f"system{run}.yaml")
            with open(scen, "w") as f:
                yaml.safe_dump(scenario(rng, cores), f)
            with open(cfg, "w") as f:
                yaml.safe_dump(system(rng, cores, scen), f)
            out = os.path.join(tmp, f"stats{run}.json")
            r = subprocess.run([args.tlmmu, "-q", "--config", cfg, "--stats-json", out],
                               capture_output=True, text=True)
            if r.returncode != 0:
                problems = [f"exit {r.returncode}: {r.stderr.strip()}"]
            else:
                with open(out) as f:
                    stats = json.load(f)
                problems = check(stats)
                failed_events += any(p["failed_events"] for p in stats["processes"].values())
            if problems:
                failures += 1
                print(f"run {run} (seed {args.seed}, {cfg}):", file=sys.stderr)
                for p in problems:
                    print("  " + p, file=sys.stderr)
                with open(scen) as f:
                    print("  scenario:\n    " + f.read().replace("\n", "\n    "), file=sys.stderr)
                if failures >= 5:
                    break
    print(f"stats_consistency: {args.runs} runs, {failures} failed "
          f"({failed_events} with a failed event that ran on)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
