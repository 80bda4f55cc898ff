"""Hugging Face transformers' own LlamaForCausalLM, built from a config, nothing downloaded.

The third engine of the generation workload: what many users run. The model is transformers'
(modeling_llama.py) with the configuration of llama.py and the canonical weights assigned by name,
so it computes what torch_llama.py computes (pinned by test_llama.py), and its decoding loop is
the one transformers' generate() runs for greedy search: a DynamicCache that grows by one slot
per step (concatenation), logits of the last position only.

Facts that shaped it (transformers 5.23, read 2026-11):
- LlamaForCausalLM built on the meta device leaves the rotary embedding's inv_freq (a
  non-persistent buffer, not in the state dict) on meta, so the rotary module is built again on
  the CPU after the weights are assigned.
- forward takes past_key_values (a Cache, updated in place), use_cache and logits_to_keep
  (1: only the last position's logits are computed).
"""

from __future__ import annotations

from typing import Any

import torch
import transformers
from transformers.cache_utils import DynamicCache
from transformers.models.llama import modeling_llama

from dlbench_worker.models.llama import LlamaConfig


def hf_config(config: LlamaConfig) -> transformers.LlamaConfig:
    return transformers.LlamaConfig(**config.hf_config())


def build(config: LlamaConfig, weights: dict, device: torch.device, dtype: torch.dtype) -> Any:
    """transformers.LlamaForCausalLM holding the canonical `weights`, on `device` in `dtype`, in
    eval mode with gradients off. The attention implementation is "sdpa", transformers' default."""
    cfg = hf_config(config)
    cfg._attn_implementation = "sdpa"
    with torch.device("meta"):
        model = transformers.LlamaForCausalLM(cfg)
    state = {k: torch.as_tensor(v) for k, v in weights.items()}
    model.load_state_dict(state, strict=True, assign=True)
    model.model.rotary_emb = modeling_llama.LlamaRotaryEmbedding(config=cfg)
    model.requires_grad_(False)
    return model.to(device=device, dtype=dtype).eval()


class Engine:
    """Greedy decoding as transformers' generate() does it, step by step so each can be timed:
    prefill(prompt) -> first token [B] (a fresh DynamicCache); decode(token, position) -> next."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.cache: DynamicCache | None = None

    def prefill(self, tokens: torch.Tensor) -> torch.Tensor:
        self.cache = DynamicCache(config=self.model.config)
        with torch.inference_mode():
            out = self.model(
                input_ids=tokens, past_key_values=self.cache, use_cache=True, logits_to_keep=1
            )
        return out.logits[:, -1].argmax(-1)

    def decode(self, token: torch.Tensor, position: int) -> torch.Tensor:
        del position  # the cache knows its length
        with torch.inference_mode():
            out = self.model(
                input_ids=token[:, None],
                past_key_values=self.cache,
                use_cache=True,
                logits_to_keep=1,
            )
        return out.logits[:, -1].argmax(-1)

    def logits(self, tokens: torch.Tensor, prefill_len: int) -> torch.Tensor:
        """float32 logits [B, T, vocab] through the cache: a prefill, then teacher-forced steps."""
        cache = DynamicCache(config=self.model.config)
        out = []
        with torch.inference_mode():
            chunks = [tokens[:, :prefill_len]]
            chunks += [tokens[:, p : p + 1] for p in range(prefill_len, tokens.shape[1])]
            for chunk in chunks:
                result = self.model(input_ids=chunk, past_key_values=cache, use_cache=True)
                out.append(result.logits.float())
        return torch.cat(out, dim=1)
