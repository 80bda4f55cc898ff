"""Benchmark of `dlbench check`: does the gate pass identical reruns and catch a 5% slowdown as
often as its design promises?

Each trial runs one synthetic cell three times, each a separate `dlbench run` with its own seed:
the baseline, an identical rerun, and a rerun whose latency is `--slowdown` (5%) longer. The
synthetic worker scatters its repetitions by `between_sigma` (a per-process factor exp(N(0, s)))
on top of the machine's own noise. `dlbench check` then gates the rerun and the slow run against
the baseline. Identical reruns must pass (at least 95%); the slow runs should be caught as often as
the power the design promises:

  promised power = P(d - t * se > log(1 + threshold)),  d ~ N(log(1 + slowdown), se),
  se = sigma * sqrt(2 / n),  t = t(0.975, 2n - 2)

which is the gate's rule (Welch's p below alpha and the whole interval beyond the threshold, the
rule compare decides by) with a known sigma (docs/fleet.md derives it). It is printed for the
sigma the worker was given and for the sigma the baseline runs actually had, which includes the
machine. Each job runs pinned to a CPU of its own (cpus.py).

A benchmark, not a test: it prints figures. `scripts/bench-check [--trials N] [--jobs J]`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from scipy import stats

from cpus import CpuPool, jobs_error
from rates import rate

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(os.environ.get("DLBENCH_BIN", ROOT / "build" / "dlbench"))
ALPHA = 0.05

EXPERIMENT = """
[experiment]
name = "check-{seed}"
repetitions = {reps}
seed = {seed}
telemetry_interval_s = 0
[matrix]
framework = ["synthetic"]
model = ["synthetic"]
[options]
latency = {{ distribution = "lognormal", median_ns = {median}, sigma = 0.05, between_sigma = {sigma} }}
[sampling]
warmup_min_iterations = 1
warmup_max_iterations = 10
min_iterations = 10
min_time_s = 0
max_time_s = 0.15
window_min_time_s = 0
[energy]
windows = 0
"""


def run(binary: Path, workdir: Path, name: str, seed: int, median: float, args: argparse.Namespace,
        cpu: int) -> Path:
    toml, db = workdir / f"{name}.toml", workdir / f"{name}.db"
    toml.write_text(EXPERIMENT.format(seed=seed, reps=args.repetitions, median=round(median),
                                      sigma=args.between_sigma))
    r = subprocess.run(["taskset", "-c", str(cpu), binary, "run", toml, "--db", db, "-q",
                        "--compile-cache", "none"], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{name}: dlbench run failed ({r.returncode}): {r.stderr}")
    return db


def check(binary: Path, baseline: Path, candidate: Path, threshold: float) -> dict:
    r = subprocess.run([binary, "check", "--baseline", baseline, "--candidate", candidate,
                        "--threshold", f"{100 * threshold:g}%", "--format", "json"],
                       capture_output=True, text=True)
    if r.returncode not in (0, 1):
        raise RuntimeError(f"dlbench check failed ({r.returncode}): {r.stderr}")
    out = json.loads(r.stdout)
    assert (r.returncode == 1) == (out["regressions"] > 0)
    return out


def log_sd(db: Path) -> float:
    with sqlite3.connect(db) as con:
        medians = [m for (m,) in con.execute("SELECT median_ns FROM repetitions WHERE status = 'ok'")]
    return float(stats.tstd([math.log(m) for m in medians]))


def trial(k: int, args: argparse.Namespace, tmp: Path, binary: Path, cpu: int) -> dict:
    workdir = tmp / f"t{k}"
    workdir.mkdir()
    seed = 3 * (args.first_seed + k)
    base = run(binary, workdir, "base", seed, args.median_ns, args, cpu)
    same = run(binary, workdir, "same", seed + 1, args.median_ns, args, cpu)
    slow = run(binary, workdir, "slow", seed + 2, args.median_ns * (1 + args.slowdown), args, cpu)
    a, b = check(binary, base, same, args.threshold), check(binary, base, slow, args.threshold)
    sd = log_sd(base)
    shutil.rmtree(workdir)
    return {"rerun_failed": a["regressions"] > 0, "slow_caught": b["regressions"] > 0,
            "slow_ratio": b["cells"][0]["ratio"], "rerun_ratio": a["cells"][0]["ratio"], "sd": sd}


def promised_power(sigma: float, n: int, slowdown: float, threshold: float) -> float:
    se = sigma * math.sqrt(2 / n)
    t = stats.t.ppf(1 - ALPHA / 2, 2 * n - 2)
    return float(stats.norm.sf((math.log1p(threshold) + t * se - math.log1p(slowdown)) / se))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=60)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--between-sigma", type=float, default=0.02)
    ap.add_argument("--slowdown", type=float, default=0.05)
    ap.add_argument("--threshold", type=float, default=0.01)
    ap.add_argument("--median-ns", type=float, default=100000)
    ap.add_argument("--first-seed", type=int, default=1)
    args = ap.parse_args()
    if error := jobs_error(args.jobs):
        print(f"bench-check: {error}", file=sys.stderr)
        return 2
    if not BIN.exists():
        print(f"bench-check: {BIN} is not built", file=sys.stderr)
        return 3
    t0 = time.monotonic()
    results = []
    with tempfile.TemporaryDirectory(prefix="dlbench-check-") as tmp, ThreadPoolExecutor(args.jobs) as pool:
        binary = Path(tmp) / "dlbench"  # a copy: a rebuild during the benchmark cannot touch it
        shutil.copy2(BIN, binary)
        cpus = CpuPool(args.jobs)

        def pinned_trial(k: int) -> dict:
            with cpus.take() as cpu:
                return trial(k, args, Path(tmp), binary, cpu)

        for i, r in enumerate(pool.map(pinned_trial, range(args.trials)), 1):
            results.append(r)
            if i % 10 == 0 or i == args.trials:
                elapsed = time.monotonic() - t0
                print(f"[{i}/{args.trials}] {elapsed:.0f} s, ~{elapsed / i * (args.trials - i):.0f} s left",
                      file=sys.stderr, flush=True)
    n = len(results)
    passed = sum(not r["rerun_failed"] for r in results)
    caught = sum(r["slow_caught"] for r in results)
    sds = sorted(r["sd"] for r in results)
    measured = sds[len(sds) // 2]
    reps = args.repetitions
    print(f"dlbench check benchmark: {n} trials (seeds from {3 * args.first_seed}), one synthetic cell, "
          f"{reps} repetitions per run, between_sigma {args.between_sigma}, threshold "
          f"{100 * args.threshold:g}%, injected slowdown {100 * args.slowdown:g}%; "
          f"{time.monotonic() - t0:.0f} s with {args.jobs} jobs")
    print(f"  identical reruns that passed:  {rate(passed, n)}   (required: at least 95%)")
    print(f"  {100 * args.slowdown:g}% slowdowns caught:       {rate(caught, n)}")
    print(f"  promised power at the given sigma {args.between_sigma:.4f}:    "
          f"{100 * promised_power(args.between_sigma, reps, args.slowdown, args.threshold):.1f}%")
    print(f"  promised power at the measured sigma {measured:.4f}: "
          f"{100 * promised_power(measured, reps, args.slowdown, args.threshold):.1f}%   "
          f"(median sd of the baselines' log medians: the worker's scatter plus the machine's)")
    ratios = sorted(r["slow_ratio"] for r in results)
    print(f"  slow/baseline ratio: median {ratios[n // 2]:.4f}; rerun/baseline: median "
          f"{sorted(r['rerun_ratio'] for r in results)[n // 2]:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
