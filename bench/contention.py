"""What the noisy-neighbour policy buys: A/A and A/B experiments with a real competing process.

Each experiment has two synthetic cells (variants `a` and `b`) pinned to one CPU, whose calls spin
on their thread's CPU time (latency.clock = "cpu"), so a neighbour on that CPU stretches them as it
stretches real work. While the experiment runs, a seeded neighbour (a busy Python loop pinned to the
same CPU) starts and stops at random times: busy and idle spells drawn from exponential
distributions whose means give it the requested share of the run (`--busy`). Every experiment runs
twice, with the same seeds:

- with the policy: `[contention] policy = "exclude"` (the default: quiet gate, contaminated chunks
  left out, contaminated repetitions replaced and out of the verdict), compared by `dlbench compare`;
- without it: `policy = "record"` and `compare --include-contaminated`, what dlbench did before.

It prints, for each: the false-verdict rate on A/A (two identical cells; nominal 5%), the share of
a true difference (`--ratio`, default 1.10) that is decided in the right direction, the median
interval half-width and repetitions, and the run time, so the policy's extra time can be read off.
`--hogs N` runs N busy loops at once during a spell (one halves the worker's share of its CPU).

A benchmark, not a test: `scripts/bench-contention [--experiments N] [--busy 0.3] [--jobs J]`.
Each job takes one CPU (its cells and its neighbour), so --jobs is at most the CPU count.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cpus import CpuPool, jobs_error
from rates import rate

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(os.environ.get("DLBENCH_BIN", ROOT / "build" / "dlbench"))

EXPERIMENT = """
[experiment]
name = "contention-{seed}"
repetitions = {{ min = {min}, max = {max}, target_ratio_ci = {target} }}
compare_by = "variant"
order = "interleaved"
seed = {seed}
telemetry_interval_s = 0
[matrix]
framework = ["synthetic"]
model = ["synthetic"]
environment = ["pinned"]
variant = ["a", "b"]
[environments.pinned]
prefix = ["taskset", "-c", "{cpu}"]
[variants.a]
options = {{ latency = {{ distribution = "lognormal", median_ns = 1000000, sigma = 0.05, between_sigma = {between}, clock = "cpu" }} }}
[variants.b]
options = {{ latency = {{ distribution = "lognormal", median_ns = {b_ns}, sigma = 0.05, between_sigma = {between}, clock = "cpu" }} }}
[sampling]
warmup_min_iterations = 2
warmup_max_iterations = 10
min_iterations = 20
min_time_s = 0.3
max_time_s = 1.2
window_min_time_s = 0
[energy]
windows = 0
[contention]
policy = "{policy}"
"""


class Neighbour(threading.Thread):
    """`hogs` busy loops on `cpu`, on for about `busy` of the time, in seeded random spells. One
    hog halves the worker's share of its CPU; three leave it a quarter, as a neighbour that makes a
    multi-threaded framework wait at its barriers does."""

    def __init__(self, cpu: int, busy: float, seed: int, hogs: int = 1, mean_on_s: float = 1.5) -> None:
        super().__init__(daemon=True)
        self.cpu, self.busy, self.hogs = cpu, busy, hogs
        self.rng = random.Random(seed)
        self.mean_on_s = mean_on_s
        self.stop = threading.Event()
        self.on_s = 0.0

    def run(self) -> None:
        if self.busy <= 0:
            return
        mean_off_s = self.mean_on_s * (1 - self.busy) / self.busy
        while not self.stop.wait(self.rng.expovariate(1 / mean_off_s)):
            hogs = [subprocess.Popen(["taskset", "-c", str(self.cpu), sys.executable, "-c", "while True: pass"])
                    for _ in range(self.hogs)]
            t0 = time.monotonic()
            self.stop.wait(self.rng.expovariate(1 / self.mean_on_s))
            for hog in hogs:
                hog.kill()
                hog.wait()
            self.on_s += time.monotonic() - t0


def one(seed: int, ratio: float, policy: str, args: argparse.Namespace, workdir: Path, binary: Path,
        cpu: int) -> dict:
    name = f"{'ab' if ratio != 1 else 'aa'}-{policy}-{seed}"
    toml, db = workdir / f"{name}.toml", workdir / f"{name}.db"
    toml.write_text(EXPERIMENT.format(seed=seed, min=args.min, max=args.max, target=args.target,
                                      between=args.between_sigma, b_ns=round(1_000_000 * ratio),
                                      policy=policy, cpu=cpu))
    neighbour = Neighbour(cpu, args.busy, seed * 7919 + (ratio != 1), args.hogs)
    t0 = time.monotonic()
    neighbour.start()
    try:
        run = subprocess.run([binary, "run", toml, "--db", db, "-q", "--compile-cache", "none"],
                             capture_output=True, text=True)
    finally:
        neighbour.stop.set()
        neighbour.join()
    seconds = time.monotonic() - t0
    if run.returncode != 0:
        raise RuntimeError(f"{name}: dlbench run failed ({run.returncode}): {run.stderr}")
    compare = [binary, "compare", "latest", "--db", db, "--by", "variant", "--json"]
    if policy == "record":
        compare.append("--include-contaminated")
    cmp = subprocess.run(compare, capture_output=True, text=True)
    if cmp.returncode != 0:
        raise RuntimeError(f"{name}: dlbench compare failed: {cmp.stderr}")
    c = json.loads(cmp.stdout)["comparisons"][0]
    ci = c["ratio_ci"]
    return {"verdict": c["verdict"], "seconds": seconds, "busy_s": neighbour.on_s,
            "reps": c["a"]["repetitions"] + c["b"]["repetitions"],
            "width": math.sqrt(ci[1] / ci[0]) - 1 if ci else math.inf}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--experiments", type=int, default=30, help="per configuration (4 of them)")
    ap.add_argument("--busy", type=float, default=0.3, help="the neighbour's share of the run")
    ap.add_argument("--hogs", type=int, default=1, help="busy loops the neighbour runs at once")
    ap.add_argument("--ratio", type=float, default=1.10, help="B/A of the A/B experiments")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--min", type=int, default=3)
    ap.add_argument("--max", type=int, default=8)
    ap.add_argument("--target", type=float, default=0.03)
    ap.add_argument("--between-sigma", type=float, default=0.03)
    ap.add_argument("--first-seed", type=int, default=1)
    args = ap.parse_args()
    if not BIN.exists():
        print(f"bench-contention: {BIN} is not built", file=sys.stderr)
        return 3
    if error := jobs_error(args.jobs):
        print(f"bench-contention: {error}", file=sys.stderr)
        return 2
    configs = [(ratio, policy) for ratio in (1.0, args.ratio) for policy in ("exclude", "record")]
    seeds = range(args.first_seed, args.first_seed + args.experiments)
    work = [(seed, ratio, policy) for seed in seeds for ratio, policy in configs]
    cpus = CpuPool(args.jobs)
    results: dict[tuple[float, str], list[dict]] = {c: [] for c in configs}
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dlbench-contention-") as tmp, ThreadPoolExecutor(args.jobs) as pool:
        binary = Path(tmp) / "dlbench"
        shutil.copy2(BIN, binary)

        def task(item: tuple[int, float, str]) -> tuple[float, str, dict]:
            seed, ratio, policy = item
            with cpus.take() as cpu:
                return ratio, policy, one(seed, ratio, policy, args, Path(tmp), binary, cpu)

        for i, (ratio, policy, r) in enumerate(pool.map(task, work), 1):
            results[(ratio, policy)].append(r)
            if i % 10 == 0 or i == len(work):
                elapsed = time.monotonic() - t0
                print(f"[{i}/{len(work)}] {elapsed:.0f} s, ~{elapsed / i * (len(work) - i):.0f} s left",
                      file=sys.stderr, flush=True)
    n = args.experiments
    print(f"noisy-neighbour benchmark: {n} seeded experiments per row (seeds {seeds.start}-{seeds.stop - 1}), "
          f"synthetic worker on the CPU clock, two cells pinned to one CPU with a neighbour of {args.hogs} "
          f"busy loop(s) on about {100 * args.busy:g}% of the time in random spells (mean 1.5 s), between-repetition sigma "
          f"{args.between_sigma}, repetitions min {args.min} max {args.max}, target ±{100 * args.target:g}%; "
          f"{time.monotonic() - t0:.0f} s with {args.jobs} jobs")
    print(f"{'experiment':<12} {'policy':<34} {'false verdicts':<33} {'decided, right way':<33} "
          f"{'interval ±':<11} {'reps':<6} {'run time':<18} {'neighbour on'}")
    for ratio, policy in configs:
        rs = results[(ratio, policy)]
        claimed = sum(r["verdict"] in ("B faster", "B slower") for r in rs)
        right = sum(r["verdict"] == "B slower" for r in rs)
        secs = sorted(r["seconds"] for r in rs)
        widths = sorted(r["width"] for r in rs)
        reps = sorted(r["reps"] for r in rs)
        on = sum(r["busy_s"] for r in rs) / sum(r["seconds"] for r in rs)
        what = "exclude (default)" if policy == "exclude" else "record + --include-contaminated"
        label = "A/A" if ratio == 1 else f"A/B {ratio:g}x"
        false_col = rate(claimed, n) if ratio == 1 else "-"
        right_col = rate(right, n) if ratio != 1 else "-"
        print(f"{label:<12} {what:<34} {false_col:<33} {right_col:<33} "
              f"{f'{100 * widths[len(widths) // 2]:.1f}%':<11} {reps[len(reps) // 2]:<6} "
              f"median {secs[len(secs) // 2]:.1f} s{'':<4} {100 * on:.0f}%")
    print("interval ±: median half-width of the B/A interval (sqrt(hi/lo) - 1); reps: median "
          "repetitions compared, both sides")
    return 0


if __name__ == "__main__":
    sys.exit(main())
