"""`dlbench load` end to end: the real CLI against a real serving stack (llama.cpp's server through
llama-cpp-python, from .venv-serve, on a tiny random-weight GGUF that the test writes) and against
the fixture server for the faults a real server does not produce on demand."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest

from conftest import BIN, ROOT

SERVE_PY = ROOT / ".venv-serve" / "bin" / "python"
FIXTURE = BIN.parent / "dlbench-sse-fixture"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory) -> Path:
    if not SERVE_PY.exists():
        pytest.fail(".venv-serve is missing: run scripts/test (it installs llama.cpp's server)")
    out = tmp_path_factory.mktemp("gguf") / "tiny.gguf"
    subprocess.run([str(SERVE_PY), str(ROOT / "workers" / "serve" / "make_tiny_gguf.py"), str(out)], check=True)
    return out


def llama_server(model: Path, port: int) -> str:
    return (f"{SERVE_PY} -m llama_cpp.server --model {model} --host 127.0.0.1 --port {port} "
            f"--n_ctx 2048 --logits_all true --n_threads 1 --interrupt_requests false")


def test_closed_loop_against_llama_cpp_server(dlbench, tiny_gguf):
    port = free_port()
    r = dlbench("load", f"http://127.0.0.1:{port}", "--server", llama_server(tiny_gguf, port),
                "--server-log", "server.log", "--health", "/v1/models", "--arrival", "closed",
                "--concurrency", "2", "--requests", "8", "--warmup", "2", "--input", "16..32", "--output", "12",
                "--prompt", "text", "--eos-token", "2", "--seed", "5", "--json", "load.json", timeout=300)
    assert r.code == 0, r.err + r.out
    j = json.loads((dlbench.workdir / "load.json").read_text())
    reqs = j["requests"]
    assert len(reqs) == 10 and sum(q["warmup"] for q in reqs) == 2
    for q in reqs:
        assert q["status"] == "ok", q
        assert q["output_tokens"] == 12, q            # EOS suppressed: every request gets its length
        assert q["token_source"] == "logprobs", q
        assert q["sent_ns"] <= q["chunks"][0][0] <= q["chunks"][-1][0] <= q["done_ns"]
        assert 16 <= q["input_tokens"] <= 32
        # llama-cpp-python sends no usage in a stream (stream_options is ignored): the counts come
        # from the logprobs alone, and the prompt's length in tokens stays unknown.
        assert q["usage_output_tokens"] == -1 and q["usage_input_tokens"] == -1
    m = j["metrics"]
    assert m["ok"] == 8 and m["failed"] == 0
    assert m["output_tokens_per_s"] > 0 and m["tpot"]["n"] == 8
    assert "TTFT from due" in r.out and "tokens counted from: logprobs" in r.out
    assert (dlbench.workdir / "server.log").stat().st_size > 0
    # The server was stopped: nothing listens on its port any more.
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_open_loop_and_same_seed_same_requests(dlbench, tiny_gguf):
    port = free_port()
    server = llama_server(tiny_gguf, port)
    common = ["--health", "/v1/models", "--arrival", "poisson", "--rate", "4", "--requests", "6",
              "--input", "8..24", "--output", "4..8", "--prompt", "text", "--eos-token", "2", "--seed", "9"]
    runs = []
    for name in ("a.json", "b.json"):
        r = dlbench("load", f"http://127.0.0.1:{port}", "--server", server, *common, "--json", name, timeout=300)
        assert r.code == 0, r.err + r.out
        assert "sent at" in r.out and "against a target of 4" in r.out
        runs.append(json.loads((dlbench.workdir / name).read_text())["requests"])
    for a, b in zip(*runs):
        assert (a["due_ns"], a["input_tokens"], a["output_tokens_requested"]) == \
               (b["due_ns"], b["input_tokens"], b["output_tokens_requested"])
        assert a["output_tokens"] == a["output_tokens_requested"]


def test_fixture_faults_are_counted_and_the_load_goes_on(dlbench, tmp_path):
    port_file = tmp_path / "port"
    fx = subprocess.Popen([str(FIXTURE), "--port", "0", "--port-file", str(port_file), "--fault", "http500",
                           "--fault-every", "3"], stdout=subprocess.DEVNULL)
    try:
        for _ in range(500):
            if port_file.exists():
                break
            subprocess.run(["sleep", "0.01"])
        url = f"http://127.0.0.1:{port_file.read_text().strip()}"
        r = dlbench("load", url, "--arrival", "closed", "--concurrency", "3", "--requests", "9", "--output", "5",
                    "--json", "f.json")
    finally:
        fx.kill()
        fx.wait()
    assert r.code == 1, r.err + r.out
    assert "failed: http_500 x3" in r.out
    j = json.loads((dlbench.workdir / "f.json").read_text())
    assert j["metrics"]["ok"] == 6 and j["metrics"]["failed"] == 3


def test_a_server_that_fails_to_start_is_one_line(dlbench):
    port = free_port()
    r = dlbench("load", f"http://127.0.0.1:{port}", "--server", "false", "--startup-timeout", "20")
    assert r.code == 3
    errors = [line for line in r.err.splitlines() if line.startswith("dlbench: error:")]
    assert len(errors) == 1, r.err
    assert "exited (exit status 1) before" in errors[0] and "its log:" in errors[0]


@pytest.mark.parametrize("args,needle", [
    (["ftp://x"], "is not an http(s) URL"),
    (["http://127.0.0.1:1", "--arrival", "poisson", "--rate", "0"], "rate: must be a finite number > 0"),
    (["http://127.0.0.1:1", "--arrival", "uniform"], "allowed: offline, closed, poisson, gamma"),
    (["http://127.0.0.1:1", "--input", "5..x"], "--input 5..x: expected N or MIN..MAX"),
    (["http://127.0.0.1:1", "--api", "embeddings"], "allowed values are completions, chat"),
])
def test_bad_input_is_one_line_and_exit_2(dlbench, args, needle):
    r = dlbench("load", *args)
    assert r.code == 2, r.err
    assert needle in r.err
    assert len(r.err.strip().splitlines()) == 1
