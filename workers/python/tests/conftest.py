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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec and any(isinstance(v, str) and v in SLOW_MODELS for v in callspec.params.values()):
            item.add_marker(pytest.mark.slow)
