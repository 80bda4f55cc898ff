"""The base class of every adapter, and the worker's only timed loops.

An adapter knows one framework: how to build a model and its input (load), how to run it once (step)
and how to wait for the device (sync). The timing lives here, once, so every framework is timed by
the same few lines: a sample starts before dispatch and ends after the framework's own
synchronization (docs/protocol.md, `measure`). The loops do nothing but time; every decision (how
many iterations, when to stop, what is an outlier) is the controller's.
"""

from __future__ import annotations

import abc
import platform
import statistics
import time
from typing import Any

from dlbench_worker.protocol import ErrorKind, LoadRequest, ProbeRequest, WorkerError


class Adapter(abc.ABC):
    """Subclasses implement load, step and sync, and override versions, devices and
    peak_device_bytes where the defaults (nothing, the CPU, None) are wrong."""

    framework: str = ""
    """The hello reply's `framework` (torch, jax, synthetic); empty means the worker's name."""

    reply_fd: int | None = None
    """The private reply descriptor, set by the server before the first request. Replies go only
    through Channel.send(); the one other writer is the synthetic adapter's `garbage` fault."""

    @abc.abstractmethod
    def load(self, req: LoadRequest) -> dict[str, Any]:
        """Builds model and input, makes the first call; returns the load reply without `ok`:
        parameters, flops_per_sample, load_s, compile_s, first_call_s, sync_overhead_ns, settings,
        peak_device_bytes. Raises WorkerError for failures it can name."""
        raise NotImplementedError

    @abc.abstractmethod
    def step(self) -> Any:
        """Dispatches one call of the loaded model on its fixed input and returns the output; in
        a training load one whole training step, returning its loss (so sync waits for it all)."""
        raise NotImplementedError

    @abc.abstractmethod
    def sync(self, out: Any) -> None:
        """Blocks until the work that produced `out` has finished on the device."""
        raise NotImplementedError

    def save_weights(self, path: str) -> dict[str, Any]:
        """Writes the loaded model's weights to `path` in the canonical layout (docs/protocol.md,
        `save_weights`); returns the reply without `ok`: tensors, bytes. Called only after a
        successful load."""
        raise WorkerError(ErrorKind.UNSUPPORTED, f"the {self.framework} worker has no save_weights")

    def outputs(self, input_path: str, output_path: str) -> dict[str, Any]:
        """Runs the loaded model once on the canonical input in `input_path` and writes its output
        to `output_path` (docs/protocol.md, `outputs`); returns the reply without `ok`: shape.
        Called only after a successful load."""
        raise WorkerError(ErrorKind.UNSUPPORTED, f"the {self.framework} worker has no outputs")

    def train(self, steps: int, input_path: str) -> list[float]:
        """Runs `steps` untimed training steps on the batch in `input_path` (docs/protocol.md,
        `train`); returns each step's loss. Called only after a successful training load."""
        raise WorkerError(ErrorKind.UNSUPPORTED, f"the {self.framework} worker has no train")

    def fit(self, dataset: str, epochs: int) -> list[dict[str, Any]]:
        """Trains `epochs` epochs over `dataset` from the load's initial weights (docs/protocol.md,
        `fit`); returns per epoch epoch_ns, train_loss and accuracy. Called only after a
        successful training load."""
        raise WorkerError(ErrorKind.UNSUPPORTED, f"the {self.framework} worker has no fit")

    def probe(self, req: ProbeRequest) -> dict[str, Any]:
        """Measures the device's matmul throughput and copy bandwidth (docs/protocol.md, `probe`,
        timed by adapters/_probe.py, never by the loops below); returns the reply without `ok`.
        Callable with or without a load, and leaves a loaded model as it was."""
        raise WorkerError(
            ErrorKind.UNSUPPORTED, f"the {self.framework} worker has no device to probe"
        )

    def generation(self) -> Adapter:
        """The adapter that serves this worker's generation loads (mode "generation": the
        decoders, adapters/_generation.py); the server routes such a load and what follows it
        there. The default: this worker does not generate."""
        raise WorkerError(
            ErrorKind.UNSUPPORTED, f'the {self.framework} worker has no mode "generation"'
        )

    def versions(self) -> dict[str, str]:
        """Library versions for the hello reply (the server adds `python`)."""
        return {}

    def devices(self) -> list[dict[str, Any]]:
        """Visible devices for the hello reply: [{"id": "cpu", "kind": "cpu", "name": ...}, ...]."""
        return [{"id": "cpu", "kind": "cpu", "name": cpu_name()}]

    def peak_device_bytes(self) -> int | None:
        """Framework-reported peak device memory since load; None on the CPU."""
        return None

    def measure_each(self, iterations: int) -> list[int]:
        """Times each iteration from dispatch to the end of its sync, in ns."""
        # Bound to locals so the attribute lookups are not inside the timed interval.
        step, sync, perf_counter_ns = self.step, self.sync, time.perf_counter_ns
        times = [0] * iterations
        for i in range(iterations):
            t0 = perf_counter_ns()
            sync(step())
            times[i] = perf_counter_ns() - t0
        return times

    def measure_blocks(self, iterations: int, block: int) -> list[int]:
        """Times blocks of `block` synced iterations each, in ns per block (for µs-scale calls,
        where one iteration would be within 1e4 times the clock's own overhead)."""
        step, sync, perf_counter_ns = self.step, self.sync, time.perf_counter_ns
        inner = range(block)
        times = [0] * iterations
        for i in range(iterations):
            t0 = perf_counter_ns()
            for _ in inner:
                sync(step())
            times[i] = perf_counter_ns() - t0
        return times

    def measure_window(self, iterations: int) -> int:
        """Dispatches `iterations` calls back to back, syncs once on the last; returns the ns."""
        step, sync, perf_counter_ns = self.step, self.sync, time.perf_counter_ns
        t0 = perf_counter_ns()
        out = None
        for _ in range(iterations):
            out = step()
        sync(out)
        return perf_counter_ns() - t0

    def measure_sync_overhead_ns(self, out: Any, repetitions: int = 200) -> int:
        """Median cost of one sync on an output that has already finished (no pending work)."""
        self.sync(out)
        sync, perf_counter_ns = self.sync, time.perf_counter_ns
        times = [0] * repetitions
        for i in range(repetitions):
            t0 = perf_counter_ns()
            sync(out)
            times[i] = perf_counter_ns() - t0
        return int(statistics.median(times))


def cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo, else what the platform module knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "cpu"
