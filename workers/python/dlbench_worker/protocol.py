"""The worker side of the protocol in docs/protocol.md: framing, request decoding, reply encoding.

This module and the controller's src/run/protocol.{h,cc} are the only code that encodes or decodes
the protocol; both replay the golden transcripts in tests/protocol/. It uses the stdlib alone, so
decoding never depends on a framework being importable. Every decoding failure is a ProtocolError
whose one-line message names the op, the field and what was allowed; the server answers it with a
`bad_request` reply and stays alive.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import os
import re
import sys
from dataclasses import dataclass
from typing import Any, BinaryIO, ClassVar


class ErrorKind(enum.StrEnum):
    """The closed set of error kinds; each value is its name on the wire (the one table)."""

    UNSUPPORTED = "unsupported"
    OUT_OF_MEMORY = "out_of_memory"
    COMPILE_FAILED = "compile_failed"
    RUNTIME = "runtime"
    BAD_REQUEST = "bad_request"


class ProtocolError(Exception):
    """A request that is malformed or out of order; answered with `bad_request`."""


class WorkerError(Exception):
    """A failure an adapter can name: raise WorkerError("unsupported", "fp16 is not ...")."""

    def __init__(self, kind: ErrorKind | str, message: str) -> None:
        try:
            self.kind = ErrorKind(kind)
        except ValueError:
            raise ValueError(
                f"{kind!r} is not an error kind; allowed: {_names(ErrorKind)}"
            ) from None
        self.message = message
        super().__init__(message)


PRECISIONS = ("fp32", "bf16", "fp16")
PROBE_PRECISIONS = ("fp32", "tf32", "bf16", "fp16")
MODES = ("inference", "training", "generation")
GENERATION_OPTIONS = ("prompt_tokens", "new_tokens")
OPTIMIZERS = ("sgd", "adamw")
MAX_TRAIN_STEPS = 10000
MAX_FIT_EPOCHS = 1000
LAYOUTS = ("default", "channels_last", "channels_first")
SYNCS = ("each", "window")
_DEVICE_RE = re.compile(r"cpu|cuda(:[0-9]+)?")


@dataclass(frozen=True)
class HelloRequest:
    op: ClassVar[str] = "hello"


@dataclass(frozen=True)
class LoadRequest:
    op: ClassVar[str] = "load"
    model: str
    batch: int
    precision: str
    device: str
    mode: str
    layout: str
    seed: int
    options: dict[str, Any]
    weights: str | None = None  # a canonical safetensors file; None draws the weights from seed
    # This worker process's position in the run's order (0, 1, ...): unique within a run. Workers
    # may ignore it; the synthetic worker's latency.between_sigma draws each process's offset from it.
    process_index: int | None = None


@dataclass(frozen=True)
class MeasureRequest:
    op: ClassVar[str] = "measure"
    iterations: int
    sync: str
    # sync "each" only: each sample times this many synced iterations back to back (the
    # controller asks for blocks when one iteration is too close to the timer's own overhead).
    block: int | None = None


@dataclass(frozen=True)
class SaveWeightsRequest:
    op: ClassVar[str] = "save_weights"
    file: str


@dataclass(frozen=True)
class OutputsRequest:
    op: ClassVar[str] = "outputs"
    input_file: str
    output_file: str


@dataclass(frozen=True)
class ProbeRequest:
    """Measures the device's dense matmul throughput and copy bandwidth; needs no load."""

    op: ClassVar[str] = "probe"
    device: str
    precision: str  # one of PROBE_PRECISIONS: tf32 is fp32 inputs with TF32 allowed
    seconds: float  # > 0: half for the matmul, half for the copy, after untimed warm-up


@dataclass(frozen=True)
class TrainRequest:
    """Untimed training steps on the batch of a canonical input file, after a training load."""

    op: ClassVar[str] = "train"
    steps: int  # 1 .. MAX_TRAIN_STEPS
    input_file: str  # tensor "input", float32 NCHW [B, 3, 224, 224], B the load's batch


@dataclass(frozen=True)
class FitRequest:
    """Untimed epochs over a real dataset from the load's initial weights, after a training load;
    the reply gives each epoch's time, mean loss and held-out accuracy."""

    op: ClassVar[str] = "fit"
    dataset: str  # a name the worker's capabilities list under "datasets"
    epochs: int  # 1 .. MAX_FIT_EPOCHS


@dataclass(frozen=True)
class SgdOptimizer:
    """torch.optim.SGD's update (dampening 0); every value is sent, the worker has no defaults."""

    name: ClassVar[str] = "sgd"
    lr: float
    momentum: float
    nesterov: bool
    weight_decay: float


@dataclass(frozen=True)
class AdamWOptimizer:
    """torch.optim.AdamW's update: decoupled weight decay, bias correction, eps outside the sqrt."""

    name: ClassVar[str] = "adamw"
    lr: float
    beta1: float
    beta2: float
    eps: float
    weight_decay: float


Optimizer = SgdOptimizer | AdamWOptimizer


@dataclass(frozen=True)
class Generation:
    """What a generation load generates per measured call: greedy decoding of `new_tokens` tokens
    after a fixed prompt of `prompt_tokens`, for each of the load's `batch` sequences."""

    prompt_tokens: int
    new_tokens: int


@dataclass(frozen=True)
class ByeRequest:
    op: ClassVar[str] = "bye"


Request = (
    HelloRequest
    | LoadRequest
    | MeasureRequest
    | SaveWeightsRequest
    | OutputsRequest
    | ProbeRequest
    | TrainRequest
    | FitRequest
    | ByeRequest
)
_REQUEST_TYPES: dict[str, type] = {
    t.op: t
    for t in (
        HelloRequest,
        LoadRequest,
        MeasureRequest,
        SaveWeightsRequest,
        OutputsRequest,
        ProbeRequest,
        TrainRequest,
        FitRequest,
        ByeRequest,
    )
}


def _names(values: Any) -> str:
    return ", ".join(str(v) for v in values)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_int(
    op: str, name: str, value: Any, minimum: int | None = None, maximum: int | None = None
) -> None:
    too_small = minimum is not None and _is_int(value) and value < minimum
    too_large = maximum is not None and _is_int(value) and value > maximum
    if not _is_int(value) or too_small or too_large:
        if maximum is not None:
            bound = f" in [{minimum}, {maximum}]"
        else:
            bound = "" if minimum is None else f" >= {minimum}"
        raise ProtocolError(
            f'{op}: field "{name}" must be an integer{bound}, got {json.dumps(value)}'
        )


def _check_choice(op: str, name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ProtocolError(
            f'{op}: field "{name}" is {json.dumps(value)}; allowed: {_names(allowed)}'
        )


def _check_device(op: str, value: Any) -> None:
    if not isinstance(value, str) or not _DEVICE_RE.fullmatch(value):
        raise ProtocolError(
            f'{op}: field "device" is {json.dumps(value)}; allowed: cpu, cuda, cuda:N'
        )


def _check_positive_number(op: str, name: str, value: Any) -> None:
    # json.loads accepts NaN and Infinity, so finiteness is checked too.
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ProtocolError(f'{op}: field "{name}" must be a number > 0, got {json.dumps(value)}')


def _is_optional(field: dataclasses.Field) -> bool:
    """A field with a default may be left out; its default (None) is also what encoding omits."""
    return field.default is not dataclasses.MISSING


def _check_fields(op: str, obj: dict[str, Any], cls: type) -> None:
    fields = dataclasses.fields(cls)
    names = [f.name for f in fields]
    for key in obj:
        if key != "op" and key not in names:
            allowed = _names(names) if names else "none"
            raise ProtocolError(f'{op}: unknown field "{key}"; allowed: {allowed}')
    for field in fields:
        if field.name not in obj and not _is_optional(field):
            raise ProtocolError(f'{op}: missing field "{field.name}"')


def _check_path(op: str, name: str, value: Any) -> None:
    if not isinstance(value, str) or not value or "\0" in value:
        raise ProtocolError(
            f'{op}: field "{name}" must be a non-empty path, got {json.dumps(value)}'
        )


def _validate_load(obj: dict[str, Any]) -> None:
    if not isinstance(obj["model"], str) or not obj["model"]:
        raise ProtocolError(
            f'load: field "model" must be a non-empty string, got {json.dumps(obj["model"])}'
        )
    _check_int("load", "batch", obj["batch"], minimum=1)
    _check_choice("load", "precision", obj["precision"], PRECISIONS)
    _check_device("load", obj["device"])
    _check_choice("load", "mode", obj["mode"], MODES)
    _check_choice("load", "layout", obj["layout"], LAYOUTS)
    _check_int("load", "seed", obj["seed"])
    if not isinstance(obj["options"], dict):
        raise ProtocolError(
            f'load: field "options" must be an object, got {json.dumps(obj["options"])}'
        )
    if obj.get("weights") is not None:
        _check_path("load", "weights", obj["weights"])
    if obj.get("process_index") is not None:
        _check_int("load", "process_index", obj["process_index"], minimum=0)
    _optimizer_of(obj["mode"], obj["options"])
    _generation_of(obj["mode"], obj["options"])


def load_generation(request: LoadRequest) -> Generation | None:
    """The generation lengths of a generation load (None for another mode), checked as
    decode_request checks them. Raises ProtocolError."""
    return _generation_of(request.mode, request.options)


def _generation_of(mode: Any, options: dict[str, Any]) -> Generation | None:
    """options.prompt_tokens and options.new_tokens: integers >= 1, both required with mode
    "generation" and refused with the others (the controller fills them in from [generation])."""
    if mode != "generation":
        for key in GENERATION_OPTIONS:
            if key in options:
                raise ProtocolError(
                    f'load: options.{key} is only for mode "generation"; mode is {json.dumps(mode)}'
                )
        return None
    for key in GENERATION_OPTIONS:
        if key not in options:
            raise ProtocolError(f'load: mode "generation" needs options.{key}')
        value = options[key]
        if not _is_int(value) or value < 1:
            raise ProtocolError(
                f"load: options.{key} must be an integer >= 1, got {json.dumps(value)}"
            )
    return Generation(options["prompt_tokens"], options["new_tokens"])


# Per optimizer: its keys in order, each with the check of its value ("what" names the rule).
_OPTIMIZER_KEYS: dict[str, dict[str, tuple[str, Any]]] = {
    "sgd": {
        "lr": ("a number > 0", lambda v: v > 0),
        "momentum": ("a number >= 0", lambda v: v >= 0),
        "nesterov": ("true or false", None),
        "weight_decay": ("a number >= 0", lambda v: v >= 0),
    },
    "adamw": {
        "lr": ("a number > 0", lambda v: v > 0),
        "beta1": ("a number in [0, 1)", lambda v: 0 <= v < 1),
        "beta2": ("a number in [0, 1)", lambda v: 0 <= v < 1),
        "eps": ("a number > 0", lambda v: v > 0),
        "weight_decay": ("a number >= 0", lambda v: v >= 0),
    },
}
_OPTIMIZER_TYPES: dict[str, type] = {"sgd": SgdOptimizer, "adamw": AdamWOptimizer}


def load_optimizer(request: LoadRequest) -> Optimizer | None:
    """The optimizer of a training load (None for inference), checked as decode_request checks
    it, for adapters called without the decoder (tests). Raises ProtocolError."""
    return _optimizer_of(request.mode, request.options)


def _optimizer_of(mode: Any, options: dict[str, Any]) -> Optimizer | None:
    """options.optimizer: required with mode "training", refused with "inference". Every key is
    required, since torch's and optax's defaults differ (AdamW weight decay 1e-2 and 1e-4)."""
    where = "load: options.optimizer"
    if mode != "training":
        if "optimizer" in options:
            raise ProtocolError(f'{where} is only for mode "training"; mode is {json.dumps(mode)}')
        return None
    if "optimizer" not in options:
        raise ProtocolError('load: mode "training" needs options.optimizer')
    spec = options["optimizer"]
    if not isinstance(spec, dict):
        raise ProtocolError(f"{where} must be an object, got {json.dumps(spec)}")
    name = spec.get("name")
    if name not in _OPTIMIZER_KEYS:
        raise ProtocolError(f"{where}.name is {json.dumps(name)}; allowed: {_names(OPTIMIZERS)}")
    keys = _OPTIMIZER_KEYS[name]
    allowed = _names(["name", *keys])
    for key in spec:
        if key != "name" and key not in keys:
            raise ProtocolError(f'{where}: unknown key "{key}" for {name}; allowed: {allowed}')
    for key in keys:
        if key not in spec:
            raise ProtocolError(f'{where}: missing key "{key}"; {name} takes {allowed}')
    for key, (what, check) in keys.items():
        value = spec[key]
        if check is None:
            good = isinstance(value, bool)
        else:
            good = _is_finite_number(value) and check(value)
        if not good:
            raise ProtocolError(f"{where}.{key} must be {what}, got {json.dumps(value)}")
    if name == "sgd" and spec["nesterov"] and spec["momentum"] == 0:
        # torch.optim.SGD raises "Nesterov momentum requires a momentum and zero dampening".
        raise ProtocolError(f"{where}: nesterov needs momentum > 0")
    return _OPTIMIZER_TYPES[name](**{key: spec[key] for key in keys})


def _is_finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _validate_measure(obj: dict[str, Any]) -> None:
    _check_int("measure", "iterations", obj["iterations"], minimum=1)
    _check_choice("measure", "sync", obj["sync"], SYNCS)
    if obj.get("block") is not None:
        _check_int("measure", "block", obj["block"], minimum=1)
        if obj["sync"] != "each":
            raise ProtocolError('measure: field "block" needs sync "each"')


def _validate_save_weights(obj: dict[str, Any]) -> None:
    _check_path("save_weights", "file", obj["file"])


def _validate_outputs(obj: dict[str, Any]) -> None:
    _check_path("outputs", "input_file", obj["input_file"])
    _check_path("outputs", "output_file", obj["output_file"])


def _validate_train(obj: dict[str, Any]) -> None:
    _check_int("train", "steps", obj["steps"], minimum=1, maximum=MAX_TRAIN_STEPS)
    _check_path("train", "input_file", obj["input_file"])


def _validate_fit(obj: dict[str, Any]) -> None:
    if not isinstance(obj["dataset"], str) or not obj["dataset"]:
        raise ProtocolError(
            f'fit: field "dataset" must be a non-empty string, got {json.dumps(obj["dataset"])}'
        )
    _check_int("fit", "epochs", obj["epochs"], minimum=1, maximum=MAX_FIT_EPOCHS)


def _validate_probe(obj: dict[str, Any]) -> None:
    _check_device("probe", obj["device"])
    _check_choice("probe", "precision", obj["precision"], PROBE_PRECISIONS)
    _check_positive_number("probe", "seconds", obj["seconds"])


_VALIDATORS = {
    "load": _validate_load,
    "measure": _validate_measure,
    "save_weights": _validate_save_weights,
    "outputs": _validate_outputs,
    "probe": _validate_probe,
    "train": _validate_train,
    "fit": _validate_fit,
}


def decode_request(line: str) -> Request:
    """Decodes one request line into its dataclass, or raises ProtocolError naming what is wrong."""
    try:
        obj = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as e:
        raise ProtocolError(f"request is not JSON: {e}") from None
    if not isinstance(obj, dict):
        raise ProtocolError(f"request is not a JSON object: {line.strip()[:80]}")
    if "op" not in obj:
        raise ProtocolError('request has no "op" field')
    op = obj["op"]
    cls = _REQUEST_TYPES.get(op) if isinstance(op, str) else None
    if cls is None:
        raise ProtocolError(f"unknown op {json.dumps(op)}; allowed: {_names(_REQUEST_TYPES)}")
    _check_fields(op, obj, cls)
    _VALIDATORS.get(op, lambda _: None)(obj)
    return cls(**{k: v for k, v in obj.items() if k != "op"})


def encode_request(request: Request) -> str:
    """The inverse of decode_request (used by the tests and by anything that drives a worker).

    An optional field is sent only when set: a load without weights has no "weights" key, so
    older messages are unchanged (docs/protocol.md, "Versioning")."""
    fields = {
        f.name: getattr(request, f.name)
        for f in dataclasses.fields(request)
        if not (_is_optional(f) and getattr(request, f.name) is None)
    }
    return _encode({"op": request.op, **fields})


def encode_reply(reply: dict[str, Any]) -> str:
    """One reply as one line of JSON, without its newline; raises ValueError on NaN or infinity."""
    return _encode(reply)


def error_reply(kind: ErrorKind | str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"kind": str(ErrorKind(kind)), "message": message}}


def _encode(obj: dict[str, Any]) -> str:
    # ensure_ascii keeps the line pure ASCII: a newline or control character in a string is escaped.
    return json.dumps(obj, separators=(",", ":"), allow_nan=False, ensure_ascii=True)


class Channel:
    """The protocol streams: requests from stdin, replies on the private reply descriptor.

    Only send() writes replies. The reply descriptor is the worker's original stdout, kept aside by
    __main__ before fd 1 was pointed at stderr.
    """

    def __init__(self, reply_fd: int, requests: BinaryIO | None = None) -> None:
        self.reply_fd = reply_fd
        self._requests = requests if requests is not None else sys.stdin.buffer

    def send(self, reply: dict[str, Any]) -> None:
        """Encodes first (a bad reply raises before anything is written), then writes the line."""
        data = (encode_reply(reply) + "\n").encode("ascii")
        while data:
            written = os.write(self.reply_fd, data)
            data = data[written:]

    def read_request(self) -> Request | None:
        """The next request, None at end of input; a malformed line raises ProtocolError."""
        raw = self._requests.readline()
        if not raw:
            return None
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ProtocolError(f"request is not JSON: not UTF-8 ({e})") from None
        return decode_request(line)
