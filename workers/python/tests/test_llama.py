"""The Llama-style decoders of the generation workload (models/llama.py, torch_llama.py,
flax_llama.py), in-process, on llama-tiny.

Pins: the canonical layout has transformers' names and the configs' parameter counts; each
framework's static-KV-cache path (a prefill, then one step per token) gives the logits of the
plain causal forward; greedy decoding with the cache picks the tokens that re-running the whole
sequence without a cache picks; canonical weights -> Flax -> canonical is the identity; torch
and Flax give the same logits on the same tokens and weights (fp32: 2e-5 of the largest |logit|,
the image models' bound; observed below 1e-6), and so does transformers' own LlamaForCausalLM
loading the same state dict, where transformers is installed.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from dlbench_worker.models import flax_llama, llama, torch_llama

CONFIG = llama.CONFIGS["llama-tiny"]
RTOL = 2e-5
BATCH, PROMPT, NEW = 2, 12, 6


@pytest.fixture(scope="module")
def weights() -> dict[str, np.ndarray]:
    return llama.init_weights(CONFIG, seed=0)


@pytest.fixture(scope="module")
def tokens() -> np.ndarray:
    return llama.prompt_tokens(CONFIG, BATCH, PROMPT + NEW, seed=0)


@pytest.fixture(scope="module")
def torch_model(weights: dict[str, np.ndarray]) -> torch_llama.LlamaForCausalLM:
    return torch_llama.build(CONFIG, weights, torch.device("cpu"), torch.float32)


@pytest.fixture(scope="module")
def torch_logits(torch_model: torch_llama.LlamaForCausalLM, tokens: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        t = tokens.shape[1]
        return torch_model(torch.from_numpy(tokens), torch.arange(t)).numpy()


def _close(a: np.ndarray, b: np.ndarray, rtol: float = RTOL) -> float:
    err = float(np.abs(a - b).max() / np.abs(b).max())
    assert err < rtol, f"max |a - b| is {err:.3g} of the largest |logit|; bound {rtol}"
    return err


def test_configs_have_the_sizes_they_are_named_for() -> None:
    counts = {name: llama.parameter_count(c) for name, c in llama.CONFIGS.items()}
    assert 1_000_000 <= counts["llama-tiny"] <= 5_000_000
    assert 110_000_000 <= counts["llama-125m"] <= 140_000_000
    assert 1_000_000_000 <= counts["llama-1b"] <= 1_200_000_000
    for config in llama.CONFIGS.values():
        assert config.num_attention_heads % config.num_key_value_heads == 0
        assert config.num_key_value_heads < config.num_attention_heads  # grouped-query


def test_canonical_layout_is_transformers_state_dict(torch_model, weights) -> None:
    state = torch_llama.canonical_state(torch_model)
    assert list(state) == list(llama.canonical_shapes(CONFIG))
    assert {k: tuple(v.shape) for k, v in state.items()} == llama.canonical_shapes(CONFIG)
    assert "model.layers.3.self_attn.k_proj.weight" in state
    assert sum(p.numel() for p in torch_model.parameters()) == llama.parameter_count(CONFIG)
    assert np.array_equal(state["lm_head.weight"].numpy(), weights["lm_head.weight"])


def test_weights_are_a_function_of_the_seed() -> None:
    a, b, c = (llama.init_weights(CONFIG, seed) for seed in (0, 0, 1))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["model.norm.weight"], c["model.norm.weight"])
    assert abs(float(a["model.norm.weight"].mean()) - 1.0) < 0.01  # norm weights near one


def test_shapes(torch_logits: np.ndarray, tokens: np.ndarray) -> None:
    assert torch_logits.shape == (BATCH, PROMPT + NEW, CONFIG.vocab_size)
    assert torch_logits.dtype == np.float32
    assert tokens.dtype == np.int64 and tokens.min() >= 0 and tokens.max() < CONFIG.vocab_size


def test_torch_cache_path_equals_the_plain_forward(torch_model, tokens, torch_logits) -> None:
    engine = torch_llama.Engine(torch_model, BATCH, max_len=PROMPT + NEW + 4)
    cached = engine.logits(torch.from_numpy(tokens), prefill_len=PROMPT).numpy()
    _close(cached, torch_logits)
    # A second pass over the same cache: stale slots from the first are masked, not read.
    again = engine.logits(torch.from_numpy(tokens[:, ::-1].copy()), prefill_len=3).numpy()
    with torch.inference_mode():
        reversed_tokens = torch.from_numpy(tokens[:, ::-1].copy())
        plain = torch_model(reversed_tokens, torch.arange(tokens.shape[1])).numpy()
    _close(again, plain)


def _greedy_without_cache(forward, prompt: np.ndarray, steps: int) -> np.ndarray:
    seq = prompt
    for _ in range(steps):
        nxt = forward(seq)[:, -1].argmax(-1)
        seq = np.concatenate([seq, nxt[:, None]], axis=1)
    return seq[:, prompt.shape[1] :]


def _greedy_with_engine(engine, prompt, steps: int) -> np.ndarray:
    token = engine.prefill(prompt)
    out = [np.asarray(token)]
    for pos in range(prompt.shape[1], prompt.shape[1] + steps - 1):
        token = engine.decode(token, pos)
        out.append(np.asarray(token))
    return np.stack(out, axis=1)


def test_torch_greedy_decoding_with_cache_equals_without(torch_model, tokens) -> None:
    prompt = tokens[:, :PROMPT]

    def forward(seq: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return torch_model(torch.from_numpy(seq), torch.arange(seq.shape[1])).numpy()

    expected = _greedy_without_cache(forward, prompt, NEW)
    engine = torch_llama.Engine(torch_model, BATCH, max_len=PROMPT + NEW)
    got = _greedy_with_engine(engine, torch.from_numpy(prompt), NEW)
    assert np.array_equal(got, expected)


@pytest.mark.slow  # torch.compile of the decoder: 30-45 s on 2 cores
def test_torch_compile_engine_generates_what_eager_does(torch_model, tokens) -> None:
    """torch.compile's prefill and decode graphs produce the eager engine's greedy tokens, and the
    decode step compiles once for every position (the position is a tensor, the cache static)."""
    prompt = torch.from_numpy(tokens[:, :PROMPT])
    eager = _greedy_with_engine(torch_llama.Engine(torch_model, BATCH, max_len=PROMPT + NEW), prompt, NEW)
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()
    compiled = torch_llama.Engine(torch_model, BATCH, max_len=PROMPT + NEW, compile_mode="default")
    assert np.array_equal(_greedy_with_engine(compiled, prompt, NEW), eager)
    frames = torch._dynamo.utils.counters["frames"]
    assert frames["ok"] == 2, dict(frames)  # the prefill and the decode step, no recompiles


@pytest.fixture(scope="module")
def flax_variables(weights: dict[str, np.ndarray]) -> dict:
    return flax_llama.to_flax(CONFIG, weights)


def test_weight_conversion_round_trip(weights, flax_variables) -> None:
    params = flax_variables["params"]
    assert params["model"]["layers_0"]["self_attn"]["q_proj"]["kernel"].shape == (128, 128)
    assert params["lm_head"]["kernel"].shape == (CONFIG.hidden_size, CONFIG.vocab_size)
    back = flax_llama.to_canonical(flax_variables)
    assert set(back) == set(weights)
    for name, value in weights.items():
        assert np.array_equal(back[name], value), name
    with pytest.raises(ValueError, match="lack"):
        flax_llama.to_flax(CONFIG, {k: v for k, v in weights.items() if k != "model.norm.weight"})
    with pytest.raises(ValueError, match="without a flax counterpart"):
        flax_llama.to_flax(CONFIG, {**weights, "model.extra.weight": np.zeros(1, np.float32)})


def test_torch_and_flax_give_the_same_logits(flax_variables, tokens, torch_logits) -> None:
    logits, cache = flax_llama.model(CONFIG).apply(flax_variables, jnp.asarray(tokens, jnp.int32))
    assert cache is None
    _close(np.asarray(logits), torch_logits)


def test_flax_cache_path_and_greedy_decoding(flax_variables, tokens, torch_logits) -> None:
    device = jax.devices("cpu")[0]
    engine = flax_llama.Engine(CONFIG, flax_variables, BATCH, PROMPT, PROMPT + NEW + 4, device)
    _close(
        np.asarray(engine.logits(jnp.asarray(tokens, jnp.int32), prefill_len=PROMPT)), torch_logits
    )

    net = flax_llama.model(CONFIG)
    apply = jax.jit(lambda seq: net.apply(flax_variables, seq)[0])
    prompt = tokens[:, :PROMPT]
    expected = _greedy_without_cache(
        lambda seq: np.asarray(apply(jnp.asarray(seq, jnp.int32))), prompt, NEW
    )
    engine = flax_llama.Engine(CONFIG, flax_variables, BATCH, PROMPT, PROMPT + NEW, device)
    engine.compile()
    got = _greedy_with_engine(engine, jnp.asarray(prompt, jnp.int32), NEW)
    assert np.array_equal(got, expected)


def test_transformers_llama_loads_the_canonical_weights(weights, tokens, torch_logits) -> None:
    transformers = pytest.importorskip("transformers")
    from dlbench_worker.models import hf_llama

    model = hf_llama.build(CONFIG, weights, torch.device("cpu"), torch.float32)
    with torch.inference_mode():
        logits = model(input_ids=torch.from_numpy(tokens)).logits.numpy()
    _close(logits, torch_logits)
    assert isinstance(model, transformers.LlamaForCausalLM)
    engine = hf_llama.Engine(model)
    _close(engine.logits(torch.from_numpy(tokens), prefill_len=PROMPT).numpy(), torch_logits)
    expected = _greedy_with_engine(
        torch_llama.Engine(
            torch_llama.build(CONFIG, weights, torch.device("cpu"), torch.float32),
            BATCH,
            max_len=PROMPT + NEW,
        ),
        torch.from_numpy(tokens[:, :PROMPT]),
        NEW,
    )
    got = _greedy_with_engine(engine, torch.from_numpy(tokens[:, :PROMPT]), NEW)
    assert np.array_equal(got, expected)
