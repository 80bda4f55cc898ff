"""Training on a real dataset (docs/protocol.md, `fit`; adapters/_dataset.py).

Pins: the digits arrive from the installed scikit-learn as documented (split, size, scaling); each
epoch's order is a function of (seed, epoch) alone, so every framework is fed the same images in
the same order; a dataset whose package is missing is named with its remedy, and the capabilities
line says so; `fit` in both workers trains from the load's initial weights (the same seed gives
the same epochs' losses), scores the held-out split, and refuses what it cannot run.

On the CPU: resnet18 at batch 32, one epoch of 44 steps (about 20 s on 2 cores), twice per
framework.
"""

import math
from typing import Any

import numpy as np
import pytest
import torch

from dlbench_worker import capabilities
from dlbench_worker.adapters import _dataset
from dlbench_worker.adapters import jax as jax_adapter
from dlbench_worker.adapters import torch as torch_adapter
from dlbench_worker.protocol import LoadRequest, ProtocolError, WorkerError, decode_request

torch.set_num_threads(2)

ADAPTERS = {"torch": torch_adapter, "jax": jax_adapter}
SGD = {"name": "sgd", "lr": 0.01, "momentum": 0.9, "nesterov": False, "weight_decay": 0.0}


def _request(model: str = "resnet18", batch: int = 32, seed: int = 0) -> LoadRequest:
    return LoadRequest(
        model=model,
        batch=batch,
        precision="fp32",
        device="cpu",
        mode="training",
        layout="default",
        seed=seed,
        options={"optimizer": SGD},
    )


def test_the_digits_are_split_and_scaled_as_documented() -> None:
    data = _dataset.load("digits")
    assert data.train_x.shape == (1438, 3, 32, 32)
    assert data.test_x.shape == (359, 3, 32, 32)
    assert data.train_x.dtype == np.float32
    assert sorted(set(data.train_y.tolist())) == list(range(10))
    assert abs(float(data.train_x.mean())) < 1e-4
    assert abs(float(data.train_x.std()) - 1) < 1e-4
    # Each 8x8 pixel is a 4x4 block, the same on the three channels.
    assert np.array_equal(data.train_x[:, 0], data.train_x[:, 2])
    assert np.all(data.train_x[:, :, :4, :4] == data.train_x[:, :, :1, :1])


def test_each_epochs_order_depends_on_seed_and_epoch_only() -> None:
    first = _dataset.epoch_batches(3, 0, 1438, 64)
    assert len(first) == 1438 // 64
    assert all(len(b) == 64 for b in first)
    assert len(set(np.concatenate(first).tolist())) == 22 * 64  # no image twice in an epoch
    again = _dataset.epoch_batches(3, 0, 1438, 64)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    other = _dataset.epoch_batches(3, 1, 1438, 64)
    assert not np.array_equal(first[0], other[0])


class _Recording:
    """FitHooks that remember what they were fed and predict class 0."""

    def __init__(self) -> None:
        self.labels: list[list[int]] = []

    def train_step(self, x: Any, y: Any) -> float:
        self.labels.append(y.tolist())
        return 1.0

    def wait(self, loss: Any) -> float:
        return float(loss)

    def predict(self, x: Any) -> Any:
        return np.zeros(len(x), np.int64)


def test_every_framework_is_fed_the_same_images_in_the_same_order() -> None:
    data = _dataset.load("digits")
    a, b = _Recording(), _Recording()
    epochs = _dataset.fit(a, data, 2, 100, seed=7)
    _dataset.fit(b, data, 2, 100, seed=7)
    assert a.labels == b.labels
    assert len(a.labels) == 2 * (1438 // 100)
    assert [e["train_loss"] for e in epochs] == [1.0, 1.0]
    assert epochs[0]["accuracy"] == pytest.approx(float(np.mean(data.test_y == 0)))


def test_a_missing_package_is_named_with_its_remedy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(_dataset._PACKAGES, "digits", ("no_such_module_x", "scikit-learn"))
    why = _dataset.missing("digits")
    assert why is not None and "scikit-learn is not installed" in why
    with pytest.raises(WorkerError, match='dataset "digits": scikit-learn is not installed'):
        _dataset.load("digits")
    line = capabilities.TORCH.to_json()
    assert line["datasets"] == ["digits"]
    assert "scikit-learn" in line["datasets_missing"]["digits"]


def test_fit_requests_are_checked() -> None:
    request = decode_request('{"op": "fit", "dataset": "digits", "epochs": 2}')
    assert (request.dataset, request.epochs) == ("digits", 2)
    with pytest.raises(ProtocolError, match='fit: field "epochs" must be an integer in'):
        decode_request('{"op": "fit", "dataset": "digits", "epochs": 0}')
    with pytest.raises(ProtocolError, match='fit: missing field "dataset"'):
        decode_request('{"op": "fit", "epochs": 1}')


@pytest.mark.slow  # a minute on 2 cores; the e2e dataset test and the split test cover the rest
@pytest.mark.parametrize("framework", ADAPTERS)
def test_fit_trains_from_the_loads_weights_and_scores_the_held_out_split(framework: str) -> None:
    adapter = ADAPTERS[framework].create()
    adapter.load(_request())
    adapter.measure_each(2)  # the timed steps move the weights; fit starts from the load's
    (epoch,) = adapter.fit("digits", 1)
    assert epoch["epoch_ns"] > 0
    assert math.isfinite(epoch["train_loss"])
    # resnet18 from scratch, SGD 0.01 with momentum, one epoch of 44 steps: about 0.66 here.
    assert epoch["accuracy"] > 0.3  # chance is 0.1
    (again,) = adapter.fit("digits", 1)  # from the load's weights again, in the same order
    assert again["train_loss"] == pytest.approx(epoch["train_loss"], rel=1e-4)
    assert again["accuracy"] == pytest.approx(epoch["accuracy"], abs=2 / 359)


def test_fit_refuses_vit_and_a_batch_larger_than_the_dataset() -> None:
    with pytest.raises(WorkerError, match="vit_b_16 takes 224x224 images only"):
        _dataset.check_model("vit_b_16", "digits")
    _dataset.check_model("resnet18", "digits")
    with pytest.raises(WorkerError, match="batch 2000 is larger than dataset"):
        _dataset.fit(_Recording(), _dataset.load("digits"), 1, 2000, seed=0)
