"""dlbench validate through the real CLI and real torch and jax workers: one set of weights, the
same inputs, outputs compared; plus the experiment key validate = true and the bad-input paths."""

from __future__ import annotations

import json

import pytest

from conftest import Dlbench


def test_resnet18_agrees_across_frameworks(dlbench: Dlbench) -> None:
    r = dlbench("validate", "--model", "resnet18", "--inputs", "2", "--json")
    assert r.code == 0, r.err + r.out
    report = json.loads(r.out)
    assert report["ok"] is True
    model = report["models"][0]
    assert model["model"] == "resnet18" and model["weights"] == "seed 0 (built by torch)"
    (pair,) = model["pairs"]
    assert (pair["a"], pair["b"]) == ("torch", "jax")
    assert pair["max_rel_err"] <= 2e-5 and pair["pass"] is True
    assert pair["cosine"] > 0.999999
    assert pair["top1_agreement"] == 1.0
    settings = {o["framework"]: o["settings"] for o in model["outputs"]}
    assert settings["torch"]["layout"] == "NCHW" and settings["jax"]["layout"] == "NHWC"
    text = dlbench("validate", "--model", "resnet18", "--inputs", "2")
    assert text.code == 0
    assert "pass" in text.out and "numeric settings read back" in text.out


def test_given_weights_file_and_a_mismatched_one(dlbench: Dlbench) -> None:
    # Weights for resnet18 offered as resnet50's: the workers refuse them, validate fails (exit 1).
    from safetensors.numpy import save_file
    import numpy as np

    save_file({"conv1.weight": np.zeros((64, 3, 7, 7), np.float32)}, str(dlbench.workdir / "w.safetensors"))
    r = dlbench("validate", "--model", "resnet50", "--weights", "w.safetensors", "--inputs", "1")
    assert r.code == 1, r.out + r.err
    assert "bad_request" in r.out


def test_bad_arguments(dlbench: Dlbench) -> None:
    r = dlbench("validate", "--model", "resnet5")
    assert r.code == 2
    assert r.err.strip() == ('dlbench: error: --model resnet5: not a model; allowed: resnet18, resnet50, '
                             'vit_b_16, mobilenet_v3_small, efficientnet_b0 (did you mean "resnet50"?)')
    r = dlbench("validate", "--framework", "torch")
    assert r.code == 2 and "at least two frameworks" in r.err
    r = dlbench("validate", "--model", "resnet18", "--weights", "nope.safetensors")
    assert r.code == 2 and "--weights nope.safetensors: no such file" in r.err


@pytest.mark.slow  # test_resnet18_agrees_across_frameworks validates in the quick tier
def test_validate_recorded_with_a_run(dlbench: Dlbench) -> None:
    dlbench.write("v.toml", """
[experiment]
name = "with-validation"
repetitions = 1
validate = true
[matrix]
framework = ["torch", "jax"]
model = ["mobilenet_v3_small"]
[sampling]
warmup_min_iterations = 2
min_iterations = 3
min_time_s = 0
max_time_s = 2
window_min_time_s = 0
""")
    r = dlbench("run", "v.toml")
    assert r.code == 0, r.err + r.out
    assert "validation mobilenet_v3_small fp32 cpu: torch vs jax outputs agree to" in r.out
    rows = dlbench.query("SELECT model, framework_a, framework_b, status, max_rel_err FROM validations")
    assert len(rows) == 1 and rows[0][:4] == ("mobilenet_v3_small", "torch", "jax", "pass")
    show = dlbench("show", "latest")
    assert "outputs agree to" in show.out
    exported = json.loads(dlbench("export", "latest", "--format", "json").out)
    assert exported["validations"][0]["status"] == "pass"
