"""Checks and read-backs that the torch and jax adapters share, so that each rule has one copy.

Imports no framework. The error texts follow docs/protocol.md's kinds: what the worker cannot run is
`unsupported`; a malformed option is the controller's bug, `bad_request`.
"""

import os
from dataclasses import dataclass
from typing import Any

from dlbench_worker.models import MODELS
from dlbench_worker.protocol import ErrorKind, WorkerError


@dataclass(frozen=True)
class DeviceSpec:
    kind: str  # "cpu" or "cuda"
    index: int  # 0 for the CPU and for a bare "cuda"


def parse_device(device: str) -> DeviceSpec:
    """ "cpu" | "cuda" | "cuda:N" (the protocol has already checked the form)."""
    kind, _, index = device.partition(":")
    return DeviceSpec(kind, int(index) if index else 0)


def check_model(worker: str, model: str) -> None:
    if model not in MODELS:
        raise WorkerError(
            ErrorKind.UNSUPPORTED,
            f'model "{model}" is not in the {worker} worker; allowed: {", ".join(MODELS)}',
        )


def check_option_names(worker: str, options: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key in options:
        if key not in allowed:
            raise WorkerError(
                ErrorKind.BAD_REQUEST,
                f'options: unknown key "{key}" for the {worker} worker; '
                f"allowed: {', '.join(allowed)}",
            )


def bad_option(key: str, value: Any, expected: str) -> WorkerError:
    return WorkerError(ErrorKind.BAD_REQUEST, f"options.{key} is {value!r}; expected {expected}")


def observed_threads() -> int | None:
    """Threads this process runs now (/proc/self/task), whatever the settings claim (T10)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return None


def allowed_cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def env_settings(names: tuple[str, ...]) -> dict[str, str]:
    """The named environment variables that are set, under their own names."""
    return {name: os.environ[name] for name in names if name in os.environ}
