"""`dlbench load` end to end: the real CLI against a real serving stack (llama.cpp's server through
llama-cpp-python, from .venv-serve, on a tiny random-weight GGUF that the test writes) and against
the fixture server for the faults a real server does not produce on demand."""

from __future__ import annotations

import contextlib
import json
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

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


@contextlib.contextmanager
def fixture_server(tmp_path: Path, *args: str) -> Iterator[str]:
    """Starts build/dlbench-sse-fixture with args on a free port; yields its base URL."""
    port_file = tmp_path / "port"
    fx = subprocess.Popen([str(FIXTURE), "--port", "0", "--port-file", str(port_file), *args],
                          stdout=subprocess.DEVNULL)
    try:
        for _ in range(500):
            if port_file.exists():
                break
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port_file.read_text().strip()}"
    finally:
        fx.kill()
        fx.wait()


def test_fixture_faults_are_counted_and_the_load_goes_on(dlbench, tmp_path):
    with fixture_server(tmp_path, "--fault", "http500", "--fault-every", "3") as url:
        r = dlbench("load", url, "--arrival", "closed", "--concurrency", "3", "--requests", "9", "--output", "5",
                    "--json", "f.json")
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


# The rate sweep. The fixture with --slots 4 serves at most 4 streams at once; each request below
# takes about 1 ms to its first token and 3 ms more for the rest of its 4 tokens, so it sustains
# about 1,000 requests/s: at 300 requests/s nothing queues, at 3,000 the queue grows for the whole
# load and the later requests wait hundreds of milliseconds for their first token.
SLOTS = ["--slots", "4", "--ttft-us", "1000", "--itl-us", "1000"]
SWEEP_LOAD = ["--warmup", "10", "--input", "8", "--output", "4", "--seed", "3", "--quiet"]


def test_sweep_finds_the_largest_rate_that_keeps_the_p99(dlbench, tmp_path):
    # 700 measured requests per rate: enough for a p99 and its interval (662).
    with fixture_server(tmp_path, *SLOTS) as url:
        r = dlbench("load", url, "--sweep", "3000,300,6000", "--requests", "700", *SWEEP_LOAD,
                    "--slo-ttft-ms", "100", "--slo-tpot-ms", "20", "--json", "sweep.json", "--db", "sweep.db",
                    timeout=60)
    assert r.code == 0, r.err + r.out
    rows = {line.split()[0]: line for line in r.out.splitlines() if line.strip()[:1].isdigit()}
    assert rows["300"].rstrip().endswith("meets"), r.out
    assert "fails (TTFT)" in rows["3000"], r.out
    assert "6000" not in rows and "not run: 6000 (stopped after 3000 failed" in r.out
    assert "answer: the largest rate with p99 TTFT (from due) <= 100 ms and p99 TPOT <= 20 ms: " \
           "300 requests/s (3000 fails: TTFT)" in r.out
    j = json.loads((dlbench.workdir / "sweep.json").read_text())
    assert [x["rate"] for x in j["rates"]] == [300, 3000]
    assert [x["verdict"]["verdict"] for x in j["rates"]] == ["meets", "fails"]
    assert j["answer"]["decided"] and j["answer"]["at_least"] == 300
    assert j["sweep"]["not_run"] == [6000]
    low, high = (x["metrics"]["ttft_due"]["p99"] for x in j["rates"])
    assert low["ci95_s"][1] <= 0.1 < high["ci95_s"][0]
    # The same seeded load at each rate: the lengths match, the arrivals scale with the rate.
    a, b = (x["requests"] for x in j["rates"])
    assert len(a) == len(b) == 710
    assert all(p["output_tokens_requested"] == q["output_tokens_requested"] for p, q in zip(a, b))
    assert a[-1]["due_ns"] == pytest.approx(b[-1]["due_ns"] * 10, rel=1e-6)
    # Stored: one cell per rate (the rate not run has none of its own requests); show and report
    # judge it again from the stored requests and give the same rows and answer as the sweep did.
    con = sqlite3.connect(dlbench.workdir / "sweep.db")
    assert con.execute("SELECT variant, repetitions_run FROM cells ORDER BY cell_idx").fetchall() == \
        [("rate-300", 1), ("rate-3000", 1), ("rate-6000", 0)]
    assert con.execute("SELECT COUNT(*) FROM requests").fetchone() == (2 * 710,)
    show = dlbench("show", "latest", "--db", "sweep.db")
    assert show.code == 0, show.err
    shown = {line.split()[0]: line for line in show.out.splitlines() if line.strip()[:1].isdigit()}
    assert shown["300"] == rows["300"] and shown["3000"] == rows["3000"], show.out
    assert "answer: the largest rate with p99 TTFT (from due) <= 100 ms and p99 TPOT <= 20 ms: " \
           "300 requests/s (3000 fails: TTFT)" in show.out
    rep = dlbench("report", "latest", "--db", "sweep.db", "--out", "rep", "--format", "md,csv")
    assert rep.code == 0, rep.err
    md = (dlbench.workdir / "rep" / "report.md").read_text()
    assert "300 requests/s (3000 fails: TTFT)" in md and "p99 latency vs throughput" in md
    csv_rows = (dlbench.workdir / "rep" / "sweep.csv").read_text().splitlines()
    assert len(csv_rows) == 3 and csv_rows[2].split(",")[1] == "3000"
    assert (dlbench.workdir / "rep" / "plots" / "sweep-0.svg").stat().st_size > 0
    # A damaged row is input too: fields of the wrong type are skipped or defaulted, never a crash.
    con.execute("""UPDATE cells SET config_json = json_set(config_json, '$.options.url', 5,
                   '$.options.requests', 'many') WHERE variant = 'rate-300'""")
    con.execute("""UPDATE cells SET config_json = json_set(config_json, '$.options.sweep', json('null'))
                   WHERE variant = 'rate-3000'""")
    con.commit()
    show = dlbench("show", "latest", "--db", "sweep.db")
    assert show.code == 0, show.err
    assert "the server" in show.out and "fails" not in show.out, show.out  # 3000 is no longer a sweep cell


def test_sweep_with_too_few_requests_for_a_p99_is_undecided(dlbench, tmp_path):
    with fixture_server(tmp_path, *SLOTS) as url:
        r = dlbench("load", url, "--sweep", "100,200", "--requests", "30", *SWEEP_LOAD, "--slo-ttft-ms", "100",
                    timeout=60)
    assert r.code == 0, r.err + r.out
    assert r.out.count("undecided (TTFT n<662)") == 2, r.out
    assert "answer: the largest rate with p99 TTFT (from due) <= 100 ms: undecided: no rate is known to meet " \
           "the limits, at most 200 requests/s (100 undecided: TTFT n<662)" in r.out


@pytest.mark.parametrize("args,needle", [
    (["--arrival", "closed", "--sweep", "1,2", "--slo-ttft-ms", "100"],
     "--sweep needs open-loop arrivals (--arrival poisson or gamma), not closed"),
    (["--arrival", "offline", "--sweep", "1,2", "--slo-ttft-ms", "100"], "not offline"),
    (["--sweep", "5,0", "--slo-ttft-ms", "100"], "each rate must be a number of requests/s > 0, got \"0\""),
    (["--sweep", "5,-1", "--slo-ttft-ms", "100"], "got \"-1\""),
    (["--sweep", "5,x", "--slo-ttft-ms", "100"], "got \"x\""),
    (["--sweep", "1,2"], "--sweep needs a limit to judge each rate against: give --slo-ttft-ms, --slo-tpot-ms"),
    (["--sweep", "1,2", "--rate", "3", "--slo-tpot-ms", "10"], "--sweep sets the rate itself"),
])
def test_sweep_bad_input_is_one_line_and_exit_2(dlbench, args, needle):
    r = dlbench("load", "http://127.0.0.1:1", *args)
    assert r.code == 2, r.err
    assert needle in r.err
    assert len(r.err.strip().splitlines()) == 1


def test_stored_loads_compare_over_repetitions(dlbench):
    """load --db --repetitions stores each load as a repetition of one serving cell (a server started
    per repetition), with every request's chunks; two stored loads then compare with compare --by
    run over repetitions: the fixture with three times the time to first token is B slower on ttft
    by about 3x."""
    for ttft_us in (1000, 3000):
        port = free_port()
        r = dlbench("load", f"http://127.0.0.1:{port}", "--server",
                    f"{FIXTURE} --port {port} --ttft-us {ttft_us} --itl-us 500", "--arrival", "closed",
                    "--concurrency", "2", "--requests", "30", "--warmup", "4", "--input", "8", "--output", "6",
                    "--db", "l.db", "--repetitions", "3", "-q")
        assert r.code == 0, r.err + r.out
        assert "TTFT p50" in r.out and "stored in l.db" in r.out
    con = sqlite3.connect(dlbench.workdir / "l.db")
    assert con.execute("SELECT COUNT(*), SUM(status = 'ok') FROM repetitions").fetchone() == (6, 6)
    assert con.execute("SELECT COUNT(*) FROM requests WHERE is_warmup = 0").fetchone() == (6 * 30,)
    assert con.execute("SELECT MIN(n), MAX(n) FROM (SELECT COUNT(*) n FROM token_chunks "
                       "GROUP BY repetition_id, request_idx)").fetchone() == (6, 6)
    (mode,) = con.execute("SELECT DISTINCT mode FROM cells").fetchone()
    assert mode == "serving"
    c = dlbench("compare", "1", "2", "--db", "l.db", "--by", "run", "--metric", "ttft", "--json")
    assert c.code == 0, c.err
    cmp = json.loads(c.out)["comparisons"][0]
    assert cmp["a"]["repetitions"] == 3 and cmp["b"]["repetitions"] == 3
    assert 2.0 < cmp["ratio_b_over_a"] < 4.0 and cmp["verdict"] == "B slower", cmp
    show = dlbench("show", "2", "--db", "l.db")
    assert show.code == 0 and "generation (ms)" in show.out
    # Export writes the traces of every repetition that has them, a stored load's included.
    e = dlbench("export", "2", "--db", "l.db", "--format", "json", "--samples")
    assert e.code == 0, e.err
    reps = json.loads(e.out)["cells"][0]["repetitions"]
    assert [sum(not q["warmup"] for q in rep["requests"]) for rep in reps] == [30, 30, 30]
    # TTFT and TPOT are registry figures, computed when the load was stored: exported and shown.
    assert all(2.5e6 < rep["generation"]["ttft_p50_ns"] < 6e6 for rep in reps), reps[0]["generation"]
    cell = dlbench("show", "2", "--db", "l.db", "--cell", "0")
    assert cell.code == 0 and cell.out.count("TTFT p50 (measured requests, from the request sent): ") == 3


def test_stored_load_input_errors(dlbench):
    r = dlbench("load", "http://127.0.0.1:1", "--repetitions", "2")
    assert r.code == 2 and "--repetitions needs --db" in r.err, r.err
    r = dlbench("load", "http://127.0.0.1:1", "--db", "x.db", "--repetitions", "0")
    assert r.code == 2 and "--repetitions 0: must be >= 1" in r.err, r.err
    r = dlbench("load", "http://127.0.0.1:1", "--db", "x.db", "--sweep", "1,2", "--slo-ttft-ms", "5",
                "--repetitions", "2")
    assert r.code == 2 and "--repetitions with --sweep: a sweep runs each rate once" in r.err, r.err


def test_a_long_context_and_a_large_event_are_read_whole(dlbench, tmp_path):
    """A 60,000-token prompt (the request body) and one SSE event carrying 60,000 tokens with their
    logprobs (about 1.5 MB): no read buffer limit cuts either, and every token is counted."""
    with fixture_server(tmp_path, "--ttft-us", "100", "--tokens-per-chunk", "60000") as url:
        r = dlbench("load", url, "--arrival", "closed", "--requests", "2", "--input", "60000",
                    "--output", "60000", "--json", "long.json", "-q")
    assert r.code == 0, r.err + r.out
    reqs = json.loads((dlbench.workdir / "long.json").read_text())["requests"]
    assert [(q["status"], q["input_tokens"], q["output_tokens"], len(q["chunks"])) for q in reqs] == \
        [("ok", 60000, 60000, 1)] * 2


ENDLESS_LINE_SERVER = r'''
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        block = b"x" * (1 << 20)
        try:
            self.wfile.write(b"data: ")
            for _ in range(200):  # 200 MB, and never a newline
                self.wfile.write(block)
        except (BrokenPipeError, ConnectionResetError):
            pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
s.serve_forever()
'''


def test_a_line_that_never_ends_fails_its_request_and_memory_stays_bounded(dlbench, tmp_path):
    """A server that streams a data line without a newline: the request fails as malformed once the
    event passes the bound (16 MiB), the controller's memory stays near that bound, and the load
    goes on to its next request."""
    port = free_port()
    (tmp_path / "endless.py").write_text(ENDLESS_LINE_SERVER)
    server = subprocess.Popen([sys.executable, str(tmp_path / "endless.py"), str(port)])
    try:
        for _ in range(200):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.1):
                break
            time.sleep(0.05)
        proc = subprocess.Popen([str(BIN), "load", f"http://127.0.0.1:{port}", "--arrival", "closed",
                                 "--requests", "2", "--input", "4", "--output", "4", "--timeout", "60",
                                 "--json", "endless.json", "-q"],
                                cwd=dlbench.workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        peak_kb = 0
        while proc.poll() is None:
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak_kb = max(peak_kb, int(line.split()[1]))
            time.sleep(0.05)
        out, err = proc.communicate()
    finally:
        server.kill()
        server.wait()
    assert proc.returncode == 1, err + out
    reqs = json.loads((dlbench.workdir / "endless.json").read_text())["requests"]
    measured = [q for q in reqs if not q["warmup"]]
    assert [q["status"] for q in measured] == ["malformed"] * len(measured) and measured, reqs
    assert "an event longer than 16777216 bytes" in measured[0]["error"]
    assert peak_kb < 200 * 1024, f"peak RSS {peak_kb} KiB"  # the stream was 200 MB
