"""One CPU per job, for the benchmarks that run several jobs at once: a job takes a CPU, runs
pinned to it (`taskset -c`), and gives it back. Unpinned, two single-threaded jobs on a 2-core
machine each see the other take half of their CPUs, and dlbench's contention policy rightly leaves
their repetitions out."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from queue import Queue


def jobs_error(jobs: int) -> str | None:
    """Why `jobs` cannot each have a CPU of its own, or None."""
    cpus = os.cpu_count() or 1
    if 1 <= jobs <= cpus:
        return None
    return f"--jobs {jobs}: each job takes a CPU of its own; allowed: 1 to {cpus}"


class CpuPool:
    def __init__(self, jobs: int) -> None:
        self._free: Queue[int] = Queue()
        for cpu in range(jobs):
            self._free.put(cpu)

    @contextmanager
    def take(self) -> Iterator[int]:
        cpu = self._free.get()
        try:
            yield cpu
        finally:
            self._free.put(cpu)
