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
