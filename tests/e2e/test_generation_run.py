"""The generation workload through `dlbench run` with the synthetic worker (no framework): the
matrix's workload axis and its [generation] table, cells planned only for (model, workload) pairs
a worker runs, every repetition measured as whole generates; and the [generation] input errors,
one line each naming the file, the line and the field."""

from __future__ import annotations

import json
import sqlite3

from conftest import Dlbench

HEAD = '[experiment]\nname = "gen"\nrepetitions = 1\ntimeout_s = 30\n'
MATRIX = '[matrix]\nframework = "synthetic"\nmodel = "synthetic"\nbatch = 2\n'
SAMPLING = "[sampling]\nmin_iterations = 5\nmin_time_s = 0.01\nmax_time_s = 1\nwindow_min_time_s = 0\n"
OPTIONS = '[options]\nlatency = { distribution = "constant", value_ns = 100000 }\n'


def test_a_generation_cell_runs_and_is_stored(dlbench: Dlbench) -> None:
    text = (HEAD + MATRIX + 'workload = ["inference", "generation"]\n' + SAMPLING + OPTIONS
            + "[generation]\nprompt_tokens = 8\nnew_tokens = 4\n")
    dlbench.write("g.toml", text)
    r = dlbench("run", "g.toml", "--db", "g.db")
    assert r.code == 0, r.err + r.out
    db = sqlite3.connect(dlbench.workdir / "g.db")
    cells = db.execute("SELECT mode, status, config_json FROM cells ORDER BY cell_idx").fetchall()
    assert [(mode, status) for mode, status, _ in cells] == [("inference", "ok"), ("generation", "ok")]
    options = json.loads(cells[1][2])["options"]
    assert options["prompt_tokens"] == 8 and options["new_tokens"] == 4
    assert "prompt_tokens" not in json.loads(cells[0][2])["options"]
    # A generate spins once for the prefill and once per decode step: 4 spins of 100 us.
    (median,) = db.execute(
        "SELECT median_ns FROM repetitions r JOIN cells c USING (cell_id) WHERE c.mode = 'generation'"
    ).fetchone()
    assert median >= 400_000


def test_generation_traces_are_stored_shown_exported_and_compared(dlbench: Dlbench) -> None:
    """Every generate's trace (prefill, then one chunk per decode step) is stored beside its sample;
    show and report derive TTFT, TPOT and ITL from the traces, export --samples carries them, and compare
    --metric ttft|tpot compares cells over repetitions. Two variants differ only in the synthetic
    worker's latency, so the slower one must lose on both metrics."""
    text = (HEAD.replace("repetitions = 1", "repetitions = 2") + MATRIX + 'workload = "generation"\n'
            + SAMPLING + "[generation]\nprompt_tokens = 8\nnew_tokens = 4\n"
            + '[variants.fast]\noptions = { latency = { distribution = "constant", value_ns = 100000 } }\n'
            + '[variants.slow]\noptions = { latency = { distribution = "constant", value_ns = 400000 } }\n')
    dlbench.write("g.toml", text)
    r = dlbench("run", "g.toml", "--db", "g.db")
    assert r.code == 0, r.err + r.out
    assert "TTFT p50" in r.out and "TPOT p50" in r.out, r.out
    db = sqlite3.connect(dlbench.workdir / "g.db")
    for (rep_id,) in db.execute("SELECT repetition_id FROM repetitions"):
        samples = db.execute("SELECT COUNT(*), SUM(is_warmup) FROM samples WHERE repetition_id = ?",
                             (rep_id,)).fetchone()
        requests = db.execute("SELECT COUNT(*), SUM(is_warmup) FROM requests WHERE repetition_id = ?",
                              (rep_id,)).fetchone()
        assert samples == requests and samples[0] > 0
        # four tokens per generate: the prefill's, then three decode steps, one chunk each
        per_request = db.execute(
            "SELECT COUNT(*), SUM(tokens), MIN(arrival_ns) FROM token_chunks WHERE repetition_id = ? "
            "GROUP BY request_idx", (rep_id,)).fetchall()
        assert {(n, tokens) for n, tokens, _ in per_request} == {(4, 4)}
        assert min(first for _, _, first in per_request) >= 100_000  # the prefill spins once
    show = dlbench("show", "latest", "--db", "g.db")
    assert show.code == 0 and "generation (ms)" in show.out, show.out
    report = dlbench("report", "latest", "--db", "g.db", "--out", "rep")
    assert report.code == 0, report.err
    md = (dlbench.workdir / "rep" / "report.md").read_text()
    assert "TTFT p50 [95% CI]" in md and (dlbench.workdir / "rep" / "generation.csv").exists()
    exported = dlbench("export", "latest", "--db", "g.db", "--format", "json", "--samples")
    rep = json.loads(exported.out)["cells"][0]["repetitions"][0]
    assert len(rep["requests"]) == len(rep["samples"]["wall_ns"])
    assert rep["requests"][-1]["output_tokens"] == 4 and rep["requests"][-1]["token_source"] == "engine"
    for metric in ("ttft", "tpot"):
        c = dlbench("compare", "latest", "--db", "g.db", "--by", "variant", "--metric", metric, "--json")
        assert c.code == 0, c.err
        result = json.loads(c.out)["comparisons"][0]
        b_variant = result["b"]["key"].split("/")[7]
        ratio = result["ratio_b_over_a"]
        assert (b_variant == "slow" and ratio > 2) or (b_variant == "fast" and ratio < 0.5), result


def error_of(dlbench: Dlbench, text: str) -> str:
    dlbench.write("bad.toml", text)
    r = dlbench("run", "bad.toml", "--dry-run")
    assert r.code == 2, r.out + r.err
    assert len(r.err.strip().splitlines()) == 1
    return r.err.strip()


def test_generation_input_errors(dlbench: Dlbench) -> None:
    gen = HEAD + MATRIX + 'workload = "generation"\n'
    assert error_of(dlbench, gen + "[generation]\nprompt_tokens = 0\n").endswith(
        "bad.toml:11: generation.prompt_tokens: 0 is out of range; allowed: integers from 1 to 1048576"
    )
    assert error_of(dlbench, gen + "[generation]\nnew_tokenz = 3\n").endswith(
        'bad.toml:11: generation.new_tokenz: unknown key "new_tokenz" in [generation]; allowed: '
        'prompt_tokens, new_tokens (did you mean "new_tokens"?)'
    )
    assert error_of(dlbench, HEAD + MATRIX + "[generation]\nnew_tokens = 3\n").endswith(
        'bad.toml:9: generation: the matrix has no generation cells (matrix.workload = '
        '["generation"]); [generation] applies only to them'
    )
    torch = HEAD + '[matrix]\nframework = "torch"\nmodel = "resnet18"\nworkload = "generation"\n'
    assert error_of(dlbench, torch).endswith(
        'bad.toml:7: matrix.model: "resnet18" runs none of the workloads generation on torch'
    )
    # the real workers report their decoders' positions: lengths that do not fit are refused here
    llama = HEAD + '[matrix]\nframework = ["torch", "jax"]\nmodel = "llama-tiny"\nworkload = "generation"\n'
    assert error_of(dlbench, llama + "[generation]\nprompt_tokens = 2000\nnew_tokens = 100\n").endswith(
        "bad.toml:11: generation.new_tokens: prompt_tokens + new_tokens is 2100; llama-tiny has 2048 "
        "positions (the torch worker's)"
    )
