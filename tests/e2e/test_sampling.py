"""The stop rule with real synthetic workers: a steady signal stops once the floors are met and the
median's CI is narrow; a noisy one keeps sampling to its cap and is marked not converged; a drifting
warm-up is detected and kept out of the steady-state samples."""

from __future__ import annotations

from conftest import Dlbench, synthetic_experiment

SAMPLING = ("warmup_min_iterations = 6\nwarmup_max_iterations = 400\nmin_iterations = 30\n"
            "min_time_s = 0\nmax_iterations = 3000\nmax_time_s = 20\ntarget_rel_ci = 0.01\n"
            "chunk_target_s = 0.01\nwindow_min_time_s = 0")

VARIANTS = """
[variants.steady]
options = { latency = { distribution = "normal", mean_ns = 100000, std_ns = 500 } }
[variants.noisy]
# Continuous and wide: the median's 95% CI reaches ±1% only after ~17,000 samples. (A two-point
# distribution would not do: its median's CI can collapse onto one of the two values.)
options = { latency = { distribution = "uniform", low_ns = 50000, high_ns = 250000 } }
[variants.drift]
options = { latency = { distribution = "drift", start_ns = 600000, end_ns = 100000, steps = 60 } }
"""


def test_steady_stops_early_noisy_runs_to_the_cap(dlbench: Dlbench) -> None:
    dlbench.write("s.toml", synthetic_experiment(batches="[1]", repetitions=1, extra=VARIANTS,
                                                 options="", sampling=SAMPLING))
    r = dlbench("run", "s.toml", "-q")
    assert r.code == 0, r.err
    rows = dlbench.query(
        "SELECT c.variant, r.n_samples, r.converged, r.stop_reason, r.warmup_iterations, "
        "r.warmup_settled, r.median_ns FROM cells c JOIN repetitions r USING (cell_id)")
    by = {row[0]: row for row in rows}
    _, n, converged, reason, _, _, _ = by["steady"]
    assert converged == 1 and reason == "converged"
    assert 30 <= n < 300  # the floor, then a few chunks: far from the 3000 cap
    _, n, converged, reason, _, _, _ = by["noisy"]
    assert converged == 0 and reason == "max_iterations" and n == 3000
    _, n, converged, _, warmup, settled, median = by["drift"]
    assert settled == 1 and warmup >= 50  # the warm-up lasted until the drift ended (60 samples)
    assert 95_000 < median < 130_000  # steady state only: the 600 µs start is not in it


def test_calls_near_the_harness_overhead_are_timed_in_blocks_and_flagged(dlbench: Dlbench) -> None:
    extra = """
[variants.zero]
options = { latency = { distribution = "constant", value_ns = 0 } }
[variants.slow]
options = { latency = { distribution = "constant", value_ns = 200000 } }
"""
    sampling = "min_iterations = 20\nmin_time_s = 0.05\nmax_time_s = 3\nwindow_min_time_s = 0"
    dlbench.write("b.toml", synthetic_experiment(batches="[1]", repetitions=1, extra=extra,
                                                 options="", sampling=sampling))
    r = dlbench("run", "b.toml", "-q")
    assert r.code == 0, r.err
    rows = dict((v, (b, f, m, t)) for v, b, f, m, t in dlbench.query(
        "SELECT c.variant, r.block_iterations, r.near_overhead, r.median_ns, r.timer_overhead_ns "
        "FROM cells c JOIN repetitions r USING (cell_id)"))
    block, flagged, median, overhead = rows["zero"]
    assert block >= 10_000 * overhead / max(median, 1) * 0.5 and block > 100
    assert flagged == 1
    assert 0 < median < 5_000  # a per-iteration mean over the block, not the block's total
    assert rows["slow"][:2] == (1, 0)
    show = dlbench("show", "latest", "--cell", "0")
    assert "timed in blocks of" in show.out and "FLAGGED" in show.out


def test_gpu_temperature_gate_without_nvml_is_recorded_not_blocking(dlbench: Dlbench) -> None:
    # No GPU and no NVML here: the gate cannot read a temperature, says so once, and the run goes on.
    text = synthetic_experiment(batches="[1]", repetitions=2)
    text = text.replace("timeout_s = 20", "timeout_s = 20\ngpu_temperature_max_c = 70")
    text = text.replace('model = "synthetic"', 'model = "synthetic"\ndevice = ["cpu", "cuda:0"]')
    dlbench.write("g.toml", text)
    r = dlbench("run", "g.toml")
    assert r.code == 0, r.err
    assert r.err.count("GPU temperature gate for cuda:0: unavailable") == 1
    rows = dlbench.query("SELECT c.device, r.gate_status, r.gpu_temperature_c FROM cells c "
                         "JOIN repetitions r USING (cell_id) ORDER BY c.cell_idx, r.rep_idx")
    assert rows == [("cpu", None, None), ("cpu", None, None),
                    ("cuda:0", "unavailable", None), ("cuda:0", "unavailable", None)]
    assert dlbench.query("SELECT gpu_temperature_max_c FROM runs") == [(70,)]
