"""The transformers worker: Hugging Face transformers' own LlamaForCausalLM (models/hf_llama.py),
built from a config with the canonical weights, generating on torch.

The third engine of the generation workload, and the only one that is not ours: what many users
run. Its decoding loop is transformers' greedy generate() taken apart so each step is timed alone
(a DynamicCache, the last position's logits). It runs mode "generation" only, on the torch
worker's device, thread and precision handling; its one option is `num_threads`.
"""

from __future__ import annotations

import time
from typing import Any

import torch
import transformers

from dlbench_worker import capabilities
from dlbench_worker.adapters import _canonical, _generation, _torch_generation
from dlbench_worker.adapters import torch as torch_adapter
from dlbench_worker.adapters._base import Adapter
from dlbench_worker.adapters._common import check_option_names, parse_device
from dlbench_worker.models import hf_llama, llama
from dlbench_worker.protocol import ErrorKind, LoadRequest, WorkerError, load_generation

OPTIONS = capabilities.TRANSFORMERS.accepted_options


class TransformersAdapter(_torch_generation.TorchDecoder):
    framework = "transformers"

    def __init__(self) -> None:
        super().__init__()
        self._config: llama.LlamaConfig | None = None

    def generation(self) -> Adapter:
        return self

    def load(self, req: LoadRequest) -> dict[str, Any]:
        if req.mode != "generation":
            raise WorkerError(
                ErrorKind.UNSUPPORTED,
                f'the transformers worker runs mode "generation" only, not "{req.mode}"',
            )
        _generation.check_model("transformers", req)
        generation = load_generation(req)
        assert generation is not None
        config = llama.CONFIGS[req.model]
        _generation.check_lengths(req.model, generation, config.max_position_embeddings)
        _generation.check_layout("transformers", req.layout)
        check_option_names("transformers", req.options, OPTIONS)
        options = torch_adapter.parse_options(
            {k: v for k, v in req.options.items() if k == "num_threads"}
        )
        device = torch_adapter.torch_device(parse_device(req.device))
        self._device = device
        torch_adapter.TorchAdapter._apply_threads(options)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)

        t0 = time.perf_counter()
        dtype = torch_adapter.DTYPES[req.precision]
        weights = _generation.canonical_weights(req, config)
        model = hf_llama.build(config, weights, device, dtype)
        prompt = llama.prompt_tokens(config, req.batch, generation.prompt_tokens, req.seed)
        self.prompt = torch.from_numpy(prompt).to(device)
        self.engine = hf_llama.Engine(model)
        self.lengths, self._model, self._config = generation, model, config
        self.sync(None)
        load_s = time.perf_counter() - t0

        compile_s, first_call_s, out = _generation.first_calls(self)
        self._request = req
        max_len = generation.prompt_tokens + generation.new_tokens
        settings = {
            "dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
            "device": str(self.prompt.device),
            "num_threads": torch.get_num_threads(),
            "num_interop_threads": torch.get_num_interop_threads(),
            "observed_threads": torch_adapter.observed_threads(),
            **torch_adapter.precision_settings(device),
            "attention": f"transformers {model.config._attn_implementation}",
            "inference_mode": True,
            "compile": False,
            **self.settings(max_len, "dynamic", config.vocab_size),
        }
        return self.decoder_load_reply(config, settings, load_s, compile_s, first_call_s, out)

    def canonical_state(self) -> dict[str, torch.Tensor]:
        return self._model.state_dict()

    def outputs(self, input_path: str, output_path: str) -> dict[str, Any]:
        """Logits of the file's tokens through transformers' cache: prefill, then steps."""
        assert self._config is not None and self._request is not None  # the server checks load
        config = self._config
        tokens = torch.from_numpy(_canonical.read_tokens(input_path, config.vocab_size))
        length = tokens.shape[1]
        logits = self.engine.logits(
            tokens.to(self._device), _generation.outputs_prefill_len(length)
        )
        return self.write_logits(output_path, logits, config.vocab_size)

    def versions(self) -> dict[str, str]:
        return {**super().versions(), "transformers": transformers.__version__}


def create() -> TransformersAdapter:
    return TransformersAdapter()
