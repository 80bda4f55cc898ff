"""The jax worker's generation loads: models/flax_llama.py's engine, prefill and decode jitted.

Both are lowered and compiled ahead of time at load (compile_s), with the KV cache donated, so the
timed generates run compiled executables only. The options, device and settings are the jax
worker's (adapters/jax.py). `outputs` compiles the teacher-forced steps for the file's shape on
the spot (untimed).
"""

from __future__ import annotations

import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy

from dlbench_worker.adapters import _canonical, _generation
from dlbench_worker.adapters import jax as jax_adapter
from dlbench_worker.adapters._common import check_tf32, parse_device
from dlbench_worker.models import flax_llama, llama
from dlbench_worker.protocol import LoadRequest, load_generation


class JaxGeneration(_generation.GenerationAdapter):
    framework = "jax"

    def __init__(self) -> None:
        super().__init__()
        self._variables: Any = None
        self._config: llama.LlamaConfig | None = None
        self._request: LoadRequest | None = None
        self._device: jax.Device | None = None

    def load(self, req: LoadRequest) -> dict[str, Any]:
        _generation.check_model("jax", req)
        generation = load_generation(req)
        assert generation is not None  # the server routes only generation loads here
        config = llama.CONFIGS[req.model]
        _generation.check_lengths(req.model, generation, config.max_position_embeddings)
        _generation.check_layout("jax", req.layout)
        options = jax_adapter.parse_options(req.options)
        spec = parse_device(req.device)
        if options.matmul_precision == "tensorfloat32":
            check_tf32("matmul_precision tensorfloat32", spec)
        device = jax_adapter.jax_device(spec)
        if options.matmul_precision is not None:
            jax.config.update("jax_default_matmul_precision", options.matmul_precision)
        self._device = device

        t0 = time.perf_counter()
        dtype = jax_adapter.DTYPES[req.precision]
        weights = _generation.canonical_weights(req, config)
        variables = jax.device_put(flax_llama.to_flax(config, weights, dtype), device)
        prompt = llama.prompt_tokens(config, req.batch, generation.prompt_tokens, req.seed)
        self.prompt = jax.device_put(jnp.asarray(prompt, jnp.int32), device)
        max_len = generation.prompt_tokens + generation.new_tokens
        self.engine = flax_llama.Engine(
            config, variables, req.batch, generation.prompt_tokens, max_len, device
        )
        self._variables, self._config, self.lengths = variables, config, generation
        jax.block_until_ready((variables, self.prompt, self.engine.cache))
        load_s = time.perf_counter() - t0

        engine = self.engine
        compile_s, first_call_s, out = _generation.first_calls(
            self, lambda: jax_adapter._compiling(engine.compile)
        )
        self._request = req
        settings = {
            **jax_adapter.JaxAdapter()._settings(device, variables),
            "attention": "jax.nn.dot_product_attention",
            "donated": ["kv_cache"],
            **self.settings(max_len, "static", config.vocab_size),
        }
        settings.pop("layout", None)
        return self.decoder_load_reply(config, settings, load_s, compile_s, first_call_s, out)

    def sync(self, out: Any) -> None:
        if out is not None:
            out.block_until_ready()

    def peak_device_bytes(self) -> int | None:
        if self._device is None:
            return None
        return jax_adapter._peak_bytes(self._device)

    def save_weights(self, path: str) -> dict[str, Any]:
        assert self._request is not None  # the server checks load
        state = flax_llama.to_canonical(self._variables)
        return _canonical.write_weights(path, state, self._request.model, self.framework)

    def outputs(self, input_path: str, output_path: str) -> dict[str, Any]:
        """Logits of the file's tokens through an engine of the file's shape (compiled here)."""
        assert self._request is not None and self._config is not None  # the server checks load
        req, config = self._request, self._config
        tokens = _canonical.read_tokens(input_path, config.vocab_size)
        batch, length = tokens.shape
        prefill_len = _generation.outputs_prefill_len(length)
        engine = flax_llama.Engine(
            config, self._variables, batch, prefill_len, length, self._device
        )
        x = jax.device_put(jnp.asarray(tokens, jnp.int32), self._device)
        logits = numpy.asarray(engine.logits(x, prefill_len), numpy.float32)
        return _canonical.write_logits(
            output_path, logits, req.model, self.framework, req.precision, config.vocab_size
        )

    def versions(self) -> dict[str, str]:
        return jax_adapter.JaxAdapter().versions()

    def devices(self) -> list[dict[str, Any]]:
        return jax_adapter.JaxAdapter().devices()
