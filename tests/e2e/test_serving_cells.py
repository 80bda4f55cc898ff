"""Serving stacks in an experiment ([servers.NAME] in matrix.framework): the real CLI starts each
repetition's server through the cell's environment, drives the cell's load over HTTP, stops it and
keeps its log; the faults of a server end one repetition, never the run. The token-streaming
fixture plays the server where a fault must happen on demand; llama.cpp's server is the real one."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time

import pytest

from conftest import BIN, ROOT, Dlbench

FIXTURE = BIN.parent / "dlbench-sse-fixture"
QUICK = str(ROOT / "experiments" / "generation-quick.toml")
SERVE_PY = ROOT / ".venv-serve" / "bin" / "python"


TOKENS = ("(SELECT SUM(tokens) FROM token_chunks c WHERE c.repetition_id = q.repetition_id "
          "AND c.request_idx = q.request_idx)")


def experiment(command: str, *, batches: str = "[1, 2]", extra_server: str = "", frameworks: str = '["fx"]',
               load: str = "requests = 6\nwarmup = 2") -> str:
    return f"""
[experiment]
name = "serving-cells"
repetitions = 2
seed = 3
[matrix]
framework = {frameworks}
model = "llama-tiny"
batch = {batches}
workload = "generation"
[generation]
prompt_tokens = 8
new_tokens = 5
[servers.fx]
{command}
models = ["llama-tiny"]
{extra_server}
[load]
{load}
"""


def fixture_command(*args: str) -> str:
    argv = [str(FIXTURE), "--port", "{port}", "--ttft-us", "2000", "--itl-us", "500", *args]
    return "command = " + json.dumps(argv)


def test_a_server_cell_runs_stores_and_compares(dlbench: Dlbench) -> None:
    dlbench.write("s.toml", experiment(fixture_command()))
    r = dlbench("run", "s.toml")
    assert r.code == 0, r.err + r.out
    assert "TTFT p50" in r.out, r.out
    cells = dlbench.query("SELECT batch, status, repetitions_ok, config_json FROM cells ORDER BY batch")
    assert [(b, s, n) for b, s, n, _ in cells] == [(1, "ok", 2), (2, "ok", 2)]
    for batch, _, _, config in cells:  # the load is the cell's options: closed loop at its batch
        load = json.loads(config)["options"]["load"]
        assert load == {"arrival": "closed", "concurrency": batch, "requests": 6, "warmup": 2,
                        "stall_timeout_s": 30.0}
    # every request of every repetition is stored, warm-up flagged, 5 tokens each, counted from logprobs
    rows = dlbench.query(f"SELECT is_warmup, status, {TOKENS}, token_source FROM requests q")
    assert len(rows) == 2 * 2 * 8
    assert sum(w for w, *_ in rows) == 2 * 2 * 2
    assert {(s, n, src) for _, s, n, src in rows} == {("ok", 5, "logprobs")}
    # each repetition ran its own server on a port of its own, and kept its log
    reps = dlbench.query("SELECT worker_argv, log, load_s FROM repetitions")
    ports = {json.loads(argv)[json.loads(argv).index("--port") + 1] for argv, _, _ in reps}
    assert len(ports) == 4
    for _, log, load_s in reps:
        assert load_s > 0
        assert "listening on http://127.0.0.1:" in log, log  # the fixture's first line
    c = dlbench("compare", "latest", "--by", "batch", "--metric", "ttft", "--json")
    assert c.code == 0, c.err
    assert json.loads(c.out)["comparisons"][0]["a"]["repetitions"] == 2


def test_a_server_that_dies_mid_load_fails_its_repetition_and_the_run_goes_on(dlbench: Dlbench) -> None:
    # every 4th request makes the fixture exit half-way through its stream
    dlbench.write("s.toml", experiment(fixture_command("--fault", "die", "--fault-every", "4"), batches="[1]"))
    r = dlbench("run", "s.toml")
    assert r.code == 1, r.err + r.out
    reps = dlbench.query("SELECT r.status, r.error_kind, r.message, r.repetition_id FROM repetitions r")
    assert len(reps) == 2  # the second repetition ran after the first one's server died
    for status, kind, message, rep_id in reps:
        assert (status, kind) == ("failed", "crashed"), message
        assert "server fx exited (exit status 1) during the load" in message
        # what was measured before the death is kept, request by request
        statuses = [s for (s,) in dlbench.query("SELECT status FROM requests WHERE repetition_id = ?", rep_id)]
        assert "ok" in statuses and "truncated" in statuses, statuses


def test_start_faults_and_a_missing_program(dlbench: Dlbench) -> None:
    # exits at once: a failed repetition naming the server and its log; the run goes on
    dlbench.write("a.toml", experiment('command = ["false"]', batches="[1]"))
    r = dlbench("run", "a.toml")
    assert r.code == 1, r.err + r.out
    (kind, phase, message) = dlbench.query("SELECT error_kind, phase, message FROM repetitions")[0]
    assert (kind, phase) == ("start_failed", "start")
    assert "server fx exited (exit status 1) before http://127.0.0.1:" in message and "/health" in message
    assert len(dlbench.query("SELECT 1 FROM repetitions")) == 2
    # never ready: stopped after its startup timeout
    dlbench.write("b.toml", experiment('command = ["sleep", "60"]', batches="[1]",
                                       extra_server="startup_timeout_s = 1"))
    t0 = time.monotonic()
    r = dlbench("run", "b.toml", "--db", "b.db")
    assert r.code == 1 and time.monotonic() - t0 < 30, r.err + r.out
    assert subprocess.run(["pgrep", "-f", "^sleep 60$"], capture_output=True).returncode != 0
    # a program this machine lacks: the cell is unsupported, with the reason
    dlbench.write("c.toml", experiment('command = ["/nonexistent/bin/server", "{port}"]', batches="[1]"))
    r = dlbench("run", "c.toml", "--db", "c.db")
    assert r.code == 0, r.err + r.out
    assert "unsupported: server fx: its program /nonexistent/bin/server is not on this machine" in r.out
    with sqlite3.connect(dlbench.workdir / "c.db") as con:
        assert con.execute("SELECT status, repetitions_run FROM cells").fetchall() == [("unsupported", 1)]


def test_an_open_loop_load_at_a_rate(dlbench: Dlbench) -> None:
    """[load] arrival = "poisson": the server's cells run at batch 1 only, each request due at its
    seeded arrival; the send delays stay far below the gaps between arrivals."""
    dlbench.write("s.toml", experiment(fixture_command(), frameworks='["fx"]', batches="[1, 2]",
                                       load='requests = 20\nwarmup = 2\narrival = "poisson"\nrate = 50'))
    r = dlbench("run", "s.toml")
    assert r.code == 0, r.err + r.out
    cells = dlbench.query("SELECT batch, config_json FROM cells")
    assert [b for b, _ in cells] == [1]  # no closed-loop concurrency: one cell
    assert json.loads(cells[0][1])["options"]["load"] == {
        "arrival": "poisson", "rate": 50.0, "requests": 20, "warmup": 2, "stall_timeout_s": 30.0}
    rows = dlbench.query("SELECT repetition_id, request_idx, due_ns, sent_ns FROM requests ORDER BY 1, 2")
    by_rep: dict[int, list[tuple[int, int]]] = {}
    for rep, _, due, sent in rows:
        by_rep.setdefault(rep, []).append((due, sent))
    assert len(by_rep) == 2
    dues = [[d for d, _ in v] for v in by_rep.values()]
    assert dues[0] == dues[1]  # the same seeded schedule in every repetition
    assert dues[0] == sorted(dues[0]) and dues[0][-1] > 0
    # 22 arrivals at 50/s span about 0.4 s: a clock of its own, not a closed loop's back-to-back sends
    assert 0.1e9 < dues[0][-1] < 1.5e9


def test_behind_a_prefix_the_program_is_the_prefixs_to_find(dlbench: Dlbench) -> None:
    """A server behind a launch prefix (a container's, a sandbox's) may have its program only inside
    it: the controller does not call the cell unsupported, it starts the prefix, whose failure is
    the repetition's."""
    text = experiment('command = ["/only/in/the/image/server", "{port}"]', batches="[1]")
    text = text.replace("[matrix]", "[environments.boxed]\nprefix = [\"env\"]\n[matrix]\nenvironment = \"boxed\"")
    dlbench.write("s.toml", text)
    r = dlbench("run", "s.toml")
    assert r.code == 1, r.err + r.out
    (status, kind, message) = dlbench.query("SELECT status, error_kind, message FROM repetitions")[0]
    assert (status, kind) == ("failed", "start_failed"), message
    assert "server fx exited (exit status 127)" in message, message


def test_an_existing_server_at_a_url(dlbench: Dlbench, tmp_path) -> None:
    port_file = tmp_path / "port"
    fx = subprocess.Popen([str(FIXTURE), "--port", "0", "--port-file", str(port_file)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(500):
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.01)
        url = f"http://127.0.0.1:{port_file.read_text().strip()}"
        dlbench.write("s.toml", experiment(f'url = "{url}"', batches="[2]"))
        r = dlbench("run", "s.toml")
        assert r.code == 0, r.err + r.out
        assert fx.poll() is None  # dlbench did not stop a server it did not start
        (argv, log) = dlbench.query("SELECT worker_argv, log FROM repetitions")[0]
        assert json.loads(argv) == [] and url in log
    finally:
        fx.kill()
        fx.wait()


@pytest.mark.parametrize("extra, needle", [
    ('[servers.fx]\nmodels = ["llama-tiny"]\n', "servers.fx: needs a command"),
    ('[servers.fx]\ncommand = ["x"]\nmodels = ["llama-tiny"]\nurl = "localhost:80"\n',
     'servers.fx.url: "localhost:80" is not an http(s) URL'),
    ('[servers.fx]\ncommand = ["x"]\nmodels = ["llama-tiny"]\napi = "generate"\n',
     'servers.fx.api: "generate"; allowed: completions, chat'),
    ('[servers.fx]\ncommand = ["x"]\nmodels = ["llama-tiny"]\n[load]\nwarmup = -1\n',
     "load.warmup: -1 is out of range"),
])
def test_bad_server_entries_are_one_line_and_exit_2(dlbench: Dlbench, extra: str, needle: str) -> None:
    dlbench.write("s.toml", '[experiment]\nname = "x"\n[matrix]\nframework = "fx"\nmodel = "llama-tiny"\n'
                            'workload = "generation"\n' + extra)
    r = dlbench("run", "s.toml")
    assert r.code == 2, r.err + r.out
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dlbench: error: s.toml:") and needle in lines[0], r.err


def test_generation_quick_llama_cpp_server(dlbench: Dlbench) -> None:
    """The quick experiment's real serving stack: llama.cpp's server on llama-tiny's shape, each
    prompt word one token, so the server evaluates exactly the prompt the in-process engines get."""
    if not SERVE_PY.exists():
        pytest.fail(".venv-serve is missing: run scripts/test (it installs llama.cpp's server)")
    r = dlbench("run", QUICK, "--filter", "framework=llama-cpp", "--filter", "batch=1", timeout=600)
    assert r.code == 0, r.err + r.out
    (status, reps_ok) = dlbench.query("SELECT status, repetitions_ok FROM cells")[0]
    assert (status, reps_ok) == ("ok", 3)
    rows = dlbench.query(f"SELECT status, {TOKENS}, token_source FROM requests q WHERE is_warmup = 0")
    assert len(rows) == 3 * 32 and {tuple(x) for x in rows} == {("ok", 16, "logprobs")}
    for (log,) in dlbench.query("SELECT log FROM repetitions"):
        # llama.cpp's own count of the prompt it evaluated, for every request: no request reused a
        # cached prefix of its predecessor's prompt
        evals = [line for line in log.splitlines() if "prompt eval time" in line]
        assert len(evals) == 36 and all("/    32 tokens" in line for line in evals), log[-3000:]
    hello = json.loads(dlbench.query("SELECT hello_json FROM repetitions")[0][0])
    assert hello["environment"]["pid_namespace"].startswith("pid:")
