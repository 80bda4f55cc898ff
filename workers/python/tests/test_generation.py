"""The generation workload behind the protocol (docs/protocol.md, "Generation"): real worker
subprocesses for synthetic, torch, jax and transformers, on llama-tiny.

Pins: a generation load needs options.prompt_tokens and options.new_tokens (and they are refused
elsewhere); a measured call is one generate, and a `sync: "each"` reply carries, per call, the
prefill's ns and new_tokens - 1 decode steps' ns, which add up to no more than the call's wall
time; a window's calls carry no trace; the three engines' logits on the same token file agree
(fp32, 2e-5 of the largest |logit|); weights saved by torch load into jax and transformers and
save back bit for bit; decoders refuse the image workloads and image models refuse generation, as
`unsupported` naming what is allowed; the jax worker never imports torch.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import safetensors.numpy
from worker_process import WORKER_ROOT, WorkerProcess, load_request

from dlbench_worker.protocol import ProtocolError, decode_request

TIMEOUT_S = 180.0
PROMPT, NEW, BATCH = 8, 5, 2
RTOL = 2e-5


def generation_load(model: str = "llama-tiny", **fields: Any) -> dict[str, Any]:
    options = fields.pop("options", {"prompt_tokens": PROMPT, "new_tokens": NEW})
    return load_request(options, model=model, batch=BATCH, mode="generation", **fields)


def test_the_protocol_checks_the_generation_options() -> None:
    good = generation_load()
    assert decode_request(json.dumps(good)).options["new_tokens"] == NEW
    cases = {
        'load: mode "generation" needs options.new_tokens': {"prompt_tokens": 4},
        "load: options.prompt_tokens must be an integer >= 1, got 0": {
            "prompt_tokens": 0,
            "new_tokens": 2,
        },
        "load: options.new_tokens must be an integer >= 1, got true": {
            "prompt_tokens": 3,
            "new_tokens": True,
        },
    }
    for message, options in cases.items():
        with pytest.raises(ProtocolError) as e:
            decode_request(json.dumps(generation_load(options=options)))
        assert str(e.value) == message
    with pytest.raises(ProtocolError, match='only for mode "generation"; mode is "inference"'):
        decode_request(json.dumps(load_request({"new_tokens": 3})))


def check_traces(reply: dict[str, Any], calls: int) -> None:
    assert reply["ok"], reply
    assert len(reply["wall_ns"]) == len(reply["prefill_ns"]) == len(reply["decode_ns"]) == calls
    for wall, prefill, steps in zip(reply["wall_ns"], reply["prefill_ns"], reply["decode_ns"]):
        assert len(steps) == NEW - 1
        assert prefill > 0 and all(ns > 0 for ns in steps)
        assert prefill + sum(steps) <= wall


def test_synthetic_generation_traces_each_call(start_worker) -> None:
    worker = start_worker("synthetic")
    latency = {"latency": {"distribution": "constant", "value_ns": 200_000}}
    options = {**latency, "prompt_tokens": PROMPT, "new_tokens": NEW}
    reply = worker.request(generation_load("synthetic", options=options))
    assert reply["ok"], reply
    settings = reply["settings"]
    assert settings["workload"] == "generation" and settings["decode_steps"] == NEW - 1
    reply = worker.request({"op": "measure", "iterations": 3, "sync": "each"})
    check_traces(reply, 3)
    assert min(reply["decode_ns"][0]) >= 200_000  # each part spins one draw
    window = worker.request({"op": "measure", "iterations": 2, "sync": "window"})
    assert window["ok"] and "prefill_ns" not in window and "decode_ns" not in window
    again = worker.request({"op": "measure", "iterations": 1, "sync": "each"})
    check_traces(again, 1)  # the window's calls were not left in the trace
    assert worker.request({"op": "bye"})["ok"]


def test_image_models_do_not_generate_and_decoders_only_generate(start_worker) -> None:
    worker = start_worker("torch")
    reply = worker.request(generation_load("resnet18"), TIMEOUT_S)
    assert reply["error"] == {
        "kind": "unsupported",
        "message": 'model "resnet18" is an image model; the torch worker generates with: '
        "llama-tiny, llama-125m, llama-1b",
    }
    reply = worker.request(load_request(model="llama-tiny"), TIMEOUT_S)
    assert reply["error"]["message"] == (
        'model "llama-tiny" is a decoder: it runs mode "generation", not "inference"'
    )
    reply = worker.request(generation_load(options={"prompt_tokens": 2000, "new_tokens": 100}))
    assert reply["error"] == {
        "kind": "unsupported",
        "message": "prompt_tokens + new_tokens is 2100; llama-tiny has 2048 positions",
    }
    reply = worker.request(generation_load(layout="channels_last"))
    assert reply["error"]["kind"] == "unsupported" and "layout" in reply["error"]["message"]


def write_tokens(path: Path, tokens: np.ndarray) -> None:
    safetensors.numpy.save_file({"input": tokens.astype(np.float32)}, str(path))


@pytest.fixture(scope="module")
def exchange(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """torch loads from the seed and saves its weights; jax and transformers load that file; all
    three generate, and write the logits of one token file."""
    tmp = tmp_path_factory.mktemp("generation")
    tokens = np.random.default_rng(3).integers(0, 4096, size=(2, 9))
    write_tokens(tmp / "tokens.safetensors", tokens)
    weights = str(tmp / "llama-tiny.safetensors")
    found: dict[str, Any] = {}
    for name in ("torch", "jax", "transformers"):
        worker = WorkerProcess(name, tmp / f"{name}.log")
        try:
            fields = {} if name == "torch" else {"weights": weights}
            load = worker.request(generation_load(**fields), TIMEOUT_S)
            assert load["ok"], (load, worker.log())
            measure = worker.request({"op": "measure", "iterations": 2, "sync": "each"}, TIMEOUT_S)
            out = str(tmp / f"{name}.logits.safetensors")
            request = {"op": "outputs", "input_file": str(tmp / "tokens.safetensors")}
            outputs = worker.request({**request, "output_file": out}, TIMEOUT_S)
            saved = str(tmp / f"{name}.saved.safetensors")
            save = worker.request({"op": "save_weights", "file": saved}, TIMEOUT_S)
            if name == "torch":
                save = worker.request({"op": "save_weights", "file": weights}, TIMEOUT_S)
            found[name] = {
                "load": load,
                "measure": measure,
                "outputs": outputs,
                "save": save,
                "logits": safetensors.numpy.load_file(out)["output"],
                "saved": safetensors.numpy.load_file(saved),
                "log": worker.log(),
            }
            assert worker.request({"op": "bye"})["ok"]
        finally:
            worker.kill()
    found["weights"] = safetensors.numpy.load_file(weights)
    return found


@pytest.mark.parametrize("name", ["torch", "jax", "transformers"])
def test_each_engine_generates_and_traces(exchange: dict[str, Any], name: str) -> None:
    load = exchange[name]["load"]
    assert load["parameters"] == 1_787_008
    assert load["flops_per_sample"] > 0
    settings = load["settings"]
    assert settings["workload"] == "generation" and settings["prompt_tokens"] == PROMPT
    assert settings["kv_cache"] == ("dynamic" if name == "transformers" else "static")
    assert settings["dtype"] == "float32"
    check_traces(exchange[name]["measure"], 2)
    assert exchange[name]["outputs"] == {"ok": True, "shape": [2, 9, 4096]}


@pytest.mark.parametrize("name", ["jax", "transformers"])
def test_engines_agree_on_logits_and_weights(exchange: dict[str, Any], name: str) -> None:
    reference = exchange["torch"]["logits"]
    err = np.abs(exchange[name]["logits"] - reference).max() / np.abs(reference).max()
    assert err < RTOL
    for key, value in exchange["weights"].items():
        assert np.array_equal(exchange[name]["saved"][key], value), key


def test_jax_generation_never_imports_torch(tmp_path: Path) -> None:
    code = (
        "import sys, json\n"
        "from dlbench_worker.adapters import jax as j\n"
        "from dlbench_worker.protocol import decode_request\n"
        f"req = decode_request({json.dumps(json.dumps(generation_load()))})\n"
        "j.create().generation().load(req)\n"
        "print('torch' in sys.modules)\n"
    )
    env = {"PYTHONPATH": str(WORKER_ROOT), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=TIMEOUT_S
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
