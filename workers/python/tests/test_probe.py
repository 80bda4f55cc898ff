"""Pins the `probe` request (docs/protocol.md): its decoding, its reply, and where it is refused.

The probe's figures come from real calls through torch and jax in real worker processes, on the
CPU, right after hello and again after a load, which the probe must leave usable. Figures are
checked for type and sign and against bounds no CPU reaches (10 TFLOP/s at N = 1024, 10 TB/s),
never against an expected speed, which varies by machine and load. The arithmetic that turns
times into figures is checked on hand-picked times. A GPU cannot be faked, so the CUDA paths are
left to a machine that has one.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from dlbench_worker.adapters import _common, _probe
from dlbench_worker.protocol import (
    ErrorKind,
    ProbeRequest,
    ProtocolError,
    WorkerError,
    decode_request,
    encode_request,
)

CPU_MATMUL_N = 1024
CPU_COPY_BYTES = 64 << 20
PROBE_SECONDS = 0.4
REPLY_KEYS = {
    "ok",
    "device",
    "device_name",
    "precision",
    "matmul_n",
    "matmul_calls",
    "matmul_flops_per_s",
    "copy_bytes",
    "copy_calls",
    "copy_bytes_per_s",
}
TF32_ON_CPU = "precision tf32 needs a cuda device: TF32 is a tensor-core format"
FRAMEWORKS = ("torch", "jax")
LOAD = {
    "op": "load",
    "model": "resnet18",
    "batch": 1,
    "precision": "fp32",
    "device": "cpu",
    "mode": "inference",
    "layout": "default",
    "seed": 0,
    "options": {},
}


def probe_request(**changes: Any) -> dict[str, Any]:
    fields = {"op": "probe", "device": "cpu", "precision": "fp32", "seconds": PROBE_SECONDS}
    return {**fields, **changes}


def test_probe_request_decodes_and_round_trips() -> None:
    fields = probe_request(device="cuda:1", precision="tf32", seconds=2)
    request = decode_request(json.dumps(fields))
    assert request == ProbeRequest(device="cuda:1", precision="tf32", seconds=2)
    assert json.loads(encode_request(request)) == fields


@pytest.mark.parametrize(
    "line, message",
    [
        (json.dumps(probe_request(seconds=0)), 'probe: field "seconds" must be a number > 0'),
        (json.dumps(probe_request(seconds=-1.5)), '"seconds" must be a number > 0, got -1.5'),
        (json.dumps(probe_request(seconds=True)), '"seconds" must be a number > 0, got true'),
        (json.dumps(probe_request(seconds="1")), '"seconds" must be a number > 0, got "1"'),
        (json.dumps(probe_request(seconds=None)), '"seconds" must be a number > 0, got null'),
        (json.dumps(probe_request(seconds=math.nan)), '"seconds" must be a number > 0, got NaN'),
        (json.dumps(probe_request(seconds=math.inf)), '"seconds" must be a number > 0'),
        (
            json.dumps(probe_request(precision="fp8")),
            'probe: field "precision" is "fp8"; allowed: fp32, tf32, bf16, fp16',
        ),
        (json.dumps(probe_request(device="gpu")), 'probe: field "device" is "gpu"; allowed: cpu'),
        ('{"op": "probe", "device": "cpu", "precision": "fp32"}', 'missing field "seconds"'),
        ('{"op": "probe", "precision": "fp32", "seconds": 1}', 'missing field "device"'),
        (json.dumps(probe_request(model="resnet18")), 'probe: unknown field "model"'),
    ],
)
def test_invalid_probe_is_rejected_naming_the_field(line: str, message: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode_request(line)
    assert message in str(caught.value)


def test_real_worker_rejects_an_invalid_probe_and_lives(start_worker) -> None:
    worker = start_worker("synthetic")
    reply = worker.request(probe_request(seconds=0))
    assert reply == {
        "ok": False,
        "error": {
            "kind": "bad_request",
            "message": 'probe: field "seconds" must be a number > 0, got 0',
        },
    }
    assert worker.request({"op": "bye"}) == {"ok": True}
    assert worker.wait() == 0


def test_synthetic_worker_has_no_device_to_probe(start_worker) -> None:
    worker = start_worker("synthetic")
    unsupported = {
        "ok": False,
        "error": {"kind": "unsupported", "message": "the synthetic worker has no device to probe"},
    }
    assert worker.request({"op": "hello"})["ok"]
    assert worker.request(probe_request()) == unsupported
    load = {**LOAD, "model": "synthetic"}
    assert worker.request(load)["ok"]
    assert worker.request(probe_request()) == unsupported
    assert worker.request({"op": "measure", "iterations": 1, "sync": "each"})["ok"]  # still loaded


def check_cpu_probe(reply: dict[str, Any], precision: str) -> None:
    assert reply["ok"] is True, reply
    assert set(reply) == REPLY_KEYS
    assert reply["device"] == "cpu" and reply["precision"] == precision
    assert isinstance(reply["device_name"], str) and reply["device_name"]
    assert reply["matmul_n"] == CPU_MATMUL_N and reply["copy_bytes"] == CPU_COPY_BYTES
    for key in ("matmul_calls", "copy_calls"):
        assert isinstance(reply[key], int) and reply[key] >= _probe.MIN_CALLS, key
    for key in ("matmul_flops_per_s", "copy_bytes_per_s"):
        value = reply[key]
        assert isinstance(value, float) and math.isfinite(value) and 0 < value < 1e13, key


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_real_worker_probes_the_cpu_before_and_after_a_load(framework: str, start_worker) -> None:
    """hello, probe (fp32, bf16, tf32 refused), load, probe, measure, bye through real pipes."""
    pytest.importorskip(framework)
    worker = start_worker(framework)
    hello = worker.request({"op": "hello"}, timeout_s=120)
    assert hello["ok"]
    cpu_name = hello["devices"][0]["name"]
    for precision in ("fp32", "bf16"):
        reply = worker.request(probe_request(precision=precision), timeout_s=120)
        check_cpu_probe(reply, precision)
        assert reply["device_name"] == cpu_name
    reply = worker.request(probe_request(precision="tf32"), timeout_s=120)
    assert reply == {"ok": False, "error": {"kind": "unsupported", "message": TF32_ON_CPU}}
    assert worker.request(LOAD, timeout_s=120)["ok"]
    check_cpu_probe(worker.request(probe_request(), timeout_s=120), "fp32")
    measure = worker.request({"op": "measure", "iterations": 2, "sync": "each"}, timeout_s=120)
    assert measure["ok"] and len(measure["wall_ns"]) == 2
    assert worker.request({"op": "bye"}) == {"ok": True}
    assert worker.wait() == 0


def test_torch_probe_restores_the_fp32_precision_flag() -> None:
    """fp32 pins mkldnn's matmul flag to ieee for the probe only: a loaded model keeps its own."""
    torch = pytest.importorskip("torch")
    from dlbench_worker.adapters import torch as torch_adapter

    flag = torch.backends.mkldnn.matmul
    before = flag.fp32_precision
    reply = torch_adapter.create().probe(ProbeRequest(device="cpu", precision="fp32", seconds=0.05))
    assert reply["matmul_calls"] >= _probe.MIN_CALLS
    assert flag.fp32_precision == before


def test_probe_plan_refuses_tf32_on_the_cpu_before_any_framework_work() -> None:
    with pytest.raises(WorkerError) as caught:
        _probe.plan(ProbeRequest(device="cpu", precision="tf32", seconds=1))
    assert caught.value.kind == ErrorKind.UNSUPPORTED and caught.value.message == TF32_ON_CPU


def test_probe_plan_sizes() -> None:
    cuda = _probe.plan(ProbeRequest(device="cuda", precision="tf32", seconds=3))
    assert (cuda.device_id, cuda.matmul_n, cuda.copy_bytes, cuda.half_s) == (
        "cuda:0",
        8192,
        1 << 30,
        1.5,
    )
    cpu = _probe.plan(ProbeRequest(device="cpu", precision="bf16", seconds=1))
    assert (cpu.device_id, cpu.matmul_n, cpu.copy_bytes) == ("cpu", CPU_MATMUL_N, CPU_COPY_BYTES)
    assert _probe.plan(ProbeRequest(device="cuda:3", precision="fp16", seconds=1)).device_id == (
        "cuda:3"
    )


def test_probe_figures_are_computed_from_the_median_call() -> None:
    """Times chosen by hand: the median matmul call is 2 ms, the median copy 4 ms."""
    plan = _probe.plan(ProbeRequest(device="cpu", precision="fp32", seconds=1))
    reply = _probe.reply(plan, "cpu", [1_000_000, 2_000_000, 9_000_000], [4_000_000] * 5)
    assert reply["matmul_calls"] == 3 and reply["copy_calls"] == 5
    assert reply["matmul_flops_per_s"] == pytest.approx(2 * 1024**3 / 2e-3)  # 1.07e12
    assert reply["copy_bytes_per_s"] == pytest.approx(2 * (64 << 20) / 4e-3)  # 3.36e10


def test_time_calls_warms_up_then_times_at_least_min_calls() -> None:
    calls: list[int] = []
    synced: list[int] = []
    times = _probe.time_calls(lambda: calls.append(1) or len(calls), synced.append, seconds=0)
    assert len(times) == _probe.MIN_CALLS and all(isinstance(ns, int) and ns > 0 for ns in times)
    assert len(calls) == len(synced) == _probe.WARMUP_CALLS + _probe.MIN_CALLS


def test_first_call_turns_a_refusal_into_unsupported_only_where_asked() -> None:
    """A framework's own exception (one cannot be provoked here: both support fp16 on the CPU)."""

    def refuse() -> None:
        raise RuntimeError('"addmm_impl_cpu_" not implemented for \'Half\'\nsecond line')

    with pytest.raises(WorkerError) as caught:
        _probe.first_call(refuse, lambda _: None, refused_as="fp16 matmul on the cpu")
    assert caught.value.kind == ErrorKind.UNSUPPORTED
    assert caught.value.message == (
        "fp16 matmul on the cpu: RuntimeError: \"addmm_impl_cpu_\" not implemented for 'Half'"
    )
    with pytest.raises(RuntimeError):
        _probe.first_call(refuse, lambda _: None)


def test_fp16_on_the_cpu_is_the_only_refusal_label() -> None:
    labels = {
        (device, precision): _probe.plan(ProbeRequest(device, precision, 1)).matmul_refusal
        for device in ("cpu", "cuda")
        for precision in ("fp32", "bf16", "fp16")
    }
    assert labels.pop(("cpu", "fp16")) == "fp16 matmul on the cpu"
    assert set(labels.values()) == {None}


@pytest.mark.parametrize(
    "capability, message",
    [
        ((7, 0), "tf32 needs compute capability 8.0 (Ampere) or newer; cuda:0 (V) has 7.0"),
        ((7, 5), "has 7.5"),
    ],
)
def test_tf32_before_ampere_is_unsupported(capability: tuple[int, int], message: str) -> None:
    with pytest.raises(WorkerError) as caught:
        _common.check_tf32_capability("precision tf32", "cuda:0", "V", capability)
    assert caught.value.kind == ErrorKind.UNSUPPORTED and message in caught.value.message


def test_tf32_from_ampere_on_is_allowed() -> None:
    for capability in ((8, 0), (8, 6), (9, 0), (10, 0)):
        _common.check_tf32_capability("precision tf32", "cuda:0", "GPU", capability)
