"""Every input of the worker-request fuzz corpus (tests/fuzz/corpus/worker_request/) is replayed
through the fuzz harness's own check: a crash the fuzzer once found stays a regression test."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from worker_process import WORKER_ROOT

REPO = WORKER_ROOT.parents[1]
CORPUS = sorted((REPO / "tests" / "fuzz" / "corpus" / "worker_request").iterdir())


def _harness():
    spec = importlib.util.spec_from_file_location("worker_request_harness", REPO / "tests" / "fuzz" / "worker_request.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_corpus_is_not_empty() -> None:
    assert len(CORPUS) >= 10


def test_every_corpus_input_is_a_request_or_a_protocol_error() -> None:
    check = _harness().check
    for path in CORPUS:
        check(path.read_bytes())


def test_the_harness_lets_other_exceptions_escape() -> None:
    # The check would be useless if it swallowed everything: a reader that raises something other
    # than ProtocolError must fail it.
    harness = _harness()

    class Broken:
        def __init__(self, reply_fd: int, requests: object) -> None:
            pass

        def read_request(self) -> None:
            raise KeyError("op")

    harness.Channel = Broken
    with pytest.raises(KeyError):
        harness.check(b'{"op": "hello"}\n')
