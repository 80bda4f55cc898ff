"""The safetensors files of `dlbench validate` (docs/protocol.md, "Weights and outputs"): reading,
checking and writing them, once for every adapter.

Three kinds of file, all float32 only: a model's weights in the canonical layout (torchvision's
state-dict names and shapes, `num_batches_tracked` left out), an input batch (tensor "input", NCHW
[B, 3, 224, 224]) and the logits (tensor "output", [B, 1000]). Imports numpy and safetensors, never
a framework: the jax worker must not pull in torch.

Facts that shaped it (safetensors 0.8 sources, read 2026-11):
- safetensors.numpy hands numpy's data pointer and nbytes to the serializer without looking at
  strides, so a transposed (non-contiguous) view would be written scrambled: every array is made
  C-contiguous here first.
- Its file functions report OS errors in their own words (save_file: "I/O error: No such file or
  directory (os error 2) at path "/dir/.tmpJs3RVu"", naming its temporary file), and
  safetensors.numpy.load raises KeyError on a dtype numpy lacks (BF16). So files are opened with
  open(), whose OSError gives the path's own strerror, and the bytes are serialized with
  safetensors.numpy.save and decoded with safetensors.deserialize, with the dtypes checked here, by
  tensor name.
"""

import contextlib
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import safetensors
import safetensors.numpy

from dlbench_worker.models import IMAGE_SIZE, NUM_CLASSES
from dlbench_worker.protocol import ErrorKind, WorkerError

WEIGHTS_FORMAT = "dlbench-canonical"
OUTPUTS_FORMAT = "dlbench-outputs"
INPUT_TENSOR = "input"
OUTPUT_TENSOR = "output"
_FLOAT32 = "F32"  # the safetensors dtype name


def _bad(message: str) -> WorkerError:
    return WorkerError(ErrorKind.BAD_REQUEST, message)


def _shape(shape: tuple[int, ...] | list[int]) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"


def read_tensors(path: str, what: str) -> dict[str, np.ndarray]:
    """Every tensor of a safetensors file as a read-only float32 array, in the file's order.

    `what` names the file in messages ("weights", "input file"). An unreadable file, one that is
    not safetensors, or a tensor that is not float32 is a bad_request naming the path."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise _bad(f"cannot read {what} {path}: {e.strerror or e}") from None
    try:
        entries = safetensors.deserialize(data)
    except safetensors.SafetensorError as e:
        raise _bad(f"{what} {path} is not a safetensors file: {e}") from None
    tensors = {}
    for name, entry in entries:
        if entry["dtype"] != _FLOAT32:
            raise _bad(
                f'{what} {path}: tensor "{name}" is {entry["dtype"]}; expected F32 (float32)'
            )
        tensors[name] = np.frombuffer(entry["data"], np.float32).reshape(entry["shape"])
    return tensors


def check_weights(
    model: str, path: str, tensors: Mapping[str, np.ndarray], expected: Mapping[str, tuple]
) -> None:
    """Raises bad_request unless `tensors` has exactly the names and shapes of `expected` (the
    model's canonical layout). The message names the first offending tensor in name order, so the
    torch and jax workers name the same one, with its expected and found shape."""
    for name in sorted(set(expected) | set(tensors)):
        if name in expected and name in tensors and tensors[name].shape == expected[name]:
            continue
        want = (
            f"shape {_shape(expected[name])}"
            if name in expected
            else f"none ({model} has no such tensor)"
        )
        found = _shape(tensors[name].shape) if name in tensors else "none (missing)"
        raise _bad(
            f'weights {path} do not match {model}: tensor "{name}" expected {want}, found {found}'
        )


def write_weights(
    path: str, tensors: Mapping[str, Any], model: str, framework: str
) -> dict[str, Any]:
    """Writes canonical weights as float32; returns the save_weights reply without `ok`."""
    metadata = {"format": WEIGHTS_FORMAT, "model": model, "source_framework": framework}
    _write(path, "weights", _float32(tensors), metadata)
    return {"tensors": len(tensors), "bytes": os.path.getsize(path)}


def read_input(path: str) -> np.ndarray:
    """The "input" tensor of an input file: float32, NCHW [B, 3, 224, 224] with B >= 1. Other
    tensors in the file are ignored."""
    tensors = read_tensors(path, "input file")
    if INPUT_TENSOR not in tensors:
        found = ", ".join(f'"{name}"' for name in tensors) or "none"
        raise _bad(f'input file {path} has no tensor "{INPUT_TENSOR}"; found: {found}')
    x = tensors[INPUT_TENSOR]
    if x.ndim != 4 or x.shape[0] < 1 or x.shape[1:] != (3, IMAGE_SIZE, IMAGE_SIZE):
        raise _bad(
            f'input file {path}: tensor "{INPUT_TENSOR}" has shape {_shape(x.shape)}; '
            f"expected [B, 3, {IMAGE_SIZE}, {IMAGE_SIZE}] with B >= 1"
        )
    return x


def write_outputs(
    path: str, output: Any, model: str, framework: str, precision: str
) -> dict[str, Any]:
    """Writes the logits as tensor "output", float32 [B, 1000]; returns the outputs reply without
    `ok`."""
    metadata = {
        "format": OUTPUTS_FORMAT,
        "model": model,
        "source_framework": framework,
        "precision": precision,
    }
    arrays = _float32({OUTPUT_TENSOR: output})
    shape = arrays[OUTPUT_TENSOR].shape
    if len(shape) != 2 or shape[1] != NUM_CLASSES:  # a bug in an adapter, not in the request
        raise RuntimeError(f"{model} gave outputs of shape {_shape(shape)}")
    _write(path, "output file", arrays, metadata)
    return {"shape": list(shape)}


def _float32(tensors: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """C-contiguous float32 copies where needed (see the file's docstring: save_file ignores
    strides)."""
    return {name: np.ascontiguousarray(value, np.float32) for name, value in tensors.items()}


def _write(path: str, what: str, arrays: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    """Writes a temporary file beside `path` and renames it, so no reader sees half a file."""
    data = safetensors.numpy.save(arrays, metadata=metadata)
    temporary = f"{path}.tmp{os.getpid()}"
    try:
        with open(temporary, "wb") as f:
            f.write(data)
        os.replace(temporary, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise _bad(f"cannot write {what} {path}: {e.strerror or e}") from None


def read_tokens(path: str, vocab_size: int) -> np.ndarray:
    """The "input" tensor of a generation input file as int64 token ids [B, T], B, T >= 1. The
    file holds them as float32 (the controller's codec writes F32 only; every id below 2^24 is
    exact), each an integer in [0, vocab_size)."""
    tensors = read_tensors(path, "input file")
    if INPUT_TENSOR not in tensors:
        found = ", ".join(f'"{name}"' for name in tensors) or "none"
        raise _bad(f'input file {path} has no tensor "{INPUT_TENSOR}"; found: {found}')
    x = tensors[INPUT_TENSOR]
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise _bad(
            f'input file {path}: tensor "{INPUT_TENSOR}" has shape {_shape(x.shape)}; '
            "expected token ids [B, T] with B, T >= 1"
        )
    ids = x.astype(np.int64)
    if not np.array_equal(ids, x) or ids.min() < 0 or ids.max() >= vocab_size:
        raise _bad(
            f'input file {path}: tensor "{INPUT_TENSOR}" holds values that are not token ids '
            f"(integers in [0, {vocab_size}))"
        )
    return ids


def write_logits(
    path: str, logits: Any, model: str, framework: str, precision: str, vocab_size: int
) -> dict[str, Any]:
    """Writes a decoder's logits as tensor "output", float32 [B, T, vocab]; returns the outputs
    reply without `ok`."""
    metadata = {
        "format": OUTPUTS_FORMAT,
        "model": model,
        "source_framework": framework,
        "precision": precision,
    }
    arrays = _float32({OUTPUT_TENSOR: logits})
    shape = arrays[OUTPUT_TENSOR].shape
    if len(shape) != 3 or shape[2] != vocab_size:  # a bug in an adapter, not in the request
        raise RuntimeError(f"{model} gave logits of shape {_shape(shape)}")
    _write(path, "output file", arrays, metadata)
    return {"shape": list(shape)}
