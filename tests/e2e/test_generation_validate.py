"""dlbench validate --workload generation through the real CLI: torch, jax and transformers load
the same decoder weights, run the same token sequences through their KV caches, and their logits
agree at the fp32 bound; a model that does not generate is refused with the allowed ones."""

from __future__ import annotations

import json

from conftest import Dlbench


def test_llama_tiny_logits_agree_across_three_engines(dlbench: Dlbench) -> None:
    r = dlbench("validate", "--workload", "generation", "--model", "llama-tiny", "--inputs", "2",
                "--json")
    assert r.code == 0, r.err + r.out
    report = json.loads(r.out)
    assert report["ok"] is True
    (model,) = report["models"]
    assert model["model"] == "llama-tiny" and model["weights"] == "seed 0 (built by torch)"
    pairs = {(p["a"], p["b"]): p for p in model["pairs"]}
    assert set(pairs) == {("torch", "jax"), ("torch", "transformers"), ("jax", "transformers")}
    for pair in pairs.values():
        assert pair["max_rel_err"] <= 2e-5 and pair["pass"] is True
    settings = {o["framework"]: o["settings"] for o in model["outputs"]}
    assert settings["torch"]["kv_cache"] == "static" and settings["transformers"]["kv_cache"] == "dynamic"
    assert all(s["vocab_size"] == 4096 for s in settings.values())


def test_generation_models_only(dlbench: Dlbench) -> None:
    r = dlbench("validate", "--workload", "generation", "--model", "resnet18")
    assert r.code == 2
    assert r.err.strip() == ("dlbench: error: --model resnet18: not a model; allowed: llama-tiny, "
                             "llama-125m, llama-1b")
    r = dlbench("validate", "--workload", "serving")
    assert r.code == 2
    assert r.err.strip() == ("dlbench: error: --workload serving: allowed: inference, training, "
                             "generation")
