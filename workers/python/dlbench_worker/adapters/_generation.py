"""The generation workload's adapters share this: the timed generate, its per-call trace, checks.

A generation load (mode "generation", docs/protocol.md) holds one engine with a prefill and a
decode step, and one fixed prompt of options.prompt_tokens tokens for each of `batch` sequences.
One measured call (step) is one greedy generate of options.new_tokens tokens: the prefill, which
gives the first token, then new_tokens - 1 decode steps, EOS ignored. Each part is synced alone,
as a serving engine must to hand every token out, and timed on the clock the measure loops use:
the trace of every call (the prefill's ns and each decode step's ns) goes back with the measure
reply, so the controller derives time to first token (the prefill) and time per output token (the
decode steps) from the same calls that make the samples.

Imports no framework: each adapter brings its engine and its sync.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from dlbench_worker.adapters._base import Adapter
from dlbench_worker.models import LLAMA_MODELS, MODELS
from dlbench_worker.protocol import ErrorKind, Generation, LoadRequest, WorkerError


class Engine(Protocol):
    def prefill(self, tokens: Any) -> Any: ...
    def decode(self, token: Any, position: int) -> Any: ...


def check_model(worker: str, req: LoadRequest) -> None:
    """A decoder needs mode "generation", and generation needs a decoder."""
    if req.mode == "generation" and req.model not in LLAMA_MODELS:
        known = "an image model" if req.model in MODELS else "not a model of this worker"
        raise WorkerError(
            ErrorKind.UNSUPPORTED,
            f'model "{req.model}" is {known}; the {worker} worker generates with: '
            f"{', '.join(LLAMA_MODELS)}",
        )
    if req.mode != "generation" and req.model in LLAMA_MODELS:
        raise WorkerError(
            ErrorKind.UNSUPPORTED,
            f'model "{req.model}" is a decoder: it runs mode "generation", not "{req.mode}"',
        )


def check_layout(worker: str, layout: str) -> None:
    if layout != "default":
        raise WorkerError(
            ErrorKind.UNSUPPORTED,
            f'layout "{layout}": a decoder has no channels to lay out; the {worker} worker '
            'generates with layout "default"',
        )


def check_lengths(model: str, generation: Generation, max_positions: int) -> None:
    """The prompt and the generated tokens must fit the model's positions."""
    total = generation.prompt_tokens + generation.new_tokens
    if total > max_positions:
        raise WorkerError(
            ErrorKind.UNSUPPORTED,
            f"prompt_tokens + new_tokens is {total}; {model} has {max_positions} positions",
        )


class GenerationAdapter(Adapter):
    """An adapter whose step() is one timed greedy generate. Subclasses load: they set
    self.engine, self.prompt and self.lengths, and implement sync."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.prompt: Any = None  # the fixed prompt, on the device, as the engine takes it
        self.lengths: Generation | None = None  # options.prompt_tokens and new_tokens
        self._prefill_ns: list[int] = []
        self._decode_ns: list[list[int]] = []

    def step(self) -> Any:
        """One greedy generate, prefill and each decode step synced and timed alone."""
        engine, sync, clock = self.engine, self.sync, time.perf_counter_ns
        assert engine is not None and self.lengths is not None
        position = self.lengths.prompt_tokens
        steps = [0] * (self.lengths.new_tokens - 1)
        t0 = clock()
        token = engine.prefill(self.prompt)
        sync(token)
        t1 = clock()
        prefill_ns = t1 - t0
        for i in range(len(steps)):
            token = engine.decode(token, position + i)
            sync(token)
            t2 = clock()
            steps[i] = t2 - t1
            t1 = t2
        self._prefill_ns.append(prefill_ns)
        self._decode_ns.append(steps)
        return token

    def take_trace(self) -> dict[str, Any]:
        """The traces of the calls since the last take, in order, and forgets them."""
        trace = {"prefill_ns": self._prefill_ns, "decode_ns": self._decode_ns}
        self._prefill_ns, self._decode_ns = [], []
        return trace

    def decoder_load_reply(
        self, config: Any, settings: dict[str, Any], load_s: float, compile_s: float | None,
        first_call_s: float, out: Any,
    ) -> dict[str, Any]:
        """The load reply of a Llama decoder engine: the same keys, counted the same way, in every
        framework."""
        from dlbench_worker.models import llama

        assert self.lengths is not None
        return {
            "parameters": llama.parameter_count(config),
            "flops_per_sample": llama.generation_flops(config, self.lengths),
            "load_s": load_s,
            "compile_s": compile_s,
            "first_call_s": first_call_s,
            "sync_overhead_ns": self.measure_sync_overhead_ns(out),
            "settings": settings,
            "peak_device_bytes": self.peak_device_bytes(),
        }

    def settings(self, max_len: int, kv_cache: str, vocab_size: int | None) -> dict[str, Any]:
        """The generation keys every generation load reports (vocab_size: the decoder's, which
        validate's token inputs need; None for the synthetic model)."""
        assert self.lengths is not None
        return {
            "workload": "generation",
            **({} if vocab_size is None else {"vocab_size": vocab_size}),
            "prompt_tokens": self.lengths.prompt_tokens,
            "new_tokens": self.lengths.new_tokens,
            "decode_steps": self.lengths.new_tokens - 1,
            "kv_cache": kv_cache,
            "kv_cache_len": max_len,
            "decoding": "greedy, EOS ignored",
        }


def first_calls(
    adapter: GenerationAdapter, compile_fn: Any = None
) -> tuple[float | None, float, Any]:
    """(compile_s, first_call_s, output): compile_fn timed as the compilation when given, then
    one generate timed as the first call; the traces of these calls are dropped."""
    compile_s = None
    if compile_fn is not None:
        t0 = time.perf_counter()
        compile_fn()
        compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = adapter.step()
    adapter.sync(out)
    first_call_s = time.perf_counter() - t0
    adapter.take_trace()
    return compile_s, first_call_s, out


def outputs_prefill_len(length: int) -> int:
    """`outputs` runs the first half of the tokens (at least one) as a prefill and the rest as
    teacher-forced decode steps, so both paths of the engine's cache are compared."""
    return max(1, length // 2)


def canonical_weights(req: LoadRequest, config: Any) -> dict[str, Any]:
    """The load's canonical weights: the request's file, checked against the model's layout, or
    drawn from its seed (llama.init_weights: the same numbers in every framework)."""
    from dlbench_worker.adapters import _canonical
    from dlbench_worker.models import llama

    if req.weights is None:
        return llama.init_weights(config, req.seed)
    tensors = _canonical.read_tensors(req.weights, "weights")
    _canonical.check_weights(req.model, req.weights, tensors, llama.canonical_shapes(config))
    return tensors
