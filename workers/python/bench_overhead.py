"""Prints the harness's own cost per sample: measure_each on the zero-work synthetic model.

A speed check, not a test: it prints numbers and asserts nothing. Two figures:
- the median recorded sample, i.e. what the timed interval itself adds to every sample (two clock
  reads, one step and one sync call on a model that does nothing);
- the loop's cost per sample, i.e. the whole measure_each call divided by the number of samples.

Run from the repository root: .venv/bin/python workers/python/bench_overhead.py [SAMPLES]
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dlbench_worker.adapters._base import cpu_name  # noqa: E402
from dlbench_worker.adapters.synthetic import SyntheticAdapter  # noqa: E402
from dlbench_worker.protocol import LoadRequest  # noqa: E402

ZERO_WORK = {"latency": {"distribution": "constant", "value_ns": 0}}


def main(argv: list[str]) -> int:
    samples = int(argv[1]) if len(argv) > 1 else 200_000
    adapter = SyntheticAdapter()
    adapter.load(
        LoadRequest(
            model="synthetic",
            batch=1,
            precision="fp32",
            device="cpu",
            mode="inference",
            layout="default",
            seed=0,
            options=ZERO_WORK,
        )
    )
    adapter.measure_each(10_000)  # warm-up
    t0 = time.perf_counter_ns()
    wall_ns = adapter.measure_each(samples)
    loop_ns = time.perf_counter_ns() - t0
    print(f"python {platform.python_version()} on {cpu_name()}, {samples} samples")
    print(f"median sample (timed interval overhead): {statistics.median(wall_ns):.0f} ns")
    print(f"p99 sample: {sorted(wall_ns)[int(0.99 * samples)]} ns")
    print(f"loop cost per sample: {loop_ns / samples:.0f} ns")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
