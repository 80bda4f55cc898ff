"""A whole run with real synthetic workers: what reaches the database, list/show/export, progress
output on a pipe and on a terminal, launch prefixes and environment variables."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import BIN, Dlbench, synthetic_experiment


def test_run_stores_every_sample_with_its_indices(dlbench: Dlbench) -> None:
    dlbench.write("e.toml", synthetic_experiment())
    r = dlbench("run", "e.toml")
    assert r.code == 0, r.err
    assert dlbench.query("SELECT status FROM runs") == [("complete",)]
    assert dlbench.query("PRAGMA integrity_check") == [("ok",)]
    assert dlbench.query("PRAGMA journal_mode") == [("delete",)]  # WAL while written, not at rest
    cells = dlbench.query("SELECT cell_idx, status, repetitions_ok, n_samples, p50_ns FROM cells ORDER BY cell_idx")
    assert [c[:3] for c in cells] == [(0, "ok", 2), (1, "ok", 2)]
    for _, _, _, n, p50 in cells:
        assert n >= 40  # min_iterations x 2 repetitions
        assert 200_000 <= p50 < 400_000  # the synthetic model spins for 200 µs
    # Raw samples: each repetition's steady samples are stored, with chunk and position indices.
    reps = dlbench.query("SELECT repetition_id, n_samples, warmup_iterations FROM repetitions")
    assert len(reps) == 4
    for rep_id, n, warm in reps:
        rows = dlbench.query(
            "SELECT iter_idx, chunk_idx, is_warmup FROM samples WHERE repetition_id = ? ORDER BY iter_idx",
            rep_id,
        )
        assert len(rows) == n + warm
        assert [row[0] for row in rows] == list(range(n + warm))
        assert sum(row[2] for row in rows) == warm
        assert [row[1] for row in rows] == sorted(row[1] for row in rows)
    # The environment of each repetition is recorded.
    argv, hello, env = dlbench.query("SELECT worker_argv, hello_json, env_json FROM repetitions LIMIT 1")[0]
    assert json.loads(argv)[-3:] == ["-m", "dlbench_worker", "synthetic"]
    assert json.loads(hello)["protocol"] == 1
    assert "PYTHONPATH" in json.loads(env)
    # A pipe gets one plain line per repetition.
    assert r.err.count("\n[") + r.err.startswith("[") >= 4
    assert "[4/4] synthetic synthetic bs2 fp32 cpu rep 2/2: median" in r.err
    assert "\r" not in r.err
    assert "run 1 (e2e): complete" in r.out


def test_list_show_export(dlbench: Dlbench) -> None:
    dlbench.write("e.toml", synthetic_experiment(repetitions=1))
    assert dlbench("run", "e.toml", "-q").code == 0
    r = dlbench("list")
    assert r.code == 0
    assert "e2e" in r.out and "complete" in r.out
    r = dlbench("show", "latest")
    assert r.code == 0
    assert "synthetic synthetic bs2 fp32 cpu" in r.out
    r = dlbench("show", "1", "--cell", "1")
    assert r.code == 0
    assert "settings read back:" in r.out and "command:" in r.out
    # A registry figure with a label is shown without display code of its own: the context switches
    # of the worker's threads while timed (the synthetic worker sleeps between requests, so it
    # switches voluntarily).
    assert re.search(r"voluntary context switches while timed: [1-9]", r.out), r.out
    assert "involuntary context switches while timed: " in r.out
    r = dlbench("export", "1", "--format", "csv")
    assert r.code == 0
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert [row["batch"] for row in rows] == ["1", "2"]
    assert all(row["status"] == "ok" for row in rows)
    assert float(rows[1]["throughput_sps"]) > float(rows[0]["throughput_sps"])  # batch 2 vs 1
    assert int(rows[0]["voluntary_switches_median"]) > 0 and rows[0]["involuntary_switches_median"] != ""
    assert rows[0]["median_ci_coverage"] != "" and rows[0]["profile_deviations"] == ""
    r = dlbench("export", "1", "--format", "json", "--samples", "-o", "out.json")
    assert r.code == 0
    data = json.loads((dlbench.workdir / "out.json").read_text())
    assert data["format"] == "dlbench-run"
    rep = data["cells"][0]["repetitions"][0]
    assert len(rep["samples"]["wall_ns"]) == rep["n_samples"] + rep["warmup_iterations"]
    assert rep["contention"]["voluntary_switches"] > 0 and rep["contention"]["involuntary_switches"] >= 0
    assert data["cells"][0]["repetition_medians"]["voluntary_switches"] == rep["contention"]["voluntary_switches"]


def test_progress_redraws_one_line_on_a_terminal(dlbench: Dlbench) -> None:
    if shutil.which("script") is None:
        pytest.skip("script(1) not installed")
    dlbench.write("e.toml", synthetic_experiment(repetitions=2))
    cmd = f"{BIN} run e.toml --db tty.db"
    proc = subprocess.run(["script", "-qfec", cmd, "/dev/null"], cwd=dlbench.workdir,
                          capture_output=True, timeout=300)
    out = proc.stdout.decode()  # bytes: text mode would turn the \r we look for into \n
    assert proc.returncode == 0, out
    assert "\r\x1b[K[1/4] synthetic synthetic bs1 fp32 cpu rep 1/2" in out
    assert "\r\x1b[K[4/4] synthetic synthetic bs2 fp32 cpu rep 2/2: median" in out
    assert "left" in out


def test_launch_prefix_and_environment_reach_the_worker(dlbench: Dlbench) -> None:
    if shutil.which("taskset") is None:
        pytest.skip("taskset not installed")
    extra = """
[variants.marked]
env = { DLBENCH_E2E_MARK = "yes" }
[environments.pinned]
prefix = ["taskset", "-c", "0"]
[environments.checked]
# A launcher that refuses to start the worker unless the variant's variable arrived.
prefix = ["sh", "-c", "test \\"$DLBENCH_E2E_MARK\\" = yes && exec \\"$@\\"", "launcher"]
[environments.missing]
prefix = ["/nonexistent/launcher"]
"""
    dlbench.write("e.toml", synthetic_experiment(batches="[1]", repetitions=1, extra=extra))
    r = dlbench("run", "e.toml")
    assert r.code == 1, r.err  # the missing launcher fails its cell; the others run
    rows = dlbench.query(
        "SELECT c.environment, r.status, r.launch_prefix, r.hello_json, r.error_kind, r.message "
        "FROM cells c JOIN repetitions r USING (cell_id) ORDER BY c.cell_idx")
    by_env = {row[0]: row for row in rows}
    pinned = by_env["pinned"]
    assert pinned[1] == "ok"
    assert json.loads(pinned[2]) == ["taskset", "-c", "0"]  # recorded verbatim
    assert json.loads(pinned[3])["environment"]["allowed_cpus"] == [0]
    assert by_env["checked"][1] == "ok"
    missing = by_env["missing"]
    assert missing[1] == "failed" and missing[4] == "start_failed"
    assert "cannot start /nonexistent/launcher" in missing[5]
