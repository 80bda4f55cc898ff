"""The training workload's rules that every adapter shares (docs/protocol.md, `load` with mode
"training"), so that each rule has one copy. Imports no framework.

- Labels are a formula of the seed and the position in the batch, the same in every framework, so
  that two workers given the same weights and input file compute the same loss.
- Precision: fp32, or bf16 as mixed precision with fp32 master weights (the forward in bf16, the
  loss, gradients and optimizer in fp32). fp16 would need loss scaling to keep small gradients
  from flushing to zero; the workers implement none, so fp16 training is refused. bf16 has fp32's
  exponent range and needs none.
"""

from typing import Any

from dlbench_worker.models import NUM_CLASSES
from dlbench_worker.protocol import ErrorKind, WorkerError

PRECISION_POLICIES = {"fp32": "fp32", "bf16": "bf16 compute, fp32 master weights"}


def labels(seed: int, batch: int) -> list[int]:
    """label[i] = (seed * 7919 + i * 131) % 1000: fixed by the seed, different classes along the
    batch (131 is prime to 1000), never negative (Python's % takes the divisor's sign)."""
    return [(seed * 7919 + i * 131) % NUM_CLASSES for i in range(batch)]


def check_precision(precision: str) -> None:
    """fp16 training is unsupported (see the module docstring)."""
    if precision not in PRECISION_POLICIES:
        raise WorkerError(
            ErrorKind.UNSUPPORTED,
            f"{precision} training is not offered: it needs loss scaling, which the workers do not "
            "implement; bf16 (fp32's exponent range, no scaling needed) or fp32 are",
        )


def check_batch(path: str, found: int, loaded: int) -> None:
    """`train` runs on a batch of the loaded size: the compiled step is for that shape."""
    if found != loaded:
        raise WorkerError(
            ErrorKind.BAD_REQUEST,
            f'train: input file {path}: tensor "input" has batch {found}; the load\'s batch is '
            f"{loaded}",
        )


def settings(
    precision: str,
    optimizer: dict[str, Any],
    parameter_bytes: int,
    optimizer_state_bytes: int,
    batch_norm: str,
    dropout: str,
) -> dict[str, Any]:
    """The settings keys every training load reports (docs/settings.md, "Training")."""
    return {
        "workload": "training",
        "optimizer": optimizer,
        "parameter_bytes": parameter_bytes,
        "optimizer_state_bytes": optimizer_state_bytes,
        "batch_norm": batch_norm,
        "dropout": dropout,
        "precision_policy": PRECISION_POLICIES[precision],
    }
