"""Real data for the training workload (docs/protocol.md, `fit`): a small image dataset that ships
inside a package, so nothing is downloaded at run time, prepared once here as numpy arrays and fed
to every framework in the same order. Imports no framework; numpy and the dataset's package only
when a dataset is loaded.

Facts that shaped it (scikit-learn 1.9.1, read 2026-11):
- `sklearn.datasets.load_digits` reads `sklearn/datasets/data/digits.csv.gz`, installed with the
  package: 1,797 grey 8x8 images of the digits 0-9, pixel values 0-16 (UCI's optical digits).
  Installing scikit-learn from PyPI (with cloudpickle, joblib, threadpoolctl; numpy and scipy are
  pinned already) took 3.1 s on the development machine; importing it and loading the digits 0.9 s.
- The image models take 3-channel images, at least 32x32 (ResNet and MobileNet downsample by 32,
  then pool globally). Each digit is repeated to 32x32 (nearest neighbour, each pixel 4x4) on three
  channels and scaled to [0, 1], then standardised with the training split's mean and standard
  deviation. torchvision's ViT takes 224x224 only, so it is refused.
- The split is fixed, not drawn: every fifth image (index % 5 == 4) is held out: 1,438 to train
  on, 359 to score, about 36 of each digit held out.
- The models keep their 1,000-class heads; the labels are the classes 0-9, and a prediction is the
  argmax over all 1,000 outputs.
- The order of each epoch is numpy's PCG64 permutation seeded by (seed, epoch), the same arrays in
  the same order in every worker. The last partial batch is dropped, so every step has the loaded
  batch size (one compiled shape).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import time
from typing import Any, Protocol

from dlbench_worker import capabilities
from dlbench_worker.protocol import ErrorKind, WorkerError

DATASETS = capabilities.DATASETS

IMAGE_SIZE = 32
"""The side the images are fed at."""

MODELS_TOO_LARGE_INPUT = ("vit_b_16",)
"""Models whose input size is fixed above IMAGE_SIZE."""

_PACKAGES = {"digits": ("sklearn", "scikit-learn")}  # dataset -> (module, PyPI distribution)


def missing(name: str) -> str | None:
    """None when the dataset's package is installed, else why it is not (found without importing
    the package, so --capabilities stays fast)."""
    module, distribution = _PACKAGES[name]
    if importlib.util.find_spec(module) is None:
        return (
            f"{distribution} is not installed in this Python "
            f"(workers/python/requirements.txt pins it: pip install {distribution})"
        )
    return None


@dataclasses.dataclass(frozen=True)
class Dataset:
    name: str
    train_x: Any  # float32 [N, 3, IMAGE_SIZE, IMAGE_SIZE], standardised
    train_y: Any  # int64 [N], classes 0..classes-1
    test_x: Any
    test_y: Any
    classes: int


def load(name: str) -> Dataset:
    """The dataset as arrays, prepared as the module docstring says; a dataset whose package is not
    installed is an `unsupported` error naming it."""
    if name not in DATASETS:
        raise WorkerError(
            ErrorKind.BAD_REQUEST, f'dataset "{name}" is unknown; allowed: {", ".join(DATASETS)}'
        )
    reason = missing(name)
    if reason is not None:
        raise WorkerError(ErrorKind.UNSUPPORTED, f'dataset "{name}": {reason}')
    import numpy as np
    from sklearn.datasets import load_digits

    pixels, labels = load_digits(return_X_y=True)
    images = pixels.reshape(-1, 8, 8).astype(np.float32) / 16.0
    scale = IMAGE_SIZE // 8
    images = images.repeat(scale, axis=1).repeat(scale, axis=2)
    images = np.repeat(images[:, None, :, :], 3, axis=1)
    held_out = np.arange(len(labels)) % 5 == 4
    train_x, test_x = images[~held_out], images[held_out]
    mean, std = float(train_x.mean()), float(train_x.std())
    return Dataset(
        name=name,
        train_x=np.ascontiguousarray((train_x - mean) / std, dtype=np.float32),
        train_y=labels[~held_out].astype(np.int64),
        test_x=np.ascontiguousarray((test_x - mean) / std, dtype=np.float32),
        test_y=labels[held_out].astype(np.int64),
        classes=10,
    )


def check_model(model: str, dataset: str) -> None:
    if model in MODELS_TOO_LARGE_INPUT:
        raise WorkerError(
            ErrorKind.UNSUPPORTED,
            f'{model} takes 224x224 images only; dataset "{dataset}" is fed at '
            f"{IMAGE_SIZE}x{IMAGE_SIZE}",
        )


def epoch_batches(seed: int, epoch: int, examples: int, batch: int) -> list[Any]:
    """The index arrays of one epoch's steps: a permutation seeded by (seed, epoch), cut into
    full batches."""
    import numpy as np

    order = np.random.Generator(np.random.PCG64([seed, epoch])).permutation(examples)
    steps = examples // batch
    return [order[i * batch : (i + 1) * batch] for i in range(steps)]


class FitHooks(Protocol):
    """What a framework supplies to `fit`: a training step on host arrays (returning its loss,
    possibly not yet computed), a wait for that loss, and the predicted classes of host images
    with the model in inference mode (BatchNorm on its running statistics)."""

    def train_step(self, x: Any, y: Any) -> Any: ...

    def wait(self, loss: Any) -> float: ...

    def predict(self, x: Any) -> Any: ...


def fit(hooks: FitHooks, data: Dataset, epochs: int, batch: int, seed: int) -> list[dict[str, Any]]:
    """Trains `epochs` epochs; per epoch its time (the steps, including each batch's copy to the
    device, synced at the end), the mean training loss and the accuracy on the held-out split
    after it (not timed)."""
    import numpy as np

    if batch > len(data.train_y):
        raise WorkerError(
            ErrorKind.BAD_REQUEST,
            f'fit: batch {batch} is larger than dataset "{data.name}"\'s '
            f"{len(data.train_y)} training images",
        )
    results = []
    for epoch in range(epochs):
        steps = epoch_batches(seed, epoch, len(data.train_y), batch)
        t0 = time.perf_counter_ns()
        losses = [hooks.train_step(data.train_x[idx], data.train_y[idx]) for idx in steps]
        hooks.wait(losses[-1])
        epoch_ns = time.perf_counter_ns() - t0
        train_loss = float(np.mean([hooks.wait(loss) for loss in losses]))
        predicted = np.concatenate(
            [hooks.predict(data.test_x[i : i + batch]) for i in range(0, len(data.test_y), batch)]
        )
        accuracy = float(np.mean(predicted == data.test_y))
        results.append({"epoch_ns": epoch_ns, "train_loss": train_loss, "accuracy": accuracy})
    return results
