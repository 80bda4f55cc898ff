"""Noisy neighbours: a real competing process on the worker's CPU while it is timed is measured
from /proc, the repetition is flagged as contaminated, and show, the run summary and compare say
so."""

from __future__ import annotations

import subprocess
import sys

from conftest import Dlbench

EXPERIMENT = """
[experiment]
name = "neighbours"
repetitions = 2
telemetry_interval_s = 0
[matrix]
framework = ["synthetic"]
model = ["synthetic"]
environment = ["cpu0"]
variant = ["a", "b"]
[variants.a]
options = { latency = { distribution = "constant", value_ns = 1000000 } }
[variants.b]
options = { latency = { distribution = "constant", value_ns = 1000000 } }
[environments.cpu0]
prefix = ["taskset", "-c", "0"]
[sampling]
warmup_min_iterations = 2
min_iterations = 20
min_time_s = 1.0
max_time_s = 2
window_min_time_s = 0.2
[energy]
windows = 0
"""


def contention(dlbench: Dlbench) -> list[tuple]:
    return dlbench.query(
        "SELECT other_cpu_frac, steal_frac, load_avg_1m, contaminated FROM repetitions "
        "WHERE status = 'ok' ORDER BY repetition_id")


def test_a_competing_process_on_the_workers_cpu_is_flagged(dlbench: Dlbench) -> None:
    dlbench.write("n.toml", EXPERIMENT)
    hog = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-c", "while True: pass"])
    try:
        r = dlbench("run", "n.toml")
    finally:
        hog.kill()
        hog.wait()
    assert r.code == 0, r.err
    rows = contention(dlbench)
    assert len(rows) == 4
    for other, steal, load, contaminated in rows:
        assert other > 0.2, rows  # the hog had about half of CPU 0
        assert contaminated == 1
        assert steal is not None and load is not None
    assert "repetitions ran beside other processes" in r.out  # the run's summary
    show = dlbench("show", "latest")
    assert "CONTAMINATED" in show.out
    cell = dlbench("show", "latest", "--cell", "0")
    assert "neighbours while timed: other processes" in cell.out and "CONTAMINATED" in cell.out
    cmp = dlbench("compare", "latest", "--by", "variant")
    assert cmp.code == 0, cmp.err
    assert "CONTAMINATED: 2 of A's and 2 of B's repetitions" in cmp.out
    assert dlbench.query("SELECT contaminated_repetitions FROM cells") == [(2,), (2,)]


def test_every_repetition_records_its_neighbours(dlbench: Dlbench) -> None:
    dlbench.write("n.toml", EXPERIMENT.replace("repetitions = 2", "repetitions = 1"))
    assert dlbench("run", "n.toml").code == 0
    rows = contention(dlbench)
    assert len(rows) == 2
    assert all(0.0 <= other <= 1.0 and contaminated in (0, 1) for other, _, _, contaminated in rows)
