"""Checks and read-backs that the torch and jax adapters share, so that each rule has one copy.

Imports no framework. The error texts follow docs/protocol.md's kinds: what the worker cannot run is
`unsupported`; a malformed option is the controller's bug, `bad_request`.
"""

import os
import platform
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


# NVIDIA, "TensorFloat-32 in the A100 GPU" (2020): TF32 runs on the tensor cores of compute
# capability 8.0 (Ampere) and later. A CPU has no such format, so asking for it there is refused
# rather than silently run in full fp32 under a "tf32" label.
TF32_MIN_CAPABILITY = (8, 0)


def check_tf32(what: str, device: DeviceSpec) -> None:
    """`what` (e.g. "fp32_precision tf32") on a CPU device is unsupported."""
    if device.kind != "cuda":
        raise WorkerError(
            ErrorKind.UNSUPPORTED, f"{what} needs a cuda device: TF32 is a tensor-core format"
        )


def check_tf32_capability(
    what: str, device_id: str, name: str, capability: tuple[int, int]
) -> None:
    """`what` on a GPU older than Ampere is unsupported: it would run in fp32, labelled tf32."""
    if capability < TF32_MIN_CAPABILITY:
        raise WorkerError(
            ErrorKind.UNSUPPORTED,
            f"{what} needs compute capability {_dotted(TF32_MIN_CAPABILITY)} (Ampere) or newer; "
            f"{device_id} ({name}) has {_dotted(capability)}",
        )


def _dotted(capability: tuple[int, int]) -> str:
    return ".".join(str(part) for part in capability)


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


def allocator_settings() -> dict[str, str]:
    """The C library and the malloc tunables this process started with: glibc's thresholds decide
    whether a call that allocates tens of MB reuses its heap or maps fresh pages every time, and
    the controller fixes them unless told otherwise (docs/settings.md, "The allocator")."""
    name, version = platform.libc_ver()
    return {
        "libc": f"{name} {version}".strip() or "unknown",
        "glibc_tunables": os.environ.get("GLIBC_TUNABLES", ""),
    }


def env_settings(names: tuple[str, ...]) -> dict[str, str]:
    """The named environment variables that are set, under their own names."""
    return {name: os.environ[name] for name in names if name in os.environ}
