"""A/A benchmark of the precision target: how often does dlbench call two identical cells different?

Each experiment has two cells (variants `a` and `b`) of the synthetic worker with the same latency
and the same between-repetition scatter (`between_sigma`), runs with
`repetitions = { min, max, target_ratio_ci }`, and is then compared with `dlbench compare --by
variant`. Any "faster"/"slower" verdict is a false positive. Beside the verdict it counts how often
Welch's p alone was below 0.05 (the test's own level), and, on the very same repetitions, what a
rule that stops as soon as the comparison looks significant would have claimed: the inflation that
stopping on the interval's width avoids.

A benchmark, not a test: it prints figures. `scripts/bench-aa [--experiments N] [--jobs J]`.
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

from rates import rate

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(os.environ.get("DLBENCH_BIN", ROOT / "build" / "dlbench"))
ALPHA = 0.05
THRESHOLD = 0.01  # compare's default practical band, ±1%

EXPERIMENT = """
[experiment]
name = "aa-{seed}"
repetitions = {{ min = {min}, max = {max}, target_ratio_ci = {target} }}
compare_by = "variant"
order = "{order}"
seed = {seed}
telemetry_interval_s = 0
[matrix]
framework = ["synthetic"]
model = ["synthetic"]
[variants.a]
options = {{ latency = {latency} }}
[variants.b]
options = {{ latency = {latency} }}
[sampling]
warmup_min_iterations = 1
warmup_max_iterations = 10
min_iterations = 10
min_time_s = 0
max_time_s = 0.5
window_min_time_s = 0
[energy]
windows = 0
"""


def one(seed: int, args: argparse.Namespace, workdir: Path, binary: Path) -> dict:
    latency = (f'{{ distribution = "lognormal", median_ns = 100000, sigma = 0.05, '
               f'between_sigma = {args.between_sigma} }}')
    toml = workdir / f"aa-{seed}.toml"
    db = workdir / f"aa-{seed}.db"
    toml.write_text(EXPERIMENT.format(seed=seed, min=args.min, max=args.max, target=args.target,
                                      latency=latency, order=args.order))
    run = subprocess.run([binary, "run", toml, "--db", db, "-q", "--compile-cache", "none"],
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"seed {seed}: dlbench run failed ({run.returncode}): {run.stderr}")
    cmp = subprocess.run([binary, "compare", "latest", "--db", db, "--by", "variant", "--json"],
                         capture_output=True, text=True)
    if cmp.returncode != 0:
        raise RuntimeError(f"seed {seed}: dlbench compare failed: {cmp.stderr}")
    c = json.loads(cmp.stdout)["comparisons"][0]
    with sqlite3.connect(db) as con:
        rows = con.execute(
            "SELECT c.variant, r.median_ns FROM repetitions r JOIN cells c USING (cell_id) "
            "WHERE r.status = 'ok' ORDER BY r.order_idx").fetchall()
    medians = {"a": [], "b": []}
    for variant, median in rows:
        medians[variant].append(median)
    la = [math.log(v) for v in medians["a"]]
    lb = [math.log(v) for v in medians["b"]]
    return {"seed": seed, "verdict": c["verdict"], "p": c["p_welch"],
            "reps": len(medians["a"]), "peek": peeking_claims(medians, args.min),
            "log_ratio": sum(lb) / len(lb) - sum(la) / len(la),
            "sd": [float(stats.tstd(la)) if len(la) > 1 else None,
                   float(stats.tstd(lb)) if len(lb) > 1 else None]}


def significant(a: list[float], b: list[float]) -> bool:
    """compare's rule on these repetitions: Welch on the logs below alpha, interval outside ±1%."""
    la, lb = [math.log(v) for v in a], [math.log(v) for v in b]
    t = stats.ttest_ind(lb, la, equal_var=False)
    ci = t.confidence_interval(1 - ALPHA)
    lo, hi = math.exp(ci.low), math.exp(ci.high)
    return t.pvalue < ALPHA and (hi < 1 - THRESHOLD or lo > 1 + THRESHOLD)


def peeking_claims(medians: dict[str, list[float]], minimum: int) -> bool:
    """Would "stop as soon as it looks significant" have claimed a difference at any round?"""
    n = min(len(medians["a"]), len(medians["b"]))
    return any(significant(medians["a"][:k], medians["b"][:k]) for k in range(minimum, n + 1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--experiments", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--min", type=int, default=3)
    ap.add_argument("--max", type=int, default=12)
    ap.add_argument("--target", type=float, default=0.02)
    ap.add_argument("--between-sigma", type=float, default=0.02)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--order", default="interleaved", choices=["interleaved", "shuffled", "sequential"])
    args = ap.parse_args()
    if not BIN.exists():
        print(f"bench-aa: {BIN} is not built", file=sys.stderr)
        return 3
    t0 = time.monotonic()
    seeds = range(args.first_seed, args.first_seed + args.experiments)
    results = []
    with tempfile.TemporaryDirectory(prefix="dlbench-aa-") as tmp, ThreadPoolExecutor(args.jobs) as pool:
        # A copy of the binary, so that a rebuild during the benchmark cannot touch it. It finds
        # the workers and the .venv through the source tree it was built from.
        binary = Path(tmp) / "dlbench"
        shutil.copy2(BIN, binary)
        for i, r in enumerate(pool.map(lambda s: one(s, args, Path(tmp), binary), seeds), 1):
            results.append(r)
            if i % 10 == 0 or i == args.experiments:
                elapsed = time.monotonic() - t0
                print(f"[{i}/{args.experiments}] {elapsed:.0f} s, ~{elapsed / i * (args.experiments - i):.0f} s left",
                      file=sys.stderr, flush=True)
    n = len(results)
    claimed = sum(r["verdict"] in ("B faster", "B slower") for r in results)
    equivalent = sum(r["verdict"].startswith("equivalent") for r in results)
    p_below = sum(r["p"] is not None and r["p"] < ALPHA for r in results)
    peek = sum(r["peek"] for r in results)
    reps = sorted(r["reps"] for r in results)
    at_cap = sum(r["reps"] >= args.max for r in results)
    print(f"A/A benchmark: {n} seeded experiments (seeds {seeds.start}-{seeds.stop - 1}), synthetic "
          f"worker, two identical cells, between-repetition sigma {args.between_sigma}, "
          f"repetitions min {args.min} max {args.max}, target ±{100 * args.target:g}%, order {args.order}; "
          f"{time.monotonic() - t0:.0f} s with {args.jobs} jobs")
    print(f"  repetitions per cell at the end: median {reps[n // 2]}, min {reps[0]}, max {reps[-1]}; "
          f"{at_cap} experiments reached the cap")
    print(f"  false 'faster'/'slower' verdicts (dlbench compare): {rate(claimed, n)}")
    print(f"  Welch p < {ALPHA} alone, at the end:               {rate(p_below, n)}   (nominal {100 * ALPHA:g}%)")
    print(f"  'equivalent within ±1%' verdicts:                 {rate(equivalent, n)}")
    print(f"  had it stopped as soon as it looked significant:   {rate(peek, n)}   (same repetitions, checked after each round)")
    # Diagnostics: a systematic difference between the two identical cells (an order effect) and
    # the scatter the repetitions really had, against the between_sigma they were given.
    logs = [r["log_ratio"] for r in results]
    m = sum(logs) / n
    se = math.sqrt(sum((x - m) ** 2 for x in logs) / (n - 1) / n)
    sds = [v for r in results for v in r["sd"] if v is not None]
    print(f"  mean log(B/A) over the experiments: {m:+.5f} ± {1.96 * se:.5f} (95%); "
          f"B is second in every round of an interleaved order")
    print(f"  between-repetition sd of log medians, median over cells: {sorted(sds)[len(sds) // 2]:.4f} "
          f"(between_sigma {args.between_sigma})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
