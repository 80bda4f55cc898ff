"""The synthetic worker: a model that spins on the clock, and switches that make it misbehave.

It imports no framework, so the controller's sampler, statistics and fault handling are tested with
real processes on any machine (docs/protocol.md, "The synthetic model"). Its one model, `synthetic`,
spins for a latency drawn from `options.latency`, seeded by `seed`; `constant` with `value_ns: 0`
is the zero-work model whose samples are the harness's own overhead.

Facts that shaped it:
- Draw k of the seeded sequence is the latency of measured sample k, counted over every measure
  request since load; the first call made by load draws nothing. So a `drift` warm-up covers the
  first `steps` measured samples, and `after_samples: N` fires after exactly N measured samples.
- A fault at `measure` is wrapped around the draw function, so a fault-free model pays nothing for
  the switches in its timed loop.
- `options.unsupported: "reason"` makes load fail with `unsupported` (for the controller's tests).
- The model has no weights and no outputs: a load with `weights`, `save_weights` and `outputs` are
  `unsupported`, and so is `train`. There is no device behind it either, so `probe` is
  `unsupported` too.
- `mode: "training"` loads exactly as inference does (the step is the same spin), so the
  controller's training cells run without a framework; its `options.optimizer` is checked as every
  worker checks it and echoed in the settings, with `workload`.
- `mode: "generation"` (SyntheticGeneration) makes each measured call a generate whose prefill and
  every decode step each spin one draw, traced as a framework's generate is (_generation.py), so
  the controller's generation cells run without a framework too.
"""

from __future__ import annotations

import ctypes
import itertools
import math
import os
import random
import resource
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter_ns
from typing import Any

from dlbench_worker import capabilities
from dlbench_worker.adapters._base import Adapter
from dlbench_worker.adapters._generation import GenerationAdapter
from dlbench_worker.protocol import (
    ErrorKind,
    LoadRequest,
    ProbeRequest,
    WorkerError,
    load_generation,
    load_optimizer,
)

MODELS = capabilities.SYNTHETIC.models
OPTIONS = capabilities.SYNTHETIC.accepted_options
DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "constant": ("value_ns",),
    "normal": ("mean_ns", "std_ns"),
    "lognormal": ("median_ns", "sigma"),
    "uniform": ("low_ns", "high_ns"),
    "bimodal": ("low_ns", "high_ns", "p_high"),
    "drift": ("start_ns", "end_ns", "steps"),
}
DEFAULT_LATENCY = {"distribution": "constant", "value_ns": 0}
STAGE_FAULTS = ("crash", "exit", "hang", "garbage", "error")
STAGES = ("load", "measure")
# The parameters each stage fault may carry besides its own key.
FAULT_PARAMS: dict[str, tuple[str, ...]] = {
    "crash": ("after_samples",),
    "exit": ("code", "after_samples"),
    "hang": ("after_samples",),
    "garbage": ("after_samples",),
    "error": ("kind", "after_samples"),
}
GARBAGE = b"this is not json\n"
NO_WEIGHTS = "the synthetic model has no weights"
NO_OUTPUTS = "the synthetic model has no outputs"
NO_TRAINING = "the synthetic model has no weights to train"
NO_DEVICE = "the synthetic worker has no device to probe"

Draw = Callable[[], int]


def _bad(message: str) -> WorkerError:
    return WorkerError(ErrorKind.BAD_REQUEST, message)


def _names(values: Any) -> str:
    return ", ".join(values)


def _check_keys(where: str, obj: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key in obj:
        if key not in allowed:
            raise _bad(f'{where}: unknown key "{key}"; allowed: {_names(allowed)}')


def _number(
    where: str, obj: dict[str, Any], key: str, low: float = 0.0, high: float = math.inf
) -> float:
    if key not in obj:
        raise _bad(f'{where}: missing key "{key}"')
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise _bad(f'{where}: "{key}" must be a number in [{low:g}, {high:g}], got {value!r}')
    return value


def _integer(where: str, obj: dict[str, Any], key: str, low: int = 0) -> int:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise _bad(f'{where}: "{key}" must be an integer >= {low}, got {value!r}')
    return value


def make_draw(latency: dict[str, Any], seed: int, process_index: int | None = None) -> Draw:
    """Validates a latency spec and returns the function that draws the next latency in ns.

    `between_sigma` (any distribution) scales every latency of one worker process by
    exp(N(0, between_sigma)), drawn from (seed, process_index): processes differ the way real
    repetitions do (layout, clocks, placement), independently of each other and reproducibly for
    a seed."""
    if not isinstance(latency, dict):
        raise _bad(f"options.latency must be an object, got {latency!r}")
    name = latency.get("distribution")
    if name not in DISTRIBUTIONS:
        raise _bad(f"options.latency.distribution is {name!r}; allowed: {_names(DISTRIBUTIONS)}")
    where = f"options.latency ({name})"
    _check_keys(where, latency, ("distribution", *DISTRIBUTIONS[name], "between_sigma", "clock"))
    rng = random.Random(seed)
    draw = _DRAW_MAKERS[name](where, latency, rng)
    if "between_sigma" not in latency:
        return draw
    sigma = _number(where, latency, "between_sigma", high=1.0)
    factor = math.exp(random.Random(f"{seed}/{process_index or 0}").gauss(0.0, sigma))
    return lambda: round(draw() * factor)


CLOCKS = {"wall": perf_counter_ns, "cpu": time.thread_time_ns}


def spin_clock(latency: dict[str, Any]) -> Callable[[], int]:
    """The clock a draw is spun on: `wall` (the default) ends each call at its latency whatever
    else runs; `cpu` spins until this thread has run for the latency, so a neighbour on the same
    CPU stretches the call as it stretches real work (the contention tests and benchmark)."""
    clock = latency.get("clock", "wall") if isinstance(latency, dict) else "wall"
    if clock not in CLOCKS:
        raise _bad(f"options.latency.clock is {clock!r}; allowed: {_names(CLOCKS)}")
    return CLOCKS[clock]


def _constant(where: str, p: dict[str, Any], rng: random.Random) -> Draw:
    value = round(_number(where, p, "value_ns"))
    return itertools.repeat(value).__next__  # C-level, so the zero-work model costs next to nothing


def _normal(where: str, p: dict[str, Any], rng: random.Random) -> Draw:
    mean, std = _number(where, p, "mean_ns"), _number(where, p, "std_ns")
    return lambda: max(0, round(rng.normalvariate(mean, std)))


def _lognormal(where: str, p: dict[str, Any], rng: random.Random) -> Draw:
    median = _number(where, p, "median_ns", low=1.0)
    mu, sigma = math.log(median), _number(where, p, "sigma")
    return lambda: round(rng.lognormvariate(mu, sigma))


def _uniform(where: str, p: dict[str, Any], rng: random.Random) -> Draw:
    low = _number(where, p, "low_ns")
    high = _number(where, p, "high_ns", low=low)
    return lambda: round(rng.uniform(low, high))


def _bimodal(where: str, p: dict[str, Any], rng: random.Random) -> Draw:
    low, high = round(_number(where, p, "low_ns")), round(_number(where, p, "high_ns"))
    p_high = _number(where, p, "p_high", high=1.0)
    return lambda: high if rng.random() < p_high else low


def _drift(where: str, p: dict[str, Any], rng: random.Random) -> Draw:
    start, end = _number(where, p, "start_ns"), _number(where, p, "end_ns")
    steps = _integer(where, p, "steps", low=1)
    samples = itertools.count()

    def draw() -> int:
        i = next(samples)
        return round(start + (end - start) * i / steps) if i < steps else round(end)

    return draw


_DRAW_MAKERS: dict[str, Callable[[str, dict[str, Any], random.Random], Draw]] = {
    "constant": _constant,
    "normal": _normal,
    "lognormal": _lognormal,
    "uniform": _uniform,
    "bimodal": _bimodal,
    "drift": _drift,
}


@dataclass(frozen=True)
class Fault:
    """The switches in options.faults: at most one stage fault, and stdout_noise."""

    name: str | None = None  # one of STAGE_FAULTS, None for no stage fault
    stage: str | None = None  # "load" or "measure" when name is set
    after_samples: int = 0  # measured samples before a "measure" fault fires
    code: int = 0  # the exit status for "exit"
    kind: ErrorKind = ErrorKind.RUNTIME  # the error kind for "error"
    stdout_noise: bool = False

    def fire(self, reply_fd: int | None) -> None:
        """Misbehaves now: dies, raises, or writes garbage on the reply stream; never returns."""
        if self.name == "crash":
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a test's crash leaves no core file
            os.kill(os.getpid(), signal.SIGSEGV)
        elif self.name == "exit":
            os._exit(self.code)
        elif self.name == "garbage":
            if reply_fd is None:
                raise RuntimeError("the garbage fault needs the reply descriptor")
            os.write(reply_fd, GARBAGE)
        elif self.name == "error":
            raise WorkerError(self.kind, f"synthetic fault: {self.kind} at {self.stage}")
        _sleep_forever()  # hang, and what garbage does after its line: the controller must kill us

    def wrap(self, draw: Draw, reply_fd: int | None) -> Draw:
        """The draw function that fires this fault before measured sample `after_samples`."""
        remaining = self.after_samples

        def draw_or_fire() -> int:
            nonlocal remaining
            if remaining == 0:
                self.fire(reply_fd)
            remaining -= 1
            return draw()

        return draw_or_fire


def parse_faults(faults: Any) -> Fault:
    """Validates options.faults; every unknown key or value is a bad_request naming it."""
    if not isinstance(faults, dict):
        raise _bad(f"options.faults must be an object, got {faults!r}")
    noise = faults.get("stdout_noise", False)
    if not isinstance(noise, bool):
        raise _bad(f'options.faults: "stdout_noise" must be true or false, got {noise!r}')
    names = [key for key in faults if key in STAGE_FAULTS]
    if len(names) > 1:
        raise _bad(f"options.faults: one stage fault at a time, got {_names(names)}")
    if not names:
        _check_keys("options.faults", faults, (*STAGE_FAULTS, "stdout_noise"))
        return Fault(stdout_noise=noise)
    name = names[0]
    where = f"options.faults ({name})"
    _check_keys(where, faults, (name, "stdout_noise", *FAULT_PARAMS[name]))
    stage = faults[name]
    if stage not in STAGES:
        raise _bad(f"{where}: stage is {stage!r}; allowed: {_names(STAGES)}")
    if "after_samples" in faults and stage != "measure":
        raise _bad(f'{where}: "after_samples" needs the stage "measure"')
    after_samples = _integer(where, faults, "after_samples") if "after_samples" in faults else 0
    code = _integer(where, faults, "code") if name == "exit" else 0
    kind = _error_kind(where, faults) if name == "error" else ErrorKind.RUNTIME
    return Fault(
        name=name,
        stage=stage,
        after_samples=after_samples,
        code=code,
        kind=kind,
        stdout_noise=noise,
    )


def _error_kind(where: str, faults: dict[str, Any]) -> ErrorKind:
    try:
        return ErrorKind(faults.get("kind"))
    except ValueError:
        raise _bad(
            f'{where}: "kind" is {faults.get("kind")!r}; allowed: {_names(ErrorKind)}'
        ) from None


def _sleep_forever() -> None:
    while True:
        time.sleep(3600)


def make_noise() -> None:
    """Writes to fd 1 from Python, from the raw descriptor and from C; all of it reaches the log."""
    print("noise from python")
    sys.stdout.flush()
    os.write(1, b"noise from fd 1\n")
    libc = ctypes.CDLL(None)
    libc.puts(b"noise from C")
    libc.fflush(None)


class SyntheticAdapter(Adapter):
    framework = "synthetic"

    def __init__(self) -> None:
        self._draw: Draw = itertools.repeat(0).__next__
        self._clock: Callable[[], int] = perf_counter_ns
        self._generation: SyntheticGeneration | None = None

    def generation(self) -> Adapter:
        if self._generation is None:
            self._generation = SyntheticGeneration(self)
        return self._generation

    def load(self, req: LoadRequest) -> dict[str, Any]:
        t0 = time.perf_counter()
        if req.model not in MODELS:
            raise WorkerError(
                ErrorKind.UNSUPPORTED,
                f'model "{req.model}" is not in the synthetic worker; allowed: {_names(MODELS)}',
            )
        if req.weights is not None:
            raise WorkerError(ErrorKind.UNSUPPORTED, NO_WEIGHTS)
        options = req.options
        _check_keys("options", options, OPTIONS)
        load_optimizer(req)  # required for training, refused for inference
        latency = options.get("latency", DEFAULT_LATENCY)
        draw = make_draw(latency, req.seed, req.process_index)
        clock = spin_clock(latency)
        fault = parse_faults(options.get("faults", {}))
        self._check_unsupported(options)
        if fault.stdout_noise:
            make_noise()
        if fault.stage == "load":
            fault.fire(self.reply_fd)
        load_s = time.perf_counter() - t0

        self._draw = itertools.repeat(0).__next__  # the first call draws nothing (module docstring)
        t0 = time.perf_counter()
        out = self.step()
        self.sync(out)
        first_call_s = time.perf_counter() - t0
        sync_overhead_ns = self.measure_sync_overhead_ns(out)
        self._draw = fault.wrap(draw, self.reply_fd) if fault.stage == "measure" else draw
        self._clock = clock
        return {
            "parameters": 0,
            "flops_per_sample": 0,
            "load_s": load_s,
            "compile_s": None,
            "first_call_s": first_call_s,
            "sync_overhead_ns": sync_overhead_ns,
            "settings": {
                "model": "synthetic",
                "distribution": latency,
                "precision": req.precision,
                "device": req.device,
                "layout": req.layout,
                "workload": req.mode,
                **({"optimizer": options["optimizer"]} if "optimizer" in options else {}),
            },
            "peak_device_bytes": None,
        }

    @staticmethod
    def _check_unsupported(options: dict[str, Any]) -> None:
        reason = options.get("unsupported")
        if reason is None:
            return
        if not isinstance(reason, str):
            raise _bad(f"options.unsupported must be a string (the reason), got {reason!r}")
        raise WorkerError(ErrorKind.UNSUPPORTED, reason)

    def save_weights(self, path: str) -> dict[str, Any]:
        raise WorkerError(ErrorKind.UNSUPPORTED, NO_WEIGHTS)

    def outputs(self, input_path: str, output_path: str) -> dict[str, Any]:
        raise WorkerError(ErrorKind.UNSUPPORTED, NO_OUTPUTS)

    def train(self, steps: int, input_path: str) -> list[float]:
        raise WorkerError(ErrorKind.UNSUPPORTED, NO_TRAINING)

    def probe(self, req: ProbeRequest) -> dict[str, Any]:
        raise WorkerError(ErrorKind.UNSUPPORTED, NO_DEVICE)

    def step(self) -> int:
        ns = self._draw()
        if ns > 0:
            clock = self._clock
            deadline = clock() + ns
            while clock() < deadline:
                pass
        return ns

    def sync(self, out: Any) -> None:
        pass


class _SpinEngine:
    """A generate's parts, each one spin of the synthetic model."""

    def __init__(self, spin: Callable[[], int]) -> None:
        self.spin = spin

    def prefill(self, tokens: Any) -> int:
        return self.spin()

    def decode(self, token: Any, position: int) -> int:
        return self.spin()


class SyntheticGeneration(GenerationAdapter):
    """The synthetic model's generation loads: the inner adapter's checks, faults and draws."""

    framework = "synthetic"

    def __init__(self, inner: SyntheticAdapter) -> None:
        super().__init__()
        self.inner = inner

    def load(self, req: LoadRequest) -> dict[str, Any]:
        generation = load_generation(req)
        self.inner.reply_fd = self.reply_fd
        reply = self.inner.load(req)
        assert generation is not None  # the server routes only generation loads here
        self.lengths, self.engine = generation, _SpinEngine(self.inner.step)
        total = generation.prompt_tokens + generation.new_tokens
        reply["settings"].update(self.settings(total, "none", None))
        return reply

    def sync(self, out: Any) -> None:
        pass

    def save_weights(self, path: str) -> dict[str, Any]:
        return self.inner.save_weights(path)

    def outputs(self, input_path: str, output_path: str) -> dict[str, Any]:
        return self.inner.outputs(input_path, output_path)


def create() -> SyntheticAdapter:
    return SyntheticAdapter()
