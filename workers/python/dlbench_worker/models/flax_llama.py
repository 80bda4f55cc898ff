"""The Llama-style decoder in Flax linen, layer for layer as torch_llama.py, and its jitted engine.

Facts that shaped it (flax 0.12 and jax 0.11.2 sources, read 2026-11):
- Submodules carry transformers' names, except that a linen list of layers is "layers_N" and a
  Dense's leaf is "kernel" (in, out) and an Embed's "embedding": to_flax / to_canonical map the
  canonical layout (llama.py) onto these variables and back, transposing the kernels.
- jax.nn.dot_product_attention takes query [B, T, N, H] and key/value [B, S, K, H] with N a
  multiple of K, and gives query head n the key/value head n // (N / K): transformers' repeat_kv.
- The KV cache is static, as in torch_llama.py: [B, max_len, K, H] per layer, written with
  dynamic_update_slice at the step's first position, attended over with a mask. Prefill and
  decode are each jitted once with the cache donated, so a decode step allocates no new cache
  and nothing is compiled again while generating.
- RMSNorm in float32 and cast back, rotate-half RoPE from llama.rope_tables (the same float32
  tables as torch's).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from dlbench_worker.models import llama
from dlbench_worker.models.llama import LlamaConfig

Cache = tuple[tuple[jax.Array, jax.Array], ...]


class RMSNorm(nn.Module):
    eps: float

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        weight = self.param("weight", nn.initializers.ones, (x.shape[-1],), jnp.float32)
        dtype = x.dtype
        y = x.astype(jnp.float32)
        y = y * jax.lax.rsqrt(jnp.mean(y * y, axis=-1, keepdims=True) + self.eps)
        return weight.astype(dtype) * y.astype(dtype)


def _rotate_half(x: jax.Array) -> jax.Array:
    half = x.shape[-1] // 2
    return jnp.concatenate([-x[..., half:], x[..., :half]], axis=-1)


def _dense(features: int, name: str) -> nn.Dense:
    return nn.Dense(features, use_bias=False, name=name)


class Attention(nn.Module):
    config: LlamaConfig

    @nn.compact
    def __call__(self, x, cos, sin, mask, start, cache):
        """x [B, T, H]; cos, sin [T, d]; mask [T, S]; start: the first token's position;
        cache: (k, v) [B, max_len, K, d] or None. Returns (output, the updated cache)."""
        c = self.config
        b, t, _ = x.shape
        d, heads, kv_heads = c.head_dim, c.num_attention_heads, c.num_key_value_heads
        q = _dense(heads * d, "q_proj")(x).reshape(b, t, heads, d)
        k = _dense(kv_heads * d, "k_proj")(x).reshape(b, t, kv_heads, d)
        v = _dense(kv_heads * d, "v_proj")(x).reshape(b, t, kv_heads, d)
        cos, sin = cos[None, :, None, :].astype(q.dtype), sin[None, :, None, :].astype(q.dtype)
        q = q * cos + _rotate_half(q) * sin
        k = k * cos + _rotate_half(k) * sin
        if cache is not None:
            k_cache, v_cache = cache
            k = jax.lax.dynamic_update_slice(k_cache, k.astype(k_cache.dtype), (0, start, 0, 0))
            v = jax.lax.dynamic_update_slice(v_cache, v.astype(v_cache.dtype), (0, start, 0, 0))
            cache = (k, v)
        out = jax.nn.dot_product_attention(q, k, v, mask=mask[None, None])
        return _dense(c.hidden_size, "o_proj")(out.reshape(b, t, heads * d)), cache


class MLP(nn.Module):
    config: LlamaConfig

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        c = self.config
        gate = _dense(c.intermediate_size, "gate_proj")(x)
        up = _dense(c.intermediate_size, "up_proj")(x)
        return _dense(c.hidden_size, "down_proj")(jax.nn.silu(gate) * up)


class DecoderLayer(nn.Module):
    config: LlamaConfig

    @nn.compact
    def __call__(self, x, cos, sin, mask, start, cache):
        eps = self.config.rms_norm_eps
        h, cache = Attention(self.config, name="self_attn")(
            RMSNorm(eps, name="input_layernorm")(x), cos, sin, mask, start, cache
        )
        x = x + h
        x = x + MLP(self.config, name="mlp")(RMSNorm(eps, name="post_attention_layernorm")(x))
        return x, cache


class LlamaModel(nn.Module):
    config: LlamaConfig

    @nn.compact
    def __call__(self, tokens, cos, sin, mask, start, cache):
        c = self.config
        x = nn.Embed(c.vocab_size, c.hidden_size, name="embed_tokens")(tokens)
        new_cache = []
        for i in range(c.num_hidden_layers):
            layer_cache = None if cache is None else cache[i]
            x, layer_cache = DecoderLayer(c, name=f"layers_{i}")(
                x, cos, sin, mask, start, layer_cache
            )
            new_cache.append(layer_cache)
        return RMSNorm(c.rms_norm_eps, name="norm")(x), (
            None if cache is None else tuple(new_cache)
        )


class LlamaForCausalLM(nn.Module):
    """__call__(tokens, start, cache, last) -> (float32 logits [B, T, vocab], updated cache)."""

    config: LlamaConfig
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, tokens, start=0, cache=None, last=False):
        """tokens [B, T] at positions start .. start + T - 1 (start may be traced). Without a
        cache: causal attention over the T tokens. With one: keys and values are written into it
        and each token attends to every slot up to its own position. `last`: the logits of the
        last position only."""
        c = self.config
        t = tokens.shape[1]
        cos_table, sin_table = llama.rope_tables(c, c.max_position_embeddings)
        positions = start + jnp.arange(t)
        cos, sin = jnp.asarray(cos_table)[positions], jnp.asarray(sin_table)[positions]
        keys = jnp.arange(t) if cache is None else jnp.arange(cache[0][0].shape[1])
        mask = (
            keys[None, :] <= positions[:, None]
            if cache is not None
            else keys[None, :] <= keys[:, None]
        )
        x, cache = LlamaModel(c, name="model")(tokens, cos, sin, mask, start, cache)
        if last:
            x = x[:, -1:]
        logits = _dense(c.vocab_size, "lm_head")(x)
        return logits.astype(jnp.float32), cache


def model(config: LlamaConfig) -> LlamaForCausalLM:
    return LlamaForCausalLM(config)


# ---- the canonical layout <-> Flax params ----------------------------------------------------

_LAYER = re.compile(r"layers_(\d+)")


def canonical_key(path: tuple[str, ...]) -> tuple[str, bool]:
    """The canonical name of a Flax leaf, and whether its array is transposed (kernels)."""
    *modules, leaf = path
    names = [_LAYER.sub(r"layers.\1", m) for m in modules]
    transposed = leaf == "kernel"
    return ".".join([*names, "weight"]), transposed


def to_flax(config: LlamaConfig, weights: Mapping[str, Any], dtype: Any = jnp.float32) -> dict:
    """Flax params holding canonical weights (numpy or anything with __array__), in `dtype`.
    Every leaf is filled and every tensor used, else ValueError."""
    template = jax.eval_shape(
        lambda: model(config).init(jax.random.key(0), jnp.zeros((1, 1), jnp.int32))
    )["params"]
    used: set[str] = set()

    def fill(path: tuple, leaf: jax.ShapeDtypeStruct) -> jax.Array:
        names = tuple(getattr(p, "key", str(p)) for p in path)
        key, transposed = canonical_key(names)
        if key not in weights:
            raise ValueError(f"flax {'/'.join(names)} wants {key!r}, which the weights lack")
        value = np.asarray(weights[key], np.float32)
        if transposed:
            value = value.T
        if value.shape != leaf.shape:
            raise ValueError(f"{key}: shape {value.shape} after conversion; flax has {leaf.shape}")
        used.add(key)
        return jnp.asarray(value, dtype)

    params = jax.tree_util.tree_map_with_path(fill, template)
    unused = sorted(set(weights) - used)
    if unused:
        raise ValueError(f"weights without a flax counterpart: {', '.join(unused[:5])}")
    return {"params": params}


def to_canonical(variables: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The canonical weights of Flax variables, C-contiguous float32: the inverse of to_flax."""
    out = {}
    for path, leaf in jax.tree_util.tree_flatten_with_path(variables["params"])[0]:
        names = tuple(getattr(p, "key", str(p)) for p in path)
        key, transposed = canonical_key(names)
        value = np.asarray(leaf, np.float32)
        out[key] = np.ascontiguousarray(value.T if transposed else value)
    return out


def new_cache(config: LlamaConfig, batch: int, max_len: int, dtype: Any, device: Any) -> Cache:
    shape = (batch, max_len, config.num_key_value_heads, config.head_dim)
    return tuple(
        (
            jax.device_put(jnp.zeros(shape, dtype), device),
            jax.device_put(jnp.zeros(shape, dtype), device),
        )
        for _ in range(config.num_hidden_layers)
    )


class Engine:
    """Greedy decoding with the static cache, prefill and decode each jitted once with the cache
    donated: prefill(prompt) -> first token [B]; decode(token, position) -> next token [B].
    compile() lowers and compiles both ahead of time (so compilation is timed apart)."""

    def __init__(
        self,
        config: LlamaConfig,
        variables: Any,
        batch: int,
        prompt_len: int,
        max_len: int,
        device: Any,
    ) -> None:
        self.config = config
        self.variables = variables
        self.device = device
        dtype = jax.tree_util.tree_leaves(variables)[0].dtype
        self.cache = new_cache(config, batch, max_len, dtype, device)
        self.batch, self.prompt_len, self.max_len = batch, prompt_len, max_len
        net = model(config)

        def prefill(variables, cache, tokens):
            logits, cache = net.apply(variables, tokens, 0, cache, last=True)
            return jnp.argmax(logits[:, -1], axis=-1).astype(jnp.int32), cache

        def decode(variables, cache, token, position):
            logits, cache = net.apply(variables, token[:, None], position, cache, last=True)
            return jnp.argmax(logits[:, -1], axis=-1).astype(jnp.int32), cache

        def step_logits(variables, cache, tokens, start):
            return net.apply(variables, tokens, start, cache)

        self._prefill_jit = jax.jit(prefill, donate_argnums=(1,))
        self._decode_jit = jax.jit(decode, donate_argnums=(1,))
        self._logits_jit = jax.jit(step_logits, donate_argnums=(1,))
        self._prefill = self._prefill_jit
        self._decode = self._decode_jit

    def compile(self) -> None:
        tokens = jax.ShapeDtypeStruct((self.batch, self.prompt_len), jnp.int32)
        token = jax.ShapeDtypeStruct((self.batch,), jnp.int32)
        position = jax.ShapeDtypeStruct((), jnp.int32)
        self._prefill = self._prefill_jit.lower(self.variables, self.cache, tokens).compile()
        self._decode = self._decode_jit.lower(self.variables, self.cache, token, position).compile()

    def prefill(self, tokens: jax.Array) -> jax.Array:
        token, self.cache = self._prefill(self.variables, self.cache, tokens)
        return token

    def decode(self, token: jax.Array, position: int) -> jax.Array:
        token, self.cache = self._decode(self.variables, self.cache, token, jnp.int32(position))
        return token

    def logits(self, tokens: jax.Array, prefill_len: int) -> jax.Array:
        """float32 logits [B, T, vocab] through the cache path: a prefill of the first
        prefill_len tokens, then one step per further token (teacher-forced). Needs a cache of
        the tokens' batch."""
        out = []
        logits, self.cache = self._logits_jit(
            self.variables, self.cache, tokens[:, :prefill_len], 0
        )
        out.append(logits)
        for pos in range(prefill_len, tokens.shape[1]):
            logits, self.cache = self._logits_jit(
                self.variables, self.cache, tokens[:, pos : pos + 1], jnp.int32(pos)
            )
            out.append(logits)
        return jnp.concatenate(out, axis=1)
