"""The `probe` request's plan, timing loop and figures, shared by the torch and jax adapters.

A probe measures what the device can do through the framework, apart from any model: dense matmul
throughput (square N x N @ N x N in the requested precision) and copy bandwidth (one buffer copied
into another preallocated one). The adapters build the two kernels; everything that turns calls
into figures is here, once, so both frameworks are timed and reported by the same lines
(docs/protocol.md, `probe`). Imports no framework.

Facts that shaped it (NVIDIA H100 and Intel Xeon datasheets, as of 2026-11):
- N = 8192 on a GPU keeps an H100's tensor cores busy: 2 x 8192^3 = 1.1 TFLOP a call, about 1 ms
  at the ~990 TFLOP/s NVIDIA quotes for dense bf16 on an H100 SXM; its three fp32 matrices take
  768 MiB. On the CPU, N = 1024 (2.1 GFLOP, tens of ms on a few cores) keeps a probe within its
  seconds on a small machine.
- The copy streams from memory: 1 GiB on a GPU is twenty times an H100's 50 MiB L2, and on the CPU
  source and destination together (128 MiB) exceed the last-level cache of the largest server
  CPUs (105 MiB on a 56-core Sapphire Rapids).
- A copy reads and writes every byte, so bandwidth = 2 x size / time; FLOP/s counts a multiply-add
  as 2, as flops_per_sample does (docs/models.md).
- Each call is synced and timed alone, and the median is taken, so one slow call (a clock change, a
  page fault) does not move the figure; the number of calls is reported with it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dlbench_worker.adapters._common import DeviceSpec, check_tf32, parse_device
from dlbench_worker.protocol import ErrorKind, ProbeRequest, WorkerError

MATMUL_N = {"cuda": 8192, "cpu": 1024}
COPY_BYTES = {"cuda": 1 << 30, "cpu": 64 << 20}
WARMUP_CALLS = 3  # untimed, after the adapter's own first call (compilation, first-touch pages)
MIN_CALLS = 5  # timed calls, even when the time is up sooner


@dataclass(frozen=True)
class ProbePlan:
    device: DeviceSpec
    device_id: str  # "cpu" or "cuda:N", as the hello reply's devices name it
    precision: str
    matmul_n: int
    copy_bytes: int
    half_s: float  # the time for each of the two measurements

    @property
    def matmul_refusal(self) -> str | None:
        """Where a framework may lack the matmul kernel (fp16 on the CPU), how its refusal is
        labelled; None where a failure is a failure."""
        if self.precision == "fp16" and self.device.kind == "cpu":
            return "fp16 matmul on the cpu"
        return None


def plan(req: ProbeRequest) -> ProbePlan:
    """What to run for `req`; tf32 on a CPU device is refused here, before any framework work."""
    device = parse_device(req.device)
    if req.precision == "tf32":
        check_tf32("precision tf32", device)
    device_id = "cpu" if device.kind == "cpu" else f"cuda:{device.index}"
    return ProbePlan(
        device=device,
        device_id=device_id,
        precision=req.precision,
        matmul_n=MATMUL_N[device.kind],
        copy_bytes=COPY_BYTES[device.kind],
        half_s=req.seconds / 2,
    )


def first_call(
    call: Callable[[], Any], sync: Callable[[Any], None], refused_as: str | None = None
) -> Any:
    """The first call (compilation, first-touch pages), synced; returns its output. With
    `refused_as` (ProbePlan.matmul_refusal), a framework's failure here is `unsupported` with its
    own message; otherwise any failure stays what it is."""
    if refused_as is None:
        out = call()
        sync(out)
        return out
    try:
        out = call()
        sync(out)
    except MemoryError:
        raise
    except Exception as e:  # noqa: BLE001 - each framework refuses with its own type
        lines = str(e).strip().splitlines()
        message = f"{type(e).__name__}: {lines[0]}" if lines else type(e).__name__
        raise WorkerError(ErrorKind.UNSUPPORTED, f"{refused_as}: {message}") from e
    return out


def time_calls(call: Callable[[], Any], sync: Callable[[Any], None], seconds: float) -> list[int]:
    """WARMUP_CALLS untimed calls, then synced calls, each timed alone in ns, until `seconds`
    have passed and at least MIN_CALLS were timed."""
    for _ in range(WARMUP_CALLS):
        sync(call())
    perf_counter_ns = time.perf_counter_ns
    times: list[int] = []
    deadline = perf_counter_ns() + int(seconds * 1e9)
    while len(times) < MIN_CALLS or perf_counter_ns() < deadline:
        t0 = perf_counter_ns()
        sync(call())
        times.append(perf_counter_ns() - t0)
    return times


def reply(
    probe: ProbePlan, device_name: str, matmul_ns: list[int], copy_ns: list[int]
) -> dict[str, Any]:
    """The probe reply without `ok` (docs/protocol.md, `probe`)."""
    return {
        "device": probe.device_id,
        "device_name": device_name,
        "precision": probe.precision,
        "matmul_n": probe.matmul_n,
        "matmul_calls": len(matmul_ns),
        "matmul_flops_per_s": 2 * probe.matmul_n**3 / _median_s(matmul_ns),
        "copy_bytes": probe.copy_bytes,
        "copy_calls": len(copy_ns),
        "copy_bytes_per_s": 2 * probe.copy_bytes / _median_s(copy_ns),
    }


def _median_s(times_ns: list[int]) -> float:
    return max(1.0, statistics.median(times_ns)) / 1e9
