"""pytest setup for the worker tests: the package on sys.path, and a fixture that starts workers."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from worker_process import WORKER_ROOT, WorkerProcess  # noqa: E402

sys.path.insert(0, str(WORKER_ROOT))


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[[str], WorkerProcess]]:
    """start_worker("synthetic") -> a running WorkerProcess, killed at the end of the test."""
    started: list[WorkerProcess] = []

    def start(name: str) -> WorkerProcess:
        worker = WorkerProcess(name, tmp_path / f"worker-{len(started)}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()


# The quick tier (scripts/test) runs the per-model tests on the small models; these, whose weights
# take seconds to build and convert on 2 cores, only in the full tier (scripts/test --full).
SLOW_MODELS = {"resnet50", "vit_b_16", "efficientnet_b0", "llama-125m", "llama-1b"}
# Parameters of the torch-against-jax training equivalence past its first (sgd in fp32): each
# trains both workers for seconds, and the quick tier keeps one of them.
SLOW_PARAMS = {"adamw", "bf16"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        values = [v for v in callspec.params.values() if isinstance(v, str)] if callspec else []
        slow_param = item.originalname == "test_both_workers_train_resnet18_alike" and SLOW_PARAMS & set(values)
        if any(v in SLOW_MODELS for v in values) or slow_param:
            item.add_marker(pytest.mark.slow)
