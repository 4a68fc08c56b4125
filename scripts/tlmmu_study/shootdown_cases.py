"""The runs of the shootdown scaling study (scripts/study-shootdown): the protocol variants, the
mechanisms' extra keys, the scenario of one run, the list of runs, the combinations tlmmu
refuses, and the generated sweep file (OUT/study.yaml, OUT/scenarios/) that scripts/sweep's
machinery runs."""
import hashlib
import os
from collections import namedtuple

from .common import REPO_DIR, UserError, refusal, write_atomic
from .sweepfile import render

MECHANISM_KEY = "firmware.shootdown.mechanism"
TARGETS = (1, 2, 4, 8, 16, 32, 63)
MAX_TARGETS = 63            # cores are at most 64 (FW_MAX_CORES), one of them the initiator
PAGE = 4096

# A protocol variant: the pages each discard covers, the keys it sets, and whether half of the
# target cores (the odd ones) leave this address space for another process's thread early on.
Variant = namedtuple("Variant", "name pages settings shared meaning")
VARIANTS = [
    Variant("baseline", 1, {}, False,
            "one-page discard; defaults (batch, flush_ceiling 33, no concurrent flush, no early "
            "ack, no lazy TLB)"),
    Variant("concurrent_flush", 1, {"firmware.shootdown.concurrent_flush": True}, False,
            "the initiator flushes its own TLB while its invalidations travel"),
    Variant("early_ack", 1, {"firmware.shootdown.early_ack": True}, False,
            "targets acknowledge on arrival and flush afterwards"),
    Variant("range4", 4, {}, False,
            "4-page discard, one shootdown for the range (the reference of range4_nobatch)"),
    Variant("range4_nobatch", 4, {"firmware.shootdown.batch": False}, False,
            "4-page discard, one shootdown per page (batch false)"),
    Variant("range64", 64, {}, False,
            "64-page discard: above flush_ceiling 33, every core flushes the whole ASID"),
    Variant("range64_ceiling64", 64, {"firmware.shootdown.flush_ceiling": 64}, False,
            "64-page discard with flush_ceiling 64: 64 one-page invalidations per core"),
    Variant("shared", 1, {}, True,
            "the odd target cores run this process briefly, then another process's thread "
            "(lazy TLB off: they still get every invalidation; the reference of shared_lazy)"),
    Variant("shared_lazy", 1, {"firmware.shootdown.lazy_tlb": True}, True,
            "as shared, lazy_tlb on: cores running the other process are skipped"),
]
BY_NAME = {v.name: v for v in VARIANTS}

# Keys a mechanism needs beyond the base configuration (configs/haswell.yaml is an x86 core:
# IPIs only). Broadcast's timing is assumed, as no public figure gives it: a 200-cycle issue and
# completion (INVLPGB + TLBSYNC, TLBI-IS + DSB) and 10 cycles per Mmu reached on the way (a
# few ring stops each), i.e. 840 cycles to reach 64 cores.
MECHANISM_SETTINGS = {
    "broadcast": {"invalidation.base_cycles": 200, "invalidation.hop_cycles": 10},
}

# A first guess of the cycles a discard costs the initiator, to give the targets enough
# instructions to outlast it (a target's CPI is at least 1): the refault of each touched page (a
# demand-zero fault zeroes a page: about 17000 cycles on configs/default.yaml), the zap of the
# range (about 250 cycles a page) and each shootdown (about 3000 + 470 per target with IPIs). Every target instruction costs host time,
# so the guess is close rather than generous: a run whose targets finished before the
# initiator is run again with targets sized from the initiator's measured cycles (RESIZE).
FAULT_CYCLES = 20000
ZAP_PAGE_CYCLES = 300
SHOOTDOWN_CYCLES = 3000
PER_TARGET_CYCLES = 500
RESIZE = 1.25
PASSES = 3


def default_base():
    for name in ("haswell.yaml", "default.yaml"):
        path = os.path.join(REPO_DIR, "configs", name)
        if os.path.isfile(path):
            return path
    raise UserError("no configs/haswell.yaml or configs/default.yaml; name one with --base")


# ---- the scenario of one run ---------------------------------------------------------------

CODE_BASE = 0x400000
DATA_BASE = 0x10000000          # the initiator's range
TARGET_BASE = DATA_BASE + (1 << 20)   # target t streams over its own 16 KiB at + t * 64 KiB
WINDOW = 64 << 10


def _workload(**fields):
    return "{" + ", ".join(f"{k}: {v}" for k, v in fields.items()) + "}"


def lazy_cores(variant, targets):
    """The target cores that leave the process early for another one (shared variants)."""
    return [t for t in range(1, targets + 1) if variant.shared and t % 2 == 1]


def scenario(variant, targets, discards, every, target_insns=None):
    """The scenario text of one run (deterministic: the same arguments, the same bytes);
    target_insns: each target's instructions (default: from the first guess above)."""
    pages = variant.pages
    # The initiator stores to the first and the last page of its range only: the discard's
    # flush covers the range from its lowest to its highest cleared PTE (as Linux's mmu_gather),
    # so two refaults per discard give the full-range shootdown at a fraction of the cost.
    stride = PAGE if pages == 1 else (pages - 1) * PAGE
    footprint = PAGE if pages == 1 else 2 * stride
    initiator = (discards + 1) * every
    shootdowns = pages if "firmware.shootdown.batch" in variant.settings else 1
    per_discard = every + min(pages, 2) * FAULT_CYCLES + pages * ZAP_PAGE_CYCLES + \
        shootdowns * (SHOOTDOWN_CYCLES + PER_TARGET_CYCLES * targets)
    target_insns = target_insns or every + discards * per_discard
    lines = [f"# scripts/study-shootdown: variant {variant.name}, {targets} target(s), "
             f"{discards} discards of {pages} page(s) every {every} instructions",
             "processes:", "  - name: app", "    vmas:",
             f"      - {{start: {CODE_BASE:#x}, size: 64KiB, prot: rx}}",
             f"      - {{start: {DATA_BASE:#x}, size: 8MiB, prot: rw}}",
             "    threads:",
             "      - core: 0",
             "        workload: " + _workload(pattern="strided", stride=stride, footprint=footprint,
                                              data_base=hex(DATA_BASE), code_footprint=4096,
                                              instructions=initiator, refs_per_instruction=1,
                                              write_fraction=1),
             "        events:",
             f"          - {{at: {every}, every: {every}, count: {discards}, "
             f"discard: {{start: {DATA_BASE:#x}, size: {pages * PAGE}}}}}"]
    lazy = lazy_cores(variant, targets)
    for t in range(1, targets + 1):
        # A shared core runs this address space only briefly (so it is in the mask), then the
        # other process's thread: it holds stale-able translations but does not run the process.
        insns = 1000 if t in lazy else target_insns
        lines += [f"      - core: {t}",
                  "        workload: " + _workload(pattern="stream", footprint="16KiB",
                                                   data_base=hex(TARGET_BASE + t * WINDOW),
                                                   code_footprint=4096, instructions=insns,
                                                   refs_per_instruction=0.5, write_fraction=0.3)]
    if lazy:
        lines += ["  - name: other", "    vmas:",
                  f"      - {{start: {CODE_BASE:#x}, size: 64KiB, prot: rx}}",
                  f"      - {{start: {DATA_BASE:#x}, size: 64KiB, prot: rw}}",
                  "    threads:"]
        for t in lazy:
            lines += [f"      - core: {t}",
                      "        workload: " + _workload(pattern="stream", footprint="16KiB",
                                                       data_base=hex(DATA_BASE), code_footprint=4096,
                                                       instructions=target_insns,
                                                       refs_per_instruction=0.5, write_fraction=0.3)]
    return "\n".join(lines) + "\n"


# ---- the runs --------------------------------------------------------------------------------

Case = namedtuple("Case", "mechanism variant targets target_insns", defaults=(None,))


def cases(mechanisms, targets, variants):
    """Every run, once: the baseline at every target count, each variant at the smallest and the
    largest (whose baseline is the scaling series' own run)."""
    ends = sorted({targets[0], targets[-1]})
    out = []
    for m in mechanisms:
        out += [Case(m, BY_NAME["baseline"], t) for t in targets]
        out += [Case(m, v, t) for v in variants for t in ends]
    return out


def run_settings(out, case, discards, every):
    """The keys of one run (its scenario written to OUT/scenarios/, named relative to OUT)."""
    os.makedirs(os.path.join(out, "scenarios"), exist_ok=True)
    text = scenario(case.variant, case.targets, discards, every, case.target_insns)
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    name = f"scenarios/{case.variant.name}-t{case.targets}-{digest}.yaml"
    write_atomic(os.path.join(out, name), text)
    settings = {"cores": case.targets + 1, "workload.scenario": name, MECHANISM_KEY: case.mechanism}
    # The study times discards' shootdowns alone: with the zero page (configs/haswell.yaml's
    # firmware.zero_page) the targets' reads before their writes would map it and each write
    # replacing it would shoot down too.
    settings["firmware.zero_page"] = False
    settings.update(MECHANISM_SETTINGS.get(case.mechanism, {}))
    settings.update(case.variant.settings)
    return settings


def refusals(tlmmu, base, out, runs, discards, every):
    """{(mechanism, variant): tlmmu's reason} for the combinations tlmmu refuses (exit 2 of
    --print-config: e.g. an IPI option with a mechanism that sends no IPI). They are no runs
    of the study but rows 'n/a' of its table."""
    refused = {}
    for c in runs:
        key = (c.mechanism, c.variant.name)
        if key in refused or not c.variant.settings:
            continue
        argv = [tlmmu, "--config", base, "--print-config"]
        for k, v in run_settings(out, c, discards, every).items():
            argv += ["--set", f"{k}={os.path.join(out, v) if k == 'workload.scenario' else render(v)}"]
        why = refusal(argv)
        if why is not None:
            refused[key] = why
    return refused


def write_sweep(out, base, runs, discards, every):
    """OUT/scenarios/*.yaml and OUT/study.yaml (a scripts/sweep file of explicit runs). A
    scenario's file name carries a hash of its text, so that a run resized after its first pass
    (target_insns) gets a file of its own beside the first pass's, which a rerun of the study
    finds unchanged (the sweep's resume also hashes the files a run reads: identity.py)."""
    entries = []
    for c in runs:
        settings = run_settings(out, c, discards, every)
        entries.append("  - {" + ", ".join(f"{k}: {render(v)}" for k, v in settings.items()) + "}")
    path = os.path.join(out, "study.yaml")
    write_atomic(path, "# Generated by scripts/study-shootdown; `scripts/sweep study.yaml --out .`"
                       " reruns it\n"
                       f"base: {base}\nruns:\n" + "\n".join(entries) + "\n")
    return path


