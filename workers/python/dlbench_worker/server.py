"""The worker's request loop: one reply per request, in order, and one place that names failures.

Every exception an adapter raises becomes an error reply in error_from_exception(), and the worker
stays alive to answer the next request (docs/protocol.md, "After an error reply the worker stays
alive and answers bye"). The hello reply also reports what the worker sees of its environment, since
the launcher in front of it (taskset, docker, apptainer, srun) may have changed it.
"""

from __future__ import annotations

import math
import os
import platform
import resource
import statistics
import sys
import time
import traceback
from typing import Any

from dlbench_worker import PROTOCOL_VERSION
from dlbench_worker.adapters._base import Adapter
from dlbench_worker.adapters._generation import GenerationAdapter
from dlbench_worker.protocol import (
    ByeRequest,
    FitRequest,
    Channel,
    ErrorKind,
    HelloRequest,
    LoadRequest,
    MeasureRequest,
    OutputsRequest,
    ProbeRequest,
    ProtocolError,
    Request,
    SaveWeightsRequest,
    TrainRequest,
    WorkerError,
    error_reply,
)

MAX_MESSAGE_CHARS = 2000
_OOM_MESSAGE_MARKERS = ("RESOURCE_EXHAUSTED", "out of memory")


def error_from_exception(exc: BaseException) -> dict[str, Any]:
    """Maps any exception to an error reply; unexpected ones also print a traceback to the log."""
    if isinstance(exc, WorkerError):
        return error_reply(exc.kind, exc.message)
    if isinstance(exc, ProtocolError):
        return error_reply(ErrorKind.BAD_REQUEST, str(exc))
    traceback.print_exception(exc, file=sys.stderr)
    text = str(exc)
    if (
        isinstance(exc, MemoryError)
        or "OutOfMemory" in type(exc).__name__
        or any(marker in text for marker in _OOM_MESSAGE_MARKERS)
    ):
        return error_reply(ErrorKind.OUT_OF_MEMORY, _one_line(exc))
    return error_reply(ErrorKind.RUNTIME, _one_line(exc))


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    first = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return first[:MAX_MESSAGE_CHARS]


class Server:
    """Answers requests from a Channel with one Adapter until bye or end of input."""

    def __init__(self, worker: str, adapter: Adapter, channel: Channel) -> None:
        self.worker = worker
        self.adapter = adapter
        self.channel = channel
        self.loaded = False  # True after a successful load, False again after a failed one
        self.mode = ""  # the mode of the last successful load
        # The adapter of the last load: `adapter` itself, or for mode "generation" the one its
        # generation() gives (adapters/_generation.py). measure, save_weights, outputs and train go
        # to it; hello and probe to `adapter`.
        self.active: Adapter = adapter
        adapter.reply_fd = channel.reply_fd

    def serve(self) -> int:
        """Runs until bye or end of input; returns the exit status (0)."""
        while True:
            try:
                request = self.channel.read_request()
            except ProtocolError as e:
                self._send(error_from_exception(e))
                continue
            if request is None:
                return 0
            self._send(self.handle(request))
            if isinstance(request, ByeRequest):
                return 0

    def handle(self, request: Request) -> dict[str, Any]:
        try:
            if isinstance(request, HelloRequest):
                return self.hello()
            if isinstance(request, LoadRequest):
                return self.load(request)
            if isinstance(request, MeasureRequest):
                return self.measure(request)
            if isinstance(request, SaveWeightsRequest):
                return self.save_weights(request)
            if isinstance(request, OutputsRequest):
                return self.outputs(request)
            if isinstance(request, ProbeRequest):
                return self.probe(request)
            if isinstance(request, TrainRequest):
                return self.train(request)
            if isinstance(request, FitRequest):
                return self.fit(request)
            return {"ok": True}
        except Exception as e:  # noqa: BLE001 - every failure becomes a reply, by design
            return error_from_exception(e)

    def hello(self) -> dict[str, Any]:
        return {
            "ok": True,
            "protocol": PROTOCOL_VERSION,
            "worker": self.worker,
            "framework": self.adapter.framework or self.worker,
            "versions": {"python": platform.python_version(), **self.adapter.versions()},
            "devices": self.adapter.devices(),
            "timer": timer_info(),
            "environment": environment(),
        }

    def load(self, request: LoadRequest) -> dict[str, Any]:
        self.loaded = False
        self.active = self.adapter.generation() if request.mode == "generation" else self.adapter
        self.active.reply_fd = self.channel.reply_fd
        reply = self.active.load(request)
        self.loaded, self.mode = True, request.mode
        return {"ok": True, **reply}

    def measure(self, request: MeasureRequest) -> dict[str, Any]:
        if not self.loaded:
            raise ProtocolError("measure before load")
        adapter = self.active
        if request.sync == "each" and (request.block or 1) > 1:
            blocks = adapter.measure_blocks(request.iterations, request.block)
            timing: dict[str, Any] = {"wall_ns": blocks, "block": request.block}
        elif request.sync == "each":
            timing = {"wall_ns": adapter.measure_each(request.iterations)}
        else:
            window_ns = adapter.measure_window(request.iterations)
            timing = {"window_ns": window_ns, "iterations": request.iterations}
        if isinstance(adapter, GenerationAdapter):
            trace = adapter.take_trace()  # a window's calls are not reported one by one
            if request.sync == "each":
                timing.update(trace)
        return {
            "ok": True,
            **timing,
            "peak_device_bytes": adapter.peak_device_bytes(),
            "peak_rss_bytes": peak_rss_bytes(),
        }

    def save_weights(self, request: SaveWeightsRequest) -> dict[str, Any]:
        if not self.loaded:
            raise ProtocolError("save_weights before load")
        return {"ok": True, **self.active.save_weights(request.file)}

    def outputs(self, request: OutputsRequest) -> dict[str, Any]:
        if not self.loaded:
            raise ProtocolError("outputs before load")
        return {"ok": True, **self.active.outputs(request.input_file, request.output_file)}

    def train(self, request: TrainRequest) -> dict[str, Any]:
        if not self.loaded:
            raise ProtocolError("train before load")
        if self.mode != "training":
            raise ProtocolError(f'train needs a load with mode "training", not "{self.mode}"')
        losses = self.active.train(request.steps, request.input_file)
        for step, loss in enumerate(losses, 1):
            if not math.isfinite(loss):  # JSON has no NaN: say which step diverged instead
                raise WorkerError(ErrorKind.RUNTIME, f"train: the loss of step {step} is {loss}")
        return {"ok": True, "losses": losses}

    def fit(self, request: FitRequest) -> dict[str, Any]:
        if not self.loaded:
            raise ProtocolError("fit before load")
        if self.mode != "training":
            raise ProtocolError(f'fit needs a load with mode "training", not "{self.mode}"')
        epochs = self.adapter.fit(request.dataset, request.epochs)
        for number, epoch in enumerate(epochs, 1):
            if not math.isfinite(epoch["train_loss"]):  # JSON has no NaN: say which epoch diverged
                raise WorkerError(
                    ErrorKind.RUNTIME, f"fit: the mean loss of epoch {number} is {epoch['train_loss']}"
                )
        return {"ok": True, "epochs": epochs}

    def probe(self, request: ProbeRequest) -> dict[str, Any]:
        # Needs no load and leaves one alone: `loaded` is not touched, even when the probe fails.
        return {"ok": True, **self.adapter.probe(request)}

    def _send(self, reply: dict[str, Any]) -> None:
        try:
            self.channel.send(reply)
        except (TypeError, ValueError) as e:  # not encodable (NaN, a numpy scalar): still one reply
            self.channel.send(error_from_exception(e))


def peak_rss_bytes() -> int:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def timer_info(pairs: int = 1000) -> dict[str, Any]:
    """The clock the timed loops use, its resolution, and the median cost of two adjacent reads."""
    perf_counter_ns = time.perf_counter_ns
    gaps = [0] * pairs
    for i in range(pairs):
        t0 = perf_counter_ns()
        gaps[i] = perf_counter_ns() - t0
    resolution_ns = max(1, round(time.get_clock_info("perf_counter").resolution * 1e9))
    return {
        "clock": "perf_counter_ns",
        "resolution_ns": resolution_ns,
        "overhead_ns": int(statistics.median(gaps)),
    }


def environment() -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "allowed_cpus": sorted(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else None,
        "cgroup_cpu_max": _read_text("/sys/fs/cgroup/cpu.max"),
        "cgroup_memory_max": _read_text("/sys/fs/cgroup/memory.max"),
        "shm_bytes": _shm_bytes(),
        "container": container(),
        "pid_namespace": _pid_namespace(),
        "env_bytes": sum(len(k) + len(v) + 2 for k, v in os.environ.items()),
        "argv": [sys.executable, *sys.orig_argv[1:]],
    }


def container() -> str | None:
    """Which container runtime the worker runs under, from the markers each one leaves; the
    innermost first, since a sandbox started inside a container sees the container's files."""
    # bubblewrap with its own PID namespace runs as that namespace's process 1
    if _read_text("/proc/1/comm") == "bwrap":
        return "bubblewrap"
    if os.path.exists("/.dockerenv"):
        return "docker"
    if (
        os.path.exists("/.singularity.d")
        or "APPTAINER_CONTAINER" in os.environ
        or "SINGULARITY_CONTAINER" in os.environ
    ):
        return "apptainer"
    if os.path.exists("/run/.containerenv"):
        return "podman"
    return None


def _pid_namespace() -> str | None:
    """The PID namespace the worker sees ("pid:[4026531836]"): it differs from the controller's
    in a sandbox or container that has its own."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return None


def _shm_bytes() -> int | None:
    try:
        st = os.statvfs("/dev/shm")
    except OSError:
        return None
    return st.f_frsize * st.f_blocks
