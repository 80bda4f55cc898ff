"""The Llama-style decoders of the generation workload: configs, canonical weights, prompts.

One architecture, written twice (torch_llama.py, flax_llama.py) and run a third time by Hugging
Face transformers' own LlamaForCausalLM: RMSNorm, rotary position embeddings (RoPE), a SwiGLU MLP
and grouped-query attention, no biases, untied input and output embeddings. This module imports no
framework, only numpy, so the weights, the prompts and the capabilities are one definition for
every worker.

Facts that shaped it (transformers 5.23 modeling_llama.py, read 2026-11):
- The canonical layout is LlamaForCausalLM's state dict: "model.embed_tokens.weight",
  "model.layers.N.{input_layernorm,post_attention_layernorm}.weight",
  "model.layers.N.self_attn.{q,k,v,o}_proj.weight", "model.layers.N.mlp.{gate,up,down}_proj.weight",
  "model.norm.weight", "lm_head.weight"; linear weights are (out, in). A file in this layout loads
  into transformers with load_state_dict(strict=True), so a checkpoint written by dlbench can be
  run by transformers and the other way round.
- RMSNorm computes in float32 and casts back: weight * (x / sqrt(mean(x^2) + eps)).
- RoPE is the "rotate half" form: the head's first and second halves are the pair rotated by
  position * theta^(-2i/d), i < d/2 (not the interleaved even/odd pairs of Meta's checkpoints,
  which transformers permutes on conversion).
- Query head h reads key/value head h // (heads / kv_heads) (repeat_kv).

Weights are drawn here, with numpy, from the seed: every framework gets the same numbers without a
file. Linear and embedding weights are N(0, 0.02^2) (transformers' initializer_range); norm
weights are 1 + N(0, 0.02^2) rather than transformers' ones, so that a norm weight dropped or
misnamed in one framework changes its outputs and validation sees it.

The three sizes: llama-tiny (1.8 M parameters) for CPU tests, llama-125m (GPT-3 Small's width and
depth with 4 key/value heads) and llama-1b (TinyLlama-1.1B's shape) for GPUs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dlbench_worker.models import LLAMA_MODELS, LLAMA_POSITIONS

INIT_STD = 0.02


@dataclass(frozen=True)
class LlamaConfig:
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    max_position_embeddings: int
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    def hf_config(self) -> dict:
        """The keyword arguments of transformers.LlamaConfig for this architecture."""
        return {
            "vocab_size": self.vocab_size,
            "hidden_size": self.hidden_size,
            "intermediate_size": self.intermediate_size,
            "num_hidden_layers": self.num_hidden_layers,
            "num_attention_heads": self.num_attention_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "head_dim": self.head_dim,
            "max_position_embeddings": self.max_position_embeddings,
            "rms_norm_eps": self.rms_norm_eps,
            "rope_theta": self.rope_theta,
            "hidden_act": "silu",
            "attention_bias": False,
            "mlp_bias": False,
            "tie_word_embeddings": False,
        }


CONFIGS: dict[str, LlamaConfig] = {
    "llama-tiny": LlamaConfig(
        vocab_size=4096,
        hidden_size=128,
        intermediate_size=352,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=LLAMA_POSITIONS["llama-tiny"],
    ),
    "llama-125m": LlamaConfig(
        vocab_size=32000,
        hidden_size=768,
        intermediate_size=2048,
        num_hidden_layers=12,
        num_attention_heads=12,
        num_key_value_heads=4,
        max_position_embeddings=LLAMA_POSITIONS["llama-125m"],
    ),
    "llama-1b": LlamaConfig(
        vocab_size=32000,
        hidden_size=2048,
        intermediate_size=5632,
        num_hidden_layers=22,
        num_attention_heads=32,
        num_key_value_heads=4,
        max_position_embeddings=LLAMA_POSITIONS["llama-1b"],
    ),
}
assert tuple(CONFIGS) == LLAMA_MODELS  # the names the capabilities advertise without numpy


def canonical_shapes(config: LlamaConfig) -> dict[str, tuple[int, ...]]:
    """Every tensor of the canonical layout with its shape, in the order they are drawn."""
    h, i, d = config.hidden_size, config.intermediate_size, config.head_dim
    q, kv = config.num_attention_heads * d, config.num_key_value_heads * d
    shapes: dict[str, tuple[int, ...]] = {"model.embed_tokens.weight": (config.vocab_size, h)}
    for layer in range(config.num_hidden_layers):
        p = f"model.layers.{layer}."
        shapes[p + "input_layernorm.weight"] = (h,)
        shapes[p + "self_attn.q_proj.weight"] = (q, h)
        shapes[p + "self_attn.k_proj.weight"] = (kv, h)
        shapes[p + "self_attn.v_proj.weight"] = (kv, h)
        shapes[p + "self_attn.o_proj.weight"] = (h, q)
        shapes[p + "post_attention_layernorm.weight"] = (h,)
        shapes[p + "mlp.gate_proj.weight"] = (i, h)
        shapes[p + "mlp.up_proj.weight"] = (i, h)
        shapes[p + "mlp.down_proj.weight"] = (h, i)
    shapes["model.norm.weight"] = (h,)
    shapes["lm_head.weight"] = (config.vocab_size, h)
    return shapes


def parameter_count(config: LlamaConfig) -> int:
    return sum(int(np.prod(shape)) for shape in canonical_shapes(config).values())


def init_weights(config: LlamaConfig, seed: int) -> dict[str, np.ndarray]:
    """The canonical weights drawn from `seed` (see the module docstring), float32."""
    rng = np.random.default_rng(seed)
    weights = {}
    for name, shape in canonical_shapes(config).items():
        x = rng.standard_normal(shape, dtype=np.float32)
        x *= np.float32(INIT_STD)
        if name.endswith("norm.weight"):
            x += np.float32(1.0)
        weights[name] = x
    return weights


def prompt_tokens(config: LlamaConfig, batch: int, length: int, seed: int) -> np.ndarray:
    """The fixed prompt of a generation load: int64 [batch, length], uniform over the vocabulary,
    from a stream apart from the weights' (so a prompt does not depend on the model's size)."""
    rng = np.random.default_rng([seed, 1])
    return rng.integers(0, config.vocab_size, size=(batch, length), dtype=np.int64)


def flops_per_token(config: LlamaConfig, context: int) -> int:
    """2 x multiply-accumulates of one token's forward at `context` keys: every weight matrix
    (the embedding is a lookup and costs nothing) and attention's q.k and p.v products over the
    `context` keys (docs/models.md's counting rule; norms, RoPE and softmax are not counted)."""
    matrices = parameter_count(config) - config.vocab_size * config.hidden_size
    norms = (2 * config.num_hidden_layers + 1) * config.hidden_size
    attention = 2 * config.num_hidden_layers * config.num_attention_heads * config.head_dim
    return 2 * (matrices - norms) + 2 * attention * context


def rope_tables(config: LlamaConfig, length: int) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin, float32 [length, head_dim], for positions 0 .. length - 1 (transformers'
    rotary embedding: inv_freq = theta^(-2i/d), both halves the same frequencies)."""
    d = config.head_dim
    inv_freq = 1.0 / (
        config.rope_theta ** (np.arange(0, d, 2, dtype=np.int64).astype(np.float32) / d)
    )
    freqs = np.outer(np.arange(length, dtype=np.float32), inv_freq.astype(np.float32))
    emb = np.concatenate([freqs, freqs], axis=-1)
    return np.cos(emb).astype(np.float32), np.sin(emb).astype(np.float32)


def generation_flops(config: LlamaConfig, generation: Any) -> int:
    """FLOPs of one sequence's greedy generate (flops_per_token's rule): the prompt_tokens +
    new_tokens - 1 tokens that go through the layers, each at its own context, and the output
    projection for the new_tokens positions whose logits are computed (the prefill's last and
    each decode step's); the static cache's masked slots are not counted."""
    processed = generation.prompt_tokens + generation.new_tokens - 1
    head = 2 * config.vocab_size * config.hidden_size
    body = sum(flops_per_token(config, context) - head for context in range(1, processed + 1))
    return body + head * generation.new_tokens
