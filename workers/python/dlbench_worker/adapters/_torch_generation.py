"""The torch worker's generation loads: models/torch_llama.py's engine, eager or torch.compile'd.

The options, device, threads and numeric settings are the torch worker's own (adapters/torch.py);
`compile` wraps the engine's prefill and decode in torch.compile, which compiles inside the first
generate, so with it compile_s is the first generate and first_call_s the second (as for the image
models). `layout` must be "default": a decoder has no channels to reorder.
"""

from __future__ import annotations

import time
from typing import Any

import torch

from dlbench_worker.adapters import _canonical, _generation
from dlbench_worker.adapters import torch as torch_adapter
from dlbench_worker.adapters._common import parse_device
from dlbench_worker.models import llama, torch_llama
from dlbench_worker.protocol import ErrorKind, LoadRequest, WorkerError, load_generation


class TorchDecoder(_generation.GenerationAdapter):
    """What the decoders on torch share, ours and transformers' (adapters/transformers.py): the
    device with its sync and peak memory, the canonical weights and the logits written out, and the
    torch worker's versions and devices. A subclass loads and names its canonical state."""

    def __init__(self) -> None:
        super().__init__()
        self._model: Any = None
        self._request: LoadRequest | None = None
        self._device = torch.device("cpu")

    def canonical_state(self) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def sync(self, out: Any) -> None:
        if self._device.type == "cuda":
            torch.cuda.synchronize(self._device)

    def peak_device_bytes(self) -> int | None:
        if self._device.type != "cuda":
            return None
        return int(torch.cuda.max_memory_allocated(self._device))

    def save_weights(self, path: str) -> dict[str, Any]:
        assert self._model is not None and self._request is not None  # the server checks load
        return torch_adapter.write_weights(
            path, self.canonical_state(), self._request.model, self.framework
        )

    def write_logits(self, output_path: str, logits: torch.Tensor, vocab_size: int) -> dict[str, Any]:
        """`outputs`' last part: the logits synced, then written in the canonical file."""
        assert self._request is not None  # the server checks load
        self.sync(logits)
        return _canonical.write_logits(
            output_path,
            logits.to("cpu", torch.float32).numpy(),
            self._request.model,
            self.framework,
            self._request.precision,
            vocab_size,
        )

    def versions(self) -> dict[str, str]:
        return torch_adapter.TorchAdapter().versions()

    def devices(self) -> list[dict[str, Any]]:
        return torch_adapter.TorchAdapter().devices()


class TorchGeneration(TorchDecoder):
    framework = "torch"

    def load(self, req: LoadRequest) -> dict[str, Any]:
        _generation.check_model("torch", req)
        generation = load_generation(req)
        assert generation is not None  # the server routes only generation loads here
        config = llama.CONFIGS[req.model]
        _generation.check_lengths(req.model, generation, config.max_position_embeddings)
        _generation.check_layout("torch", req.layout)
        options = torch_adapter.parse_options(req.options)
        device = torch_adapter.torch_device(parse_device(req.device))
        self._device = device
        torch_adapter.TorchAdapter._apply_threads(options)
        if options.fp32_precision is not None:
            torch_adapter.apply_fp32_precision(options.fp32_precision)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)

        t0 = time.perf_counter()
        dtype = torch_adapter.DTYPES[req.precision]
        model = torch_llama.build(config, _generation.canonical_weights(req, config), device, dtype)
        prompt = llama.prompt_tokens(config, req.batch, generation.prompt_tokens, req.seed)
        self.prompt = torch.from_numpy(prompt).to(device)
        max_len = generation.prompt_tokens + generation.new_tokens
        self.engine = torch_llama.Engine(model, req.batch, max_len, options.compile)
        self.lengths, self._model = generation, model
        self.sync(None)
        load_s = time.perf_counter() - t0

        compile_fn = None
        if options.compile is not None:
            compile_fn = self._compile_call
        compile_s, first_call_s, out = _generation.first_calls(self, compile_fn)
        self._request = req
        settings = {
            "dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
            "device": str(self.prompt.device),
            "num_threads": torch.get_num_threads(),
            "num_interop_threads": torch.get_num_interop_threads(),
            "observed_threads": torch_adapter.observed_threads(),
            **torch_adapter.precision_settings(device),
            "attention": "torch.nn.functional.scaled_dot_product_attention",
            "inference_mode": True,
            **torch_adapter.compile_settings(options.compile),
            **self.settings(max_len, "static", config.vocab_size),
        }
        return self.decoder_load_reply(config, settings, load_s, compile_s, first_call_s, out)

    def _compile_call(self) -> None:
        """torch.compile compiles inside the first generate (prefill and decode graphs)."""
        torch._dynamo.utils.counters.clear()
        try:
            self.sync(self.step())
        except torch.cuda.OutOfMemoryError:
            raise
        except Exception as e:  # noqa: BLE001 - dynamo and inductor raise many types
            raise WorkerError(
                ErrorKind.COMPILE_FAILED, f"torch.compile: {type(e).__name__}: {e}"
            ) from e

    def canonical_state(self) -> dict[str, torch.Tensor]:
        return torch_llama.canonical_state(self._model)

    def outputs(self, input_path: str, output_path: str) -> dict[str, Any]:
        """Logits of the file's tokens through an eager engine of the file's shape."""
        assert self._model is not None and self._request is not None  # the server checks load
        config = self._model.config
        tokens = torch.from_numpy(_canonical.read_tokens(input_path, config.vocab_size))
        batch, length = tokens.shape
        engine = torch_llama.Engine(self._model, batch, length)
        logits = engine.logits(tokens.to(self._device), _generation.outputs_prefill_len(length))
        return self.write_logits(output_path, logits, config.vocab_size)
