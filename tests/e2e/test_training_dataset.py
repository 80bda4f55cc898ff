"""Training on a real dataset through the real CLI and the real torch and jax workers: a training
experiment with `dataset = "digits"` and `validate = true` runs, stores each epoch and the
training validation, and show, report and export give time per epoch and accuracy; a dataset that
is not installed, or asked for wrongly, is one line, exit 2."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess

import pytest
from conftest import Dlbench

EXPERIMENT = """
[experiment]
name = "digits"
repetitions = 1
seed = 1
validate = true

[matrix]
framework = ["torch", "jax"]
model = "resnet18"
batch = 32
device = "cpu"
workload = "training"

[training]
optimizer = "sgd"
lr = 0.01
momentum = 0.9
weight_decay = 0.0
dataset = "digits"
epochs = 1

[sampling]
warmup_min_iterations = 1
warmup_max_iterations = 3
min_iterations = 3
min_time_s = 0
max_time_s = 1
window_min_time_s = 0
"""


@pytest.mark.slow  # a minute and a half on 2 cores
def test_a_dataset_gives_time_per_epoch_and_accuracy(dlbench: Dlbench) -> None:
    dlbench.write("digits.toml", EXPERIMENT)
    r = dlbench("run", "digits.toml", timeout=1200)
    assert r.code == 0, r.err[-3000:] + r.out[-3000:]
    assert "training on a dataset" in r.out
    rows = dlbench.query(
        "SELECT c.framework, c.dataset, c.epochs, c.epoch_s, c.accuracy, COUNT(e.epoch_idx) "
        "FROM cells c JOIN repetitions r USING (cell_id) "
        "JOIN training_epochs e USING (repetition_id) GROUP BY c.cell_id ORDER BY c.cell_idx")
    assert [row[0] for row in rows] == ["torch", "jax"]
    for framework, dataset, epochs, epoch_s, accuracy, stored in rows:
        assert (dataset, epochs, stored) == ("digits", 1, 1)
        assert epoch_s > 0
        assert 0.2 < accuracy <= 1, (framework, accuracy)  # chance is 0.1; about 0.66 here

    # validate = true on training cells: the training check after the run, stored with it.
    (validation,) = dlbench.query(
        "SELECT workload, model, framework_a, framework_b, status, steps, max_loss_err, weights_err "
        "FROM validations")
    assert validation[:6] == ("training", "resnet18", "torch", "jax", "pass", 3), validation
    assert "losses agree to" in r.out

    show = dlbench("show")
    assert show.code == 0, show.err
    assert "resnet18 fp32 cpu training: torch vs jax over 3 steps" in show.out
    assert "time per epoch" in show.out and "accuracy" in show.out
    cell = dlbench("show", "latest", "--cell", "0")
    assert "digits epoch 1:" in cell.out and "held-out accuracy" in cell.out

    rep = dlbench("report", "latest", "--out", "out", "--format", "md,csv")
    assert rep.code == 0, rep.err
    md = (dlbench.workdir / "out" / "report.md").read_text()
    assert "Training on a real dataset" in md and "time per epoch (s)" in md
    assert (dlbench.workdir / "out" / "training.csv").exists()

    exp = dlbench("export", "--format", "csv", "-o", "cells.csv")
    assert exp.code == 0, exp.err
    with open(dlbench.workdir / "cells.csv") as f:
        cells = list(csv.DictReader(f))
    assert [c["dataset"] for c in cells] == ["digits", "digits"]
    assert all(float(c["accuracy"]) > 0.2 and float(c["epoch_s"]) > 0 for c in cells)
    js = dlbench("export", "--format", "json")
    data = json.loads(js.out)
    assert data["validations"][0]["training"]["steps"] == 3
    assert data["cells"][0]["dataset"]["epochs"] == 1
    assert len(data["cells"][0]["repetitions"][0]["epochs"]) == 1


def test_dataset_input_errors_are_one_line(dlbench: Dlbench) -> None:
    dlbench.write("bad.toml", EXPERIMENT.replace('dataset = "digits"\n', 'dataset = "mnist"\n'))
    r = dlbench("run", "bad.toml", "--dry-run")
    assert r.code == 2
    assert r.err.strip() == (
        'dlbench: error: bad.toml:20: training.dataset: "mnist" is not a dataset of worker torch; '
        "allowed: digits")
    dlbench.write("epochs.toml", EXPERIMENT.replace('dataset = "digits"\n', ""))
    r = dlbench("run", "epochs.toml", "--dry-run")
    assert r.code == 2 and r.err.count("\n") == 1
    assert "training.epochs: counts the epochs over training.dataset, which is not set" in r.err
    dlbench.write("inference.toml", EXPERIMENT.replace('workload = "training"', 'workload = "inference"'))
    r = dlbench("run", "inference.toml", "--dry-run")
    assert r.code == 2 and "training: the matrix has no training cells" in r.err


def test_a_dataset_that_is_not_installed_is_refused_before_anything_runs(dlbench: Dlbench) -> None:
    # A Python without scikit-learn: Debian's own python3 answers --capabilities (no framework is
    # imported for it), and says the dataset's package is missing.
    python = shutil.which("python3.11") or "/usr/bin/python3"
    has_sklearn = subprocess.run([python, "-c", "import sklearn"], capture_output=True).returncode == 0
    if has_sklearn:
        pytest.skip(f"{python} has scikit-learn")
    dlbench.write("digits.toml", EXPERIMENT)
    r = dlbench("run", "digits.toml", "--dry-run", "--python", python)
    assert r.code == 2
    assert r.err.count("\n") == 1
    assert r.err.startswith(
        'dlbench: error: digits.toml:20: training.dataset: "digits" cannot be loaded by worker '
        "torch: scikit-learn is not installed in this Python")
