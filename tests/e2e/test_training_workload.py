"""The training workload through the real CLI and the real torch and jax workers:
`validate --workload training` for every model, the quick training experiment filtered to resnet18
(run, show, report, export), and the bad-input paths."""

from __future__ import annotations

import csv
import json

import pytest

from conftest import ROOT, Dlbench

MODELS = ["resnet18", "resnet50", "vit_b_16", "mobilenet_v3_small", "efficientnet_b0"]


@pytest.mark.slow  # five models, both frameworks: minutes; the quick tier trains resnet18 below
def test_every_model_trains_alike_in_fp32(dlbench: Dlbench) -> None:
    r = dlbench("validate", "--workload", "training", "--inputs", "2", "--json", timeout=1800)
    assert r.code == 0, r.out[-4000:] + r.err[-2000:]
    report = json.loads(r.out)
    assert report["workload"] == "training" and report["steps"] == 3
    assert report["optimizer"] == {"name": "sgd", "lr": 0.001, "momentum": 0.9, "nesterov": True,
                                   "weight_decay": 0.0005}
    assert [m["model"] for m in report["models"]] == MODELS
    for model in report["models"]:
        (pair,) = model["pairs"]
        assert pair["pass"] is True, model
        assert len(pair["loss_errors"]) == 3
        assert pair["loss_errors"][0] <= pair["tolerance"]["first_loss"]
        losses = {o["framework"]: o["losses"] for o in model["outputs"]}
        assert losses["torch"][-1] < losses["torch"][0]  # it trains
        settings = {o["framework"]: o["settings"] for o in model["outputs"]}
        batch_norm = "none" if model["model"] == "vit_b_16" else "train"  # ViT has no BatchNorm
        assert settings["torch"]["batch_norm"] == settings["jax"]["batch_norm"] == batch_norm
        assert settings["jax"]["optimizer"]["name"] == "sgd"


def test_bad_training_arguments(dlbench: Dlbench) -> None:
    r = dlbench("validate", "--workload", "train")
    assert r.code == 2
    assert r.err.strip() == 'dlbench: error: --workload train: allowed: inference, training, generation'
    r = dlbench("validate", "--workload", "training", "--steps", "1")
    assert r.code == 2 and "--steps 1: allowed: 2 to 100" in r.err
    r = dlbench("validate", "--workload", "training", "--precision", "fp16")
    assert r.code == 2 and "training allows fp32 or bf16" in r.err
    r = dlbench("validate", "--workload", "training", "--optimizer", "adam")
    assert r.code == 2 and "--optimizer adam: allowed: sgd, adamw" in r.err


@pytest.mark.slow  # 45 s on 2 cores; the workers' training tests run in the quick tier
def test_quick_training_experiment_runs_stores_and_reports(dlbench: Dlbench) -> None:
    text = (ROOT / "experiments" / "training-quick.toml").read_text()
    # The shipped file, made smaller: 2 repetitions and shorter sampling.
    text = text.replace("repetitions = 3 ", "repetitions = 2 ").replace("max_time_s = 5", "max_time_s = 2")
    dlbench.write("training.toml", text)
    r = dlbench("run", "training.toml", "--filter", "model=resnet18", "--filter", "batch=4",
                timeout=1200)
    assert r.code == 0, r.err[-3000:] + r.out[-3000:]
    rows = dlbench.query(
        "SELECT c.framework, c.mode, c.status, c.flops_per_sample, r.settings_json "
        "FROM cells c JOIN repetitions r USING (cell_id) WHERE r.status = 'ok' ORDER BY c.cell_idx")
    assert {(row[0], row[1], row[2]) for row in rows} == {("torch", "training", "ok"),
                                                          ("jax", "training", "ok")}
    assert {row[3] for row in rows} == {3 * 3_628_146_688}  # 3x resnet18's forward FLOPs
    for row in rows:
        settings = json.loads(row[4])
        assert settings["workload"] == "training"
        assert settings["optimizer"]["lr"] == 0.01 and settings["optimizer"]["momentum"] == 0.9
        assert settings["optimizer_state_bytes"] == settings["parameter_bytes"] > 40e6  # SGD momentum
    assert "resnet18 bs4 fp32" in r.out

    show = dlbench("show")
    assert show.code == 0 and "training" in show.out

    rep = dlbench("report", "latest", "--out", "out")
    assert rep.code == 0, rep.err
    md = (dlbench.workdir / "out" / "report.md").read_text()
    assert "one whole training step" in md
    assert "optimizer state" in md and "44.6 MiB" in md

    exp = dlbench("export", "--format", "csv", "-o", "cells.csv")
    assert exp.code == 0, exp.err
    with open(dlbench.workdir / "cells.csv") as f:
        rows = list(csv.DictReader(f))
    assert rows and all(row.get("workload", row.get("mode")) == "training" for row in rows)
