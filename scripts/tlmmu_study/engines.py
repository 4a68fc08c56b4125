"""The engines: `local` (a pool of processes on this machine) and `slurm` (one sbatch job array).

Both execute, for each run, the same per-run command: `python3 scripts/sweep --run-one RUNDIR`."""
import concurrent.futures
import os
import shlex
import shutil
import subprocess
import sys
import time

from .common import UserError, read_json, write_atomic
from .runs import last_line

SWEEP_SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sweep")


def per_run_command(path):
    return [sys.executable, SWEEP_SCRIPT, "--run-one", os.path.abspath(path)]


def outcome(path):
    done = read_json(os.path.join(path, "done.json"))
    if done is None:
        return None, "no done.json: the run did not finish"
    return done.get("exit_code"), done.get("error", "")


def run_local(paths, jobs, report):
    """Runs each run directory's command, `jobs` at a time; report(path, code, error, extra)."""
    def one(path):
        proc = subprocess.run(per_run_command(path), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        code, error = outcome(path)
        if code is None:
            code, error = proc.returncode or 1, (proc.stdout.strip().splitlines() or [error])[-1]
        return path, code, error

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for future in concurrent.futures.as_completed([pool.submit(one, p) for p in paths]):
            path, code, error = future.result()
            report(path, code, error, {"engine": "local"})


def slurm_env():
    """The environment for Slurm's commands: SLURM_CONF as given, else the system's, else the
    one-node cluster of scripts/slurm-local when it is up."""
    env = dict(os.environ)
    if "SLURM_CONF" not in env and not os.path.exists("/etc/slurm/slurm.conf"):
        local = os.path.join(os.environ.get("TLMMU_SLURM_DIR", "/tmp/tlmmu-slurm"), "slurm.conf")
        if os.path.exists(local):
            env["SLURM_CONF"] = local
            print(f"sweep: using {local} (scripts/slurm-local's cluster)", file=sys.stderr)
    return env


def _tool(name):
    path = shutil.which(name)
    if not path:
        raise UserError(f"engine slurm: '{name}' not found; install Slurm's client "
                        "(scripts/deps-slurm) or try scripts/slurm-local start")
    return path


def _run(argv, env):
    return subprocess.run(argv, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)


def _scontrol_states(job, env):
    """Array task index -> (state, exit code) from `scontrol -o show job`, else sacct."""
    states = {}
    proc = _run(["scontrol", "-o", "show", "job", job], env)
    if proc.returncode == 0:
        for line in proc.stdout.splitlines():
            fields = dict(tok.split("=", 1) for tok in line.split() if "=" in tok)
            task = fields.get("ArrayTaskId", "")
            if task.isdigit():
                states[int(task)] = (fields.get("JobState", "?"), fields.get("ExitCode", "?"))
    if not states and shutil.which("sacct"):
        proc = _run(["sacct", "-n", "-P", "-X", "-j", job, "--format=JobID,State,ExitCode"], env)
        if proc.returncode == 0:
            for line in proc.stdout.splitlines():
                parts = line.split("|")
                if len(parts) == 3 and "_" in parts[0]:
                    task = parts[0].split("_", 1)[1]
                    if task.isdigit():
                        states[int(task)] = (parts[1].split()[0] if parts[1] else "?", parts[2])
    return states


def run_slurm(paths, out_dir, options, report, poll=1.0, quiet=False):
    """Submits one job array (task i runs paths[i]), polls squeue until it has left the queue,
    then reports each task, a failed one with its Slurm state."""
    env = slurm_env()
    sbatch, squeue = _tool("sbatch"), _tool("squeue")
    _tool("scontrol")
    base = os.path.join(os.path.abspath(out_dir), "slurm")
    os.makedirs(base, exist_ok=True)
    n = 0
    while os.path.exists(os.path.join(base, f"submit-{n}")):
        n += 1
    sub = os.path.join(base, f"submit-{n}")
    os.makedirs(sub)
    tasks = os.path.join(sub, "tasks.txt")
    write_atomic(tasks, "".join(os.path.abspath(p) + "\n" for p in paths))
    array = f"0-{len(paths) - 1}"
    if options.get("max_parallel"):
        array += f"%{options['max_parallel']}"
    lines = ["#!/bin/bash",
             "#SBATCH --job-name=tlmmu-sweep",
             f"#SBATCH --array={array}",
             f"#SBATCH --output={sub}/task-%a.out",
             "#SBATCH --ntasks=1",
             "#SBATCH --cpus-per-task=1"]
    for key, flag in (("partition", "partition"), ("time", "time"), ("mem", "mem"), ("account", "account")):
        if options.get(key) is not None:
            lines.append(f"#SBATCH --{flag}={options[key]}")
    runner = shlex.join(per_run_command("RUNDIR")[:-1])
    lines += ["# one task per run: line SLURM_ARRAY_TASK_ID+1 of tasks.txt is its run directory",
              f'run=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" {shlex.quote(tasks)})',
              f'exec {runner} "$run"', ""]
    script = os.path.join(sub, "job.sh")
    write_atomic(script, "\n".join(lines))
    proc = _run([sbatch, "--parsable", script], env)
    if proc.returncode != 0:
        msg = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise UserError(f"engine slurm: sbatch refused the job array: {msg}", status=1)
    job = proc.stdout.strip().split(";")[0]
    write_atomic(os.path.join(sub, "job_id"), job + "\n")
    print(f"sweep: submitted Slurm job array {job} ({len(paths)} tasks, {script})", flush=True)

    seen = {}
    last = None
    delay = poll
    errors = 0
    try:
        while True:
            proc = _run([squeue, "-h", "-r", "-j", job, "-o", "%i %T"], env)
            if proc.returncode != 0:
                # "Invalid job id": the job has left the controller's memory, so it is done;
                # anything else (the controller busy or restarting) is retried for a while.
                errors += 1
                if "invalid job id" in proc.stderr.lower() or errors >= 30:
                    break
                time.sleep(min(delay, 5.0))
                continue
            errors = 0
            lines = [l.split() for l in proc.stdout.splitlines() if l.strip()]
            if not lines:
                break
            counts = {}
            for jid, state in (l for l in lines if len(l) == 2):
                task = jid.split("_", 1)[1] if "_" in jid else ""
                if task.isdigit():
                    seen[int(task)] = state
                counts[state] = counts.get(state, 0) + 1
            status = ", ".join(f"{v} {k.lower()}" for k, v in sorted(counts.items()))
            if status != last and not quiet:
                print(f"sweep: job {job}: {status}", flush=True)
                last = status
            time.sleep(delay)
            delay = min(delay * 1.5, 10.0)
    except KeyboardInterrupt:
        _run(["scancel", job], env)
        print(f"sweep: interrupted; cancelled job {job}", file=sys.stderr)
        raise
    states = _scontrol_states(job, env)
    for i, path in enumerate(paths):
        code, error = outcome(path)
        state, exit_code = states.get(i, (seen.get(i, "UNKNOWN"), "?"))
        extra = {"engine": "slurm", "slurm_job": f"{job}_{i}", "slurm_state": state}
        if code is None:
            out = last_line(os.path.join(sub, f"task-{i}.out"))
            code = 1
            error = f"Slurm task {job}_{i} {state} (exit {exit_code}) without finishing the run" + \
                (f": {out}" if out else "")
        elif code != 0:
            error = f"Slurm task {job}_{i} {state}: {error}"
        report(path, code, error, extra)
