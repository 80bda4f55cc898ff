"""Pins the synthetic worker that the controller's sampler and fault tests rely on.

Each test drives a real `python -m dlbench_worker synthetic` process through its pipes. Timings are
checked only from below (a sample spins at least its drawn latency, which is guaranteed), never from
above: a loaded machine may make anything slower.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
from typing import Any

import pytest
from worker_process import WorkerProcess, load_request

from dlbench_worker.adapters.synthetic import SyntheticAdapter, make_draw
from dlbench_worker.protocol import LoadRequest, WorkerError

MS = 1_000_000


def latency(distribution: str, **params: Any) -> dict[str, Any]:
    return {"latency": {"distribution": distribution, **params}}


def loaded(start_worker, options: dict[str, Any], seed: int = 0) -> WorkerProcess:
    worker = start_worker("synthetic")
    reply = worker.request(load_request(options, seed=seed))
    assert reply["ok"], reply
    return worker


def measure_each(worker: WorkerProcess, iterations: int) -> list[int]:
    reply = worker.request({"op": "measure", "iterations": iterations, "sync": "each"})
    assert reply["ok"], reply
    assert reply["peak_device_bytes"] is None and reply["peak_rss_bytes"] > 0
    assert len(reply["wall_ns"]) == iterations
    assert all(isinstance(ns, int) and ns > 0 for ns in reply["wall_ns"])
    return reply["wall_ns"]


def test_hello(start_worker) -> None:
    worker = start_worker("synthetic")
    reply = worker.request({"op": "hello"})
    assert reply["ok"] and reply["protocol"] == 1
    assert reply["worker"] == "synthetic" and reply["framework"] == "synthetic"
    assert reply["versions"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert reply["devices"][0]["id"] == "cpu" and reply["devices"][0]["name"]
    timer = reply["timer"]
    assert (
        timer["clock"] == "perf_counter_ns"
        and timer["resolution_ns"] >= 1
        and timer["overhead_ns"] >= 0
    )
    env = reply["environment"]
    assert env["pid"] == worker.proc.pid
    assert env["allowed_cpus"] and all(isinstance(cpu, int) for cpu in env["allowed_cpus"])
    assert env["env_bytes"] > 0
    assert env["argv"] == [sys.executable, "-m", "dlbench_worker", "synthetic"]
    assert env["container"] in (None, "docker", "apptainer", "podman", "bubblewrap")
    assert env["pid_namespace"] == os.readlink("/proc/self/ns/pid")  # not sandboxed here
    for key in ("cgroup_cpu_max", "cgroup_memory_max"):
        assert env[key] is None or isinstance(env[key], str)
    assert env["shm_bytes"] is None or env["shm_bytes"] > 0


def test_load_reply(start_worker) -> None:
    worker = start_worker("synthetic")
    reply = worker.request(load_request(latency("constant", value_ns=1000), precision="fp16"))
    assert reply["ok"]
    assert reply["parameters"] == 0 and reply["flops_per_sample"] == 0
    assert reply["compile_s"] is None and reply["peak_device_bytes"] is None
    assert reply["load_s"] >= 0 and reply["first_call_s"] >= 0 and reply["sync_overhead_ns"] >= 0
    assert reply["settings"]["model"] == "synthetic"
    assert reply["settings"]["distribution"] == {"distribution": "constant", "value_ns": 1000}


def test_constant(start_worker) -> None:
    worker = loaded(start_worker, latency("constant", value_ns=2 * MS))
    assert all(ns >= 2 * MS for ns in measure_each(worker, 10))


def test_cpu_clock_spins_for_cpu_time(start_worker) -> None:
    # On the cpu clock a call lasts at least its latency of this thread's CPU time, so a neighbour
    # on its CPU stretches it; alone it lasts about as long as on the wall clock.
    worker = loaded(start_worker, {"latency": {"distribution": "constant", "value_ns": 2 * MS, "clock": "cpu"}})
    wall_ns = measure_each(worker, 10)
    assert all(ns >= 2 * MS for ns in wall_ns)


def test_zero_work_model_is_cheap(start_worker) -> None:
    worker = loaded(start_worker, {})
    wall_ns = measure_each(worker, 1000)
    assert sorted(wall_ns)[500] < 1 * MS  # very loose: the point is that nothing spins


def test_normal(start_worker) -> None:
    worker = loaded(start_worker, latency("normal", mean_ns=1 * MS, std_ns=0.1 * MS))
    wall_ns = measure_each(worker, 40)
    assert sorted(wall_ns)[20] >= 0.7 * MS


def test_lognormal(start_worker) -> None:
    worker = loaded(start_worker, latency("lognormal", median_ns=0.5 * MS, sigma=0.2))
    assert len(measure_each(worker, 20)) == 20


def test_uniform(start_worker) -> None:
    worker = loaded(start_worker, latency("uniform", low_ns=0.5 * MS, high_ns=1 * MS))
    assert all(ns >= 0.5 * MS for ns in measure_each(worker, 20))


def test_bimodal(start_worker) -> None:
    worker = loaded(start_worker, latency("bimodal", low_ns=0.2 * MS, high_ns=3 * MS, p_high=0.5))
    wall_ns = measure_each(worker, 40)
    assert all(ns >= 0.2 * MS for ns in wall_ns)
    assert any(ns >= 3 * MS for ns in wall_ns)


def test_drift_decays_over_measured_samples(start_worker) -> None:
    worker = loaded(start_worker, latency("drift", start_ns=4 * MS, end_ns=1 * MS, steps=6))
    first = measure_each(worker, 4)
    second = measure_each(worker, 4)  # the warm-up goes on across measure requests
    expected = [4, 3.5, 3, 2.5, 2, 1.5, 1, 1]
    assert all(ns >= want * MS for ns, want in zip(first + second, expected, strict=True))


def test_window(start_worker) -> None:
    worker = loaded(start_worker, latency("constant", value_ns=1 * MS))
    reply = worker.request({"op": "measure", "iterations": 5, "sync": "window"})
    assert reply["ok"] and reply["iterations"] == 5 and reply["window_ns"] >= 5 * MS
    assert reply["peak_device_bytes"] is None and reply["peak_rss_bytes"] > 0
    assert "wall_ns" not in reply


@pytest.mark.parametrize(
    "distribution, params",
    [
        ("normal", {"mean_ns": 1000, "std_ns": 300}),
        ("lognormal", {"median_ns": 1000, "sigma": 0.5}),
        ("uniform", {"low_ns": 100, "high_ns": 2000}),
        ("bimodal", {"low_ns": 100, "high_ns": 2000, "p_high": 0.3}),
        ("drift", {"start_ns": 5000, "end_ns": 100, "steps": 50}),
    ],
)
def test_same_seed_draws_same_sequence(distribution: str, params: dict[str, Any]) -> None:
    spec = {"distribution": distribution, **params}
    first, again, other = make_draw(spec, 7), make_draw(spec, 7), make_draw(spec, 8)
    sequence = [first() for _ in range(200)]
    assert sequence == [again() for _ in range(200)]
    assert all(isinstance(ns, int) and ns >= 0 for ns in sequence)
    if distribution != "drift":  # drift is deterministic whatever the seed
        assert sequence != [other() for _ in range(200)]


def test_draws_follow_their_distribution() -> None:
    normal = make_draw({"distribution": "normal", "mean_ns": 1000, "std_ns": 5000}, 0)
    assert min(normal() for _ in range(1000)) == 0  # clipped at 0
    bimodal = make_draw({"distribution": "bimodal", "low_ns": 1, "high_ns": 9, "p_high": 0.25}, 0)
    values = [bimodal() for _ in range(4000)]
    assert set(values) == {1, 9} and 800 < values.count(9) < 1200
    uniform = make_draw({"distribution": "uniform", "low_ns": 10, "high_ns": 20}, 0)
    assert all(10 <= uniform() <= 20 for _ in range(1000))
    drift = make_draw({"distribution": "drift", "start_ns": 100, "end_ns": 0, "steps": 4}, 0)
    assert [drift() for _ in range(6)] == [100, 75, 50, 25, 0, 0]


def test_same_seed_same_latencies_in_adapter() -> None:
    def drawn(seed: int) -> list[int]:
        adapter = SyntheticAdapter()
        adapter.load(
            LoadRequest(
                model="synthetic",
                batch=1,
                precision="fp32",
                device="cpu",
                mode="inference",
                layout="default",
                seed=seed,
                options=latency("uniform", low_ns=0, high_ns=1000),
            )
        )
        return [adapter.step() for _ in range(50)]

    assert drawn(3) == drawn(3) != drawn(4)


# --- faults -------------------------------------------------------------------------------------


def faults(**switches: Any) -> dict[str, Any]:
    return {"latency": {"distribution": "constant", "value_ns": 0}, "faults": switches}


def test_crash_at_load(start_worker) -> None:
    worker = start_worker("synthetic")
    worker.send(load_request(faults(crash="load")))
    assert worker.read_line() is None
    assert worker.wait() == -signal.SIGSEGV


def test_crash_at_measure_after_samples(start_worker) -> None:
    worker = loaded(start_worker, faults(crash="measure", after_samples=5))
    measure_each(worker, 5)
    worker.send({"op": "measure", "iterations": 1, "sync": "each"})
    assert worker.read_line() is None
    assert worker.wait() == -signal.SIGSEGV


def test_exit_at_load(start_worker) -> None:
    worker = start_worker("synthetic")
    worker.send(load_request(faults(exit="load", code=3)))
    assert worker.read_line() is None
    assert worker.wait() == 3


@pytest.mark.parametrize("stage", ["load", "measure"])
def test_hang(start_worker, stage: str) -> None:
    worker = start_worker("synthetic")
    worker.send(load_request(faults(hang=stage)))
    if stage == "measure":
        assert json.loads(worker.read_line())["ok"]
        worker.send({"op": "measure", "iterations": 3, "sync": "window"})
    with pytest.raises(TimeoutError):
        worker.read_line(timeout_s=1.0)
    assert worker.proc.poll() is None
    worker.kill()
    assert worker.proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("stage", ["load", "measure"])
def test_garbage(start_worker, stage: str) -> None:
    worker = start_worker("synthetic")
    worker.send(load_request(faults(garbage=stage)))
    if stage == "measure":
        assert json.loads(worker.read_line())["ok"]
        worker.send({"op": "measure", "iterations": 3, "sync": "each"})
    line = worker.read_line()
    assert line == "this is not json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)
    with pytest.raises(TimeoutError):  # then it hangs: the controller must kill it
        worker.read_line(timeout_s=0.5)


@pytest.mark.parametrize(
    "kind", ["unsupported", "out_of_memory", "compile_failed", "runtime", "bad_request"]
)
def test_error_at_load(start_worker, kind: str) -> None:
    worker = start_worker("synthetic")
    reply = worker.request(load_request(faults(error="load", kind=kind)))
    assert reply == {
        "ok": False,
        "error": {"kind": kind, "message": f"synthetic fault: {kind} at load"},
    }
    assert worker.request({"op": "bye"}) == {"ok": True}
    assert worker.wait() == 0


def test_error_at_measure(start_worker) -> None:
    worker = loaded(start_worker, faults(error="measure", kind="runtime", after_samples=2))
    reply = worker.request({"op": "measure", "iterations": 5, "sync": "each"})
    assert reply["error"] == {"kind": "runtime", "message": "synthetic fault: runtime at measure"}
    assert worker.request({"op": "bye"}) == {"ok": True}


def test_stdout_noise_stays_out_of_the_protocol(start_worker) -> None:
    worker = start_worker("synthetic")
    assert worker.request({"op": "hello"})["ok"]
    assert worker.request(load_request(faults(stdout_noise=True)))["ok"]
    assert len(measure_each(worker, 3)) == 3
    assert worker.request({"op": "bye"}) == {"ok": True}
    assert worker.wait() == 0
    log = worker.log()
    for noise in ("noise from python", "noise from fd 1", "noise from C"):
        assert noise in log


def test_unsupported_option(start_worker) -> None:
    worker = start_worker("synthetic")
    reply = worker.request(load_request({"unsupported": "bf16 convolutions need a GPU"}))
    assert reply["error"] == {"kind": "unsupported", "message": "bf16 convolutions need a GPU"}
    assert worker.request(load_request())["ok"]  # still alive and able to load


def test_unknown_model_is_unsupported(start_worker) -> None:
    worker = start_worker("synthetic")
    reply = worker.request(load_request(model="resnet18"))
    assert reply["error"]["kind"] == "unsupported"
    assert "resnet18" in reply["error"]["message"] and "synthetic" in reply["error"]["message"]


@pytest.mark.parametrize(
    "options, named",
    [
        ({"num_threads": 1}, ["num_threads", "latency", "faults"]),
        (latency("normal", mean_ns=1, std_ns=1, skew=2), ["skew", "mean_ns", "std_ns"]),
        (latency("pareto", alpha=1), ["pareto", "lognormal"]),
        (latency("normal", mean_ns=1), ["std_ns"]),
        (latency("uniform", low_ns=-1, high_ns=3), ["low_ns"]),
        ({"faults": {"explode": "load"}}, ["explode", "crash"]),
        ({"faults": {"crash": "later"}}, ["later", "measure"]),
        ({"faults": {"crash": "load", "after_samples": 2}}, ["after_samples"]),
        ({"faults": {"error": "load", "kind": "exploded"}}, ["exploded", "out_of_memory"]),
        ({"faults": {"exit": "load"}}, ["code"]),
        ({"faults": {"hang": "load", "crash": "load"}}, ["hang", "crash"]),
        ({"latency": {"distribution": "constant", "value_ns": 1, "clock": "sundial"}}, ["sundial", "cpu"]),
    ],
)
def test_bad_options_are_bad_requests(options: dict[str, Any], named: list[str]) -> None:
    adapter = SyntheticAdapter()
    with pytest.raises(WorkerError) as info:
        adapter.load(
            LoadRequest(
                model="synthetic",
                batch=1,
                precision="fp32",
                device="cpu",
                mode="inference",
                layout="default",
                seed=0,
                options=options,
            )
        )
    assert info.value.kind == "bad_request"
    for word in named:
        assert word in info.value.message


def test_between_sigma_shifts_each_process_reproducibly() -> None:
    spec = {"distribution": "constant", "value_ns": 1_000_000, "between_sigma": 0.05}
    per_rep = [make_draw(spec, 3, process)() for process in range(200)]
    assert per_rep[7] == make_draw(spec, 3, 7)()  # the same (seed, process): the same shift
    assert len(set(per_rep)) > 190  # every process its own
    logs = [math.log(v / 1_000_000) for v in per_rep]
    mean = sum(logs) / len(logs)
    sd = math.sqrt(sum((x - mean) ** 2 for x in logs) / (len(logs) - 1))
    assert abs(mean) < 0.015 and 0.04 < sd < 0.06  # exp(N(0, 0.05)), 200 draws
    plain = make_draw({"distribution": "constant", "value_ns": 1_000_000}, 3, 7)
    assert plain() == 1_000_000  # without between_sigma nothing moves
    with pytest.raises(WorkerError, match="between_sigma"):
        make_draw({**spec, "between_sigma": 2}, 0)
