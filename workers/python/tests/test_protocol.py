"""Pins the Python codec to the golden transcripts that the C++ codec replays too (tests/protocol/).

Every valid request must decode to its dataclass and encode back to the same JSON value, every reply
must encode to one line that parses back equal, and every invalid request must be rejected with a
message naming what is wrong. A real worker must answer an out-of-order request with bad_request.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from worker_process import TRANSCRIPTS, load_request

from dlbench_worker import PROTOCOL_VERSION
from dlbench_worker.protocol import (
    ErrorKind,
    LoadRequest,
    MeasureRequest,
    OutputsRequest,
    ProtocolError,
    SaveWeightsRequest,
    SgdOptimizer,
    TrainRequest,
    WorkerError,
    decode_request,
    encode_reply,
    encode_request,
    load_optimizer,
)
from dlbench_worker.server import error_from_exception


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


VALID = [
    pytest.param(exchange, id=f"{path.stem}:{i}")
    for path in sorted(TRANSCRIPTS.glob("valid_*.jsonl"))
    for i, exchange in enumerate(_lines(path))
]
INVALID = [
    pytest.param(case, id=case["error"]) for case in _lines(TRANSCRIPTS / "invalid_requests.jsonl")
]


def test_transcripts_are_there() -> None:
    assert len(VALID) >= 10 and len(INVALID) >= 9


@pytest.mark.parametrize("exchange", VALID)
def test_valid_request_round_trips(exchange: dict[str, Any]) -> None:
    request = decode_request(json.dumps(exchange["request"]))
    assert request.op == exchange["request"]["op"]
    assert json.loads(encode_request(request)) == exchange["request"]


@pytest.mark.parametrize("exchange", VALID)
def test_valid_reply_encodes_to_one_line(exchange: dict[str, Any]) -> None:
    line = encode_reply(exchange["reply"])
    assert "\n" not in line
    assert json.loads(line) == exchange["reply"]


@pytest.mark.parametrize("case", INVALID)
def test_invalid_request_is_rejected(case: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_request(case["line"])
    assert case["error"] in str(info.value)
    assert error_from_exception(info.value)["error"]["kind"] == "bad_request"


def test_decoded_types() -> None:
    load = decode_request(json.dumps(load_request({"num_threads": 1}, device="cuda:1", batch=8)))
    assert load == LoadRequest(
        model="synthetic",
        batch=8,
        precision="fp32",
        device="cuda:1",
        mode="inference",
        layout="default",
        seed=0,
        options={"num_threads": 1},
    )
    assert decode_request('{"op": "measure", "iterations": 3, "sync": "window"}') == MeasureRequest(
        iterations=3, sync="window"
    )
    assert decode_request('{"op": "save_weights", "file": "/w.safetensors"}') == SaveWeightsRequest(
        file="/w.safetensors"
    )
    assert decode_request(
        '{"op": "outputs", "input_file": "/in.safetensors", "output_file": "/out.safetensors"}'
    ) == OutputsRequest(input_file="/in.safetensors", output_file="/out.safetensors")


def test_load_weights_is_optional_and_sent_only_when_set() -> None:
    """The controller omits "weights" when it has none, so a load without it is the old message."""
    plain = load_request()
    assert decode_request(json.dumps(plain)).weights is None
    assert decode_request(json.dumps({**plain, "weights": None})).weights is None
    assert (
        json.loads(encode_request(decode_request(json.dumps({**plain, "weights": None})))) == plain
    )
    with_file = {**plain, "weights": "/w/resnet18.safetensors"}
    load = decode_request(json.dumps(with_file))
    assert load.weights == "/w/resnet18.safetensors"
    assert json.loads(encode_request(load)) == with_file


@pytest.mark.parametrize(
    "field, value",
    [
        ("batch", True),
        ("batch", 1.5),
        ("batch", "8"),
        ("seed", 1.0),
        ("device", "gpu"),
        ("device", "cuda:"),
        ("device", "cpu\n"),
        ("mode", "train"),
        ("layout", "NHWC"),
        ("options", []),
        ("model", ""),
    ],
)
def test_load_field_is_checked(field: str, value: Any) -> None:
    with pytest.raises(ProtocolError, match=f'"{field}"'):
        decode_request(json.dumps(load_request(**{field: value})))


@pytest.mark.parametrize(
    "request_fields, field",
    [
        (load_request(weights=""), "weights"),
        (load_request(weights=7), "weights"),
        (load_request(weights=["/w.safetensors"]), "weights"),
        (load_request(weights="/w\0.safetensors"), "weights"),
        ({"op": "save_weights", "file": None}, "file"),
        ({"op": "save_weights", "file": 1}, "file"),
        ({"op": "outputs", "input_file": "/in", "output_file": ""}, "output_file"),
        ({"op": "outputs", "input_file": {}, "output_file": "/out"}, "input_file"),
    ],
)
def test_path_field_is_checked(request_fields: dict[str, Any], field: str) -> None:
    with pytest.raises(ProtocolError, match=f'"{field}" must be a non-empty path'):
        decode_request(json.dumps(request_fields))


SGD = {"name": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": False, "weight_decay": 1e-4}
ADAMW = {
    "name": "adamw",
    "lr": 1e-3,
    "beta1": 0.9,
    "beta2": 0.999,
    "eps": 1e-8,
    "weight_decay": 0.01,
}


def training_load(optimizer: Any) -> dict[str, Any]:
    return load_request({"optimizer": optimizer}, mode="training")


def test_training_load_and_train_decode() -> None:
    load = decode_request(json.dumps(training_load(SGD)))
    assert load.mode == "training" and load.options["optimizer"] == SGD
    assert load_optimizer(load) == SgdOptimizer(
        lr=0.1, momentum=0.9, nesterov=False, weight_decay=1e-4
    )
    adamw = load_optimizer(decode_request(json.dumps(training_load(ADAMW))))
    assert (adamw.name, adamw.beta2, adamw.eps) == ("adamw", 0.999, 1e-8)
    assert load_optimizer(decode_request(json.dumps(load_request()))) is None
    train = decode_request('{"op": "train", "steps": 3, "input_file": "/in.safetensors"}')
    assert train == TrainRequest(steps=3, input_file="/in.safetensors")
    assert json.loads(encode_request(train)) == {
        "op": "train",
        "steps": 3,
        "input_file": "/in.safetensors",
    }


@pytest.mark.parametrize(
    "request_fields, message",
    [
        (load_request(), None),  # valid: no optimizer in inference
        (load_request(mode="training"), 'load: mode "training" needs options.optimizer'),
        (
            load_request({"optimizer": SGD}),
            'load: options.optimizer is only for mode "training"; mode is "inference"',
        ),
        (training_load([]), "load: options.optimizer must be an object, got []"),
        (
            training_load({**SGD, "name": "adam"}),
            'load: options.optimizer.name is "adam"; allowed: sgd, adamw',
        ),
        (
            training_load({k: v for k, v in SGD.items() if k != "momentum"}),
            'load: options.optimizer: missing key "momentum"; sgd takes name, lr, momentum, '
            "nesterov, weight_decay",
        ),
        (
            training_load({k: v for k, v in ADAMW.items() if k != "weight_decay"}),
            'load: options.optimizer: missing key "weight_decay"; adamw takes name, lr, beta1, '
            "beta2, eps, weight_decay",
        ),
        (
            training_load({**SGD, "dampening": 0}),
            'load: options.optimizer: unknown key "dampening" for sgd; allowed: name, lr, '
            "momentum, nesterov, weight_decay",
        ),
        (
            training_load({**ADAMW, "betas": [0.9, 0.999]}),
            'load: options.optimizer: unknown key "betas" for adamw; allowed: name, lr, beta1, '
            "beta2, eps, weight_decay",
        ),
        (
            training_load({**SGD, "lr": "0.1"}),
            'load: options.optimizer.lr must be a number > 0, got "0.1"',
        ),
        (training_load({**SGD, "lr": 0}), "load: options.optimizer.lr must be a number > 0, got 0"),
        (
            training_load({**SGD, "lr": True}),
            "load: options.optimizer.lr must be a number > 0, got true",
        ),
        (
            training_load({**SGD, "momentum": -0.1}),
            "load: options.optimizer.momentum must be a number >= 0, got -0.1",
        ),
        (
            training_load({**SGD, "nesterov": 1}),
            "load: options.optimizer.nesterov must be true or false, got 1",
        ),
        (
            training_load({**SGD, "momentum": 0, "nesterov": True}),
            "load: options.optimizer: nesterov needs momentum > 0",
        ),
        (
            training_load({**ADAMW, "beta1": 1.0}),
            "load: options.optimizer.beta1 must be a number in [0, 1), got 1.0",
        ),
        (
            training_load({**ADAMW, "eps": 0.0}),
            "load: options.optimizer.eps must be a number > 0, got 0.0",
        ),
        (
            training_load({**ADAMW, "weight_decay": None}),
            "load: options.optimizer.weight_decay must be a number >= 0, got null",
        ),
    ],
)
def test_training_options_are_checked(request_fields: dict[str, Any], message: str | None) -> None:
    if message is None:
        decode_request(json.dumps(request_fields))
        return
    with pytest.raises(ProtocolError) as info:
        decode_request(json.dumps(request_fields))
    assert str(info.value) == message
    assert error_from_exception(info.value)["error"]["kind"] == "bad_request"


def test_training_options_nan_is_refused() -> None:
    with pytest.raises(ProtocolError, match="lr must be a number > 0, got NaN"):
        decode_request(json.dumps(training_load({**SGD, "lr": float("nan")})))


@pytest.mark.parametrize(
    "line, message",
    [
        (
            '{"op": "train", "steps": 0, "input_file": "/in"}',
            'train: field "steps" must be an integer in [1, 10000], got 0',
        ),
        (
            '{"op": "train", "steps": 10001, "input_file": "/in"}',
            'train: field "steps" must be an integer in [1, 10000], got 10001',
        ),
        (
            '{"op": "train", "steps": "3", "input_file": "/in"}',
            'train: field "steps" must be an integer in [1, 10000], got "3"',
        ),
        (
            '{"op": "train", "steps": true, "input_file": "/in"}',
            'train: field "steps" must be an integer in [1, 10000], got true',
        ),
        (
            '{"op": "train", "steps": 3, "input_file": ""}',
            'train: field "input_file" must be a non-empty path, got ""',
        ),
        ('{"op": "train", "steps": 3}', 'train: missing field "input_file"'),
        ('{"op": "train", "input_file": "/in"}', 'train: missing field "steps"'),
        (
            '{"op": "train", "steps": 3, "input_file": "/in", "lr": 1}',
            'train: unknown field "lr"; allowed: steps, input_file',
        ),
    ],
)
def test_train_request_is_checked(line: str, message: str) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_request(line)
    assert str(info.value) == message


def test_missing_field_is_named() -> None:
    request = load_request()
    del request["precision"]
    with pytest.raises(ProtocolError, match='missing field "precision"'):
        decode_request(json.dumps(request))


def test_extra_field_on_hello_is_named() -> None:
    with pytest.raises(ProtocolError, match='unknown field "verbose"'):
        decode_request('{"op": "hello", "verbose": true}')


def test_reply_with_nan_is_refused() -> None:
    with pytest.raises(ValueError):
        encode_reply({"ok": True, "load_s": float("nan")})


def test_reply_is_ascii_even_with_newlines_in_strings() -> None:
    line = encode_reply({"ok": False, "error": {"kind": "runtime", "message": "a\nb \u00e9"}})
    assert "\n" not in line and line.isascii()


def test_error_kinds_are_the_closed_set() -> None:
    assert [str(k) for k in ErrorKind] == [
        "unsupported",
        "out_of_memory",
        "compile_failed",
        "runtime",
        "bad_request",
    ]
    with pytest.raises(ValueError, match="exploded"):
        WorkerError("exploded", "x")


class OutOfMemoryError(Exception):
    """Named like torch.cuda.OutOfMemoryError."""


@pytest.mark.parametrize(
    "exc, kind, message",
    [
        (
            WorkerError("unsupported", "fp16 is not supported on cpu"),
            "unsupported",
            "fp16 is not supported on cpu",
        ),
        (ProtocolError("measure before load"), "bad_request", "measure before load"),
        (MemoryError(), "out_of_memory", "MemoryError"),
        (OutOfMemoryError("CUDA ran dry"), "out_of_memory", "OutOfMemoryError: CUDA ran dry"),
        (
            RuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate"),
            "out_of_memory",
            "RuntimeError: RESOURCE_EXHAUSTED: Out of memory while trying to allocate",
        ),
        (
            RuntimeError("CUDA out of memory. Tried to allocate 2 GiB"),
            "out_of_memory",
            "RuntimeError: CUDA out of memory. Tried to allocate 2 GiB",
        ),
        (
            ValueError("shapes do not match\nsecond line"),
            "runtime",
            "ValueError: shapes do not match",
        ),
    ],
)
def test_exceptions_map_to_error_kinds(exc: BaseException, kind: str, message: str) -> None:
    assert error_from_exception(exc) == {"ok": False, "error": {"kind": kind, "message": message}}


def test_long_message_is_truncated() -> None:
    reply = error_from_exception(RuntimeError("x" * 5000))
    assert len(reply["error"]["message"]) == 2000


def test_measure_before_load_is_bad_request(start_worker) -> None:
    worker = start_worker("synthetic")
    assert worker.request({"op": "hello"})["protocol"] == PROTOCOL_VERSION
    reply = worker.request({"op": "measure", "iterations": 1, "sync": "each"})
    assert reply == {
        "ok": False,
        "error": {"kind": "bad_request", "message": "measure before load"},
    }
    assert worker.request({"op": "bye"}) == {"ok": True}
    assert worker.wait() == 0


def test_measure_after_failed_load_is_bad_request(start_worker) -> None:
    worker = start_worker("synthetic")
    assert worker.request(load_request())["ok"]
    assert not worker.request(load_request(model="resnet18"))["ok"]
    reply = worker.request({"op": "measure", "iterations": 1, "sync": "window"})
    assert reply["error"]["kind"] == "bad_request"


@pytest.mark.parametrize(
    "request_fields",
    [
        {"op": "save_weights", "file": "/tmp/w.safetensors"},
        {"op": "outputs", "input_file": "/tmp/in.safetensors", "output_file": "/tmp/o.safetensors"},
    ],
)
def test_weights_and_outputs_before_load_are_bad_requests(start_worker, request_fields) -> None:
    worker = start_worker("synthetic")
    reply = worker.request(request_fields)
    assert reply == {
        "ok": False,
        "error": {"kind": "bad_request", "message": f"{request_fields['op']} before load"},
    }


def test_synthetic_model_has_no_weights_and_no_outputs(start_worker, tmp_path: Path) -> None:
    worker = start_worker("synthetic")
    unsupported = {"kind": "unsupported", "message": "the synthetic model has no weights"}
    reply = worker.request(load_request(weights=str(tmp_path / "w.safetensors")))
    assert reply == {"ok": False, "error": unsupported}
    assert worker.request(load_request())["ok"]
    reply = worker.request({"op": "save_weights", "file": str(tmp_path / "w.safetensors")})
    assert reply == {"ok": False, "error": unsupported}
    reply = worker.request(
        {"op": "outputs", "input_file": str(tmp_path / "i"), "output_file": str(tmp_path / "o")}
    )
    assert reply["error"] == {
        "kind": "unsupported",
        "message": "the synthetic model has no outputs",
    }
    assert worker.request({"op": "measure", "iterations": 1, "sync": "each"})["ok"]  # still loaded
    assert not list(tmp_path.glob("*.safetensors"))


def test_train_needs_a_training_load(start_worker, tmp_path: Path) -> None:
    """Out of order is bad_request; the synthetic model loads for training but has nothing to
    train (unsupported), and stays loaded."""
    worker = start_worker("synthetic")
    train = {"op": "train", "steps": 1, "input_file": str(tmp_path / "in.safetensors")}
    assert worker.request(train)["error"] == {"kind": "bad_request", "message": "train before load"}
    assert worker.request(load_request())["ok"]
    assert worker.request(train)["error"] == {
        "kind": "bad_request",
        "message": 'train needs a load with mode "training", not "inference"',
    }
    loaded = worker.request(training_load(ADAMW))
    assert loaded["ok"], loaded
    assert loaded["settings"]["workload"] == "training"
    assert loaded["settings"]["optimizer"] == ADAMW  # echoed as given
    assert worker.request(train)["error"] == {
        "kind": "unsupported",
        "message": "the synthetic model has no weights to train",
    }
    assert worker.request({"op": "measure", "iterations": 2, "sync": "each"})["ok"]
    refused = worker.request(load_request({"optimizer": ADAMW}))
    assert (
        refused["error"]["kind"] == "bad_request" and "only for mode" in refused["error"]["message"]
    )


@pytest.mark.parametrize("case", INVALID)
def test_real_worker_rejects_invalid_request_and_lives(start_worker, case: dict[str, Any]) -> None:
    worker = start_worker("synthetic")
    reply = worker.request(case["line"])
    assert reply["ok"] is False and reply["error"]["kind"] == "bad_request"
    assert case["error"] in reply["error"]["message"]
    assert worker.request({"op": "bye"}) == {"ok": True}
    assert worker.wait() == 0


def test_end_of_input_exits_cleanly(start_worker) -> None:
    worker = start_worker("synthetic")
    assert worker.proc.stdin is not None
    worker.proc.stdin.close()
    assert worker.read_line() is None
    assert worker.wait() == 0


def test_unknown_worker_exits_with_usage_error(start_worker) -> None:
    worker = start_worker("tensorflow")
    assert worker.wait() == 2
    assert worker.read_line() is None
    log = worker.log()
    assert "tensorflow" in log and "synthetic" in log and len(log.strip().splitlines()) == 1
