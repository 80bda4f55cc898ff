"""The Llama-style decoder in PyTorch, with transformers' module names, and its greedy engine.

The modules carry LlamaForCausalLM's names ("model.layers.0.self_attn.q_proj"), so state_dict()
is the canonical layout (llama.py) with nothing renamed. The arithmetic follows transformers'
modeling_llama.py (read 2026-11): RMSNorm in float32, rotate-half RoPE from tables computed once
(llama.rope_tables, shared with the Flax model), repeat_kv for grouped-query attention, SwiGLU.

The KV cache is static: one preallocated [batch, kv_heads, max_len, head_dim] key and value tensor
per layer, written in place at the step's positions, and every step attends over all max_len slots
with a mask that hides the ones after the query's position. Shapes then never change from one
decode step to the next, so torch.compile compiles one decode graph (and CUDA graphs could replay
it), and the work per step is what the jitted jax engine does with its static cache: the two
engines run one algorithm. Slots past the current position hold stale keys from an earlier
generation; the mask hides them, so the cache is never cleared.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dlbench_worker.models import llama
from dlbench_worker.models.llama import LlamaConfig


class RMSNorm(nn.Module):
    def __init__(self, size: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(nn.Module):
    def __init__(self, config: LlamaConfig) -> None:
        super().__init__()
        d, h = config.head_dim, config.hidden_size
        self.heads, self.kv_heads, self.head_dim = (
            config.num_attention_heads,
            config.num_key_value_heads,
            d,
        )
        self.q_proj = nn.Linear(h, self.heads * d, bias=False)
        self.k_proj = nn.Linear(h, self.kv_heads * d, bias=False)
        self.v_proj = nn.Linear(h, self.kv_heads * d, bias=False)
        self.o_proj = nn.Linear(self.heads * d, h, bias=False)

    def forward(
        self,
        x: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
        mask: torch.Tensor,
        positions: torch.Tensor,
        cache: tuple[torch.Tensor, torch.Tensor] | None,
    ) -> torch.Tensor:
        """x [B, T, H]; cos, sin [T, d] of the tokens' positions; mask [T, S] (True: attend),
        S = T without a cache, max_len with one."""
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        cos, sin = cos.to(q.dtype), sin.to(q.dtype)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if cache is not None:
            k_cache, v_cache = cache
            k_cache.index_copy_(2, positions, k)
            v_cache.index_copy_(2, positions, v)
            k, v = k_cache, v_cache
        repeat = self.heads // self.kv_heads
        k = k.repeat_interleave(repeat, dim=1)
        v = v.repeat_interleave(repeat, dim=1)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.o_proj(out.transpose(1, 2).reshape(b, t, self.heads * self.head_dim))


class MLP(nn.Module):
    def __init__(self, config: LlamaConfig) -> None:
        super().__init__()
        h, i = config.hidden_size, config.intermediate_size
        self.gate_proj = nn.Linear(h, i, bias=False)
        self.up_proj = nn.Linear(h, i, bias=False)
        self.down_proj = nn.Linear(i, h, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, config: LlamaConfig) -> None:
        super().__init__()
        self.input_layernorm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.self_attn = Attention(config)
        self.post_attention_layernorm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.mlp = MLP(config)

    def forward(self, x, cos, sin, mask, positions, cache):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask, positions, cache)
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaModel(nn.Module):
    def __init__(self, config: LlamaConfig) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(DecoderLayer(config) for _ in range(config.num_hidden_layers))
        self.norm = RMSNorm(config.hidden_size, config.rms_norm_eps)


class LlamaForCausalLM(nn.Module):
    """forward(tokens, positions, cache) -> float logits [B, T, vocab]."""

    def __init__(self, config: LlamaConfig) -> None:
        super().__init__()
        self.config = config
        self.model = LlamaModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        cos, sin = llama.rope_tables(config, config.max_position_embeddings)
        self.register_buffer("rope_cos", torch.from_numpy(cos), persistent=False)
        self.register_buffer("rope_sin", torch.from_numpy(sin), persistent=False)

    def forward(
        self,
        tokens: torch.Tensor,
        positions: torch.Tensor,
        cache: list[tuple[torch.Tensor, torch.Tensor]] | None = None,
        last: bool = False,
    ) -> torch.Tensor:
        """tokens [B, T] int64 at `positions` [T] (int64). Without a cache: causal attention over
        the T tokens. With one: the tokens' keys and values are written into it at `positions`,
        and each token attends to every slot up to its own position. `last`: the logits of the
        last position only ([B, 1, vocab]), as a generating engine needs them."""
        x = self.model.embed_tokens(tokens)
        cos, sin = self.rope_cos[positions], self.rope_sin[positions]
        if cache is None:
            keys = positions
        else:
            keys = torch.arange(cache[0][0].shape[2], device=tokens.device)
        mask = keys[None, :] <= positions[:, None]
        for i, layer in enumerate(self.model.layers):
            x = layer(x, cos, sin, mask, positions, None if cache is None else cache[i])
        if last:
            x = x[:, -1:]
        return self.lm_head(self.model.norm(x)).float()


def build(
    config: LlamaConfig, weights: dict, device: torch.device, dtype: torch.dtype
) -> LlamaForCausalLM:
    """The model on `device` in `dtype` (the RoPE tables stay float32) holding `weights`
    (canonical names, numpy or torch), in eval mode with gradients off."""
    with torch.device("meta"):
        model = LlamaForCausalLM(config)
    state = {k: torch.as_tensor(v) for k, v in weights.items()}
    model.load_state_dict(state, strict=True, assign=True)
    cos, sin = llama.rope_tables(config, config.max_position_embeddings)
    model.rope_cos, model.rope_sin = torch.from_numpy(cos), torch.from_numpy(sin)
    model.requires_grad_(False)
    model = model.to(device=device, dtype=dtype)
    model.rope_cos, model.rope_sin = model.rope_cos.float(), model.rope_sin.float()
    return model.eval()


def canonical_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return dict(model.state_dict())


def new_cache(
    config: LlamaConfig, batch: int, max_len: int, device: torch.device, dtype: torch.dtype
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    shape = (batch, config.num_key_value_heads, max_len, config.head_dim)
    return [
        (
            torch.zeros(shape, device=device, dtype=dtype),
            torch.zeros(shape, device=device, dtype=dtype),
        )
        for _ in range(config.num_hidden_layers)
    ]


class Engine:
    """Greedy decoding with the static cache: prefill(prompt) -> first token [B];
    decode(token, position) -> next token [B]. `compile` wraps both in torch.compile."""

    def __init__(
        self,
        model: LlamaForCausalLM,
        batch: int,
        max_len: int,
        compile_mode: str | None = None,
    ) -> None:
        param = next(model.parameters())
        self.model = model
        self.device = param.device
        self.cache = new_cache(model.config, batch, max_len, param.device, param.dtype)
        self.max_len = max_len
        self._prefill = self._prefill_eager
        self._decode = self._decode_eager
        if compile_mode is not None:
            self._prefill = torch.compile(self._prefill_eager, mode=compile_mode)
            self._decode = torch.compile(self._decode_eager, mode=compile_mode)

    def _prefill_eager(self, tokens: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        return self.model(tokens, positions, self.cache, last=True)[:, -1].argmax(-1)

    def _decode_eager(self, token: torch.Tensor, position: torch.Tensor) -> torch.Tensor:
        return self.model(token[:, None], position, self.cache, last=True)[:, -1].argmax(-1)

    def prefill(self, tokens: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(tokens.shape[1], device=self.device)
        with torch.inference_mode():
            return self._prefill(tokens, positions)

    def decode(self, token: torch.Tensor, position: int) -> torch.Tensor:
        with torch.inference_mode():
            return self._decode(token, torch.tensor([position], device=self.device))

    def logits(self, tokens: torch.Tensor, prefill_len: int) -> torch.Tensor:
        """float32 logits [B, T, vocab] of `tokens` through the cache path: a prefill of the first
        prefill_len tokens, then one decode step per further token (teacher-forced), eager."""
        t = tokens.shape[1]
        out = []
        with torch.inference_mode():
            positions = torch.arange(prefill_len, device=self.device)
            out.append(self.model(tokens[:, :prefill_len], positions, self.cache))
            for pos in range(prefill_len, t):
                position = torch.tensor([pos], device=self.device)
                out.append(self.model(tokens[:, pos : pos + 1], position, self.cache))
        return torch.cat(out, dim=1)
