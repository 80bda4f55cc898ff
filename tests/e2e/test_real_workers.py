"""The real torch and jax workers through the real CLI on a tiny matrix: both run, the database
holds equal parameter counts and FLOPs for the same model, and the numeric settings each framework
reported after load. Also `doctor`, and an installed copy finding its workers."""

from __future__ import annotations

import json
import math
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from conftest import BIN, ROOT, Dlbench

TINY = """
[experiment]
name = "tiny-real"
repetitions = 1
[matrix]
framework = ["torch", "jax"]
model = ["resnet18"]
batch = [1]
precision = ["fp32", "bf16"]
[sampling]
warmup_min_iterations = 2
min_iterations = 5
min_time_s = 0
max_time_s = 30
window_min_time_s = 0.2
"""


@pytest.mark.slow  # test_validate and the generation tests run both real workers in the quick tier
def test_torch_and_jax_on_a_tiny_matrix(dlbench: Dlbench) -> None:
    dlbench.write("tiny.toml", TINY)
    r = dlbench("run", "tiny.toml")
    assert r.code == 0, r.err + r.out
    rows = dlbench.query(
        "SELECT c.framework, c.precision, c.status, c.parameters, c.flops_per_sample, c.n_samples, "
        "c.compile_s, c.window_throughput_sps, r.settings_json, r.hello_json "
        "FROM cells c JOIN repetitions r USING (cell_id) ORDER BY c.cell_idx")
    assert len(rows) == 4
    assert all(row[2] == "ok" for row in rows), rows
    assert {row[3] for row in rows} == {11_689_512}  # torchvision resnet18, equal in both
    assert len({row[4] for row in rows}) == 1 and rows[0][4] > 3e9
    assert all(row[5] >= 5 for row in rows)
    assert all(row[7] and row[7] > 0 for row in rows)
    by = {(row[0], row[1]): row for row in rows}
    assert by[("jax", "fp32")][6] is not None  # jax compiles; the time is recorded apart
    torch_settings = json.loads(by[("torch", "fp32")][8])
    jax_settings = json.loads(by[("jax", "fp32")][8])
    assert torch_settings["layout"] == "NCHW"
    assert jax_settings["layout"] == "NHWC"
    assert "num_threads" in torch_settings
    assert "jax_default_matmul_precision" in jax_settings
    assert json.loads(by[("torch", "fp32")][9])["versions"]["torch"].startswith("2.11.0")
    assert json.loads(by[("jax", "fp32")][9])["versions"]["jax"] == "0.11.2"
    assert "verdicts by framework, over repetitions" in r.out  # the summary leads with them
    assert "resnet18 bs1 fp32: " in r.out


BATCHES = """
[experiment]
name = "batches-real"
repetitions = 2
[matrix]
framework = ["torch"]
model = ["mobilenet_v3_small"]
batch = [1, 2, 4, 8]
[sampling]
warmup_min_iterations = 2
min_iterations = 5
min_time_s = 0
max_time_s = 10
window_min_time_s = 0.1
"""


@pytest.mark.slow  # two minutes on 2 cores
def test_predict_a_held_out_batch_of_a_real_cpu_run(dlbench: Dlbench, tmp_path: Path) -> None:
    dlbench.write("batches.toml", BATCHES)
    r = dlbench("run", "batches.toml", "-q")
    assert r.code == 0, r.err + r.out
    # Batch 8 held out: a copy of the database without it predicts it from batches 1, 2 and 4.
    held_out = tmp_path / "without-8.db"
    shutil.copy(dlbench.db, held_out)
    with sqlite3.connect(held_out) as con:
        con.execute("PRAGMA foreign_keys = ON")
        con.execute("DELETE FROM cells WHERE batch = 8")
    p = dlbench("predict", str(held_out), "--batch", "8", "--json")
    assert p.code == 0, p.err
    (row,) = json.loads(p.out)["predictions"]
    lo, hi = row["latency_pi"]
    assert 0 < lo < row["latency_ns"] < hi and math.isfinite(row["exponent"])
    # Three batches leave two when one is held out, too few for a fit: said, not invented.
    assert row["points"] == 6 and row["leave_one_out"]["held_out"] == 0
    assert row["leave_one_out"]["skipped"] == 3
    measured = dlbench("predict", "dlbench.db", "--batch", "8", "--json")
    assert measured.code == 0, measured.err  # with batch 8 measured, it is predicted from all four
    loo = json.loads(measured.out)["predictions"][0]["leave_one_out"]
    assert loo["held_out"] == 4 and 0 <= loo["coverage"] <= 1
    print(f"batch 8 predicted {row['latency_ns'] / 1e6:.2f} ms [{lo / 1e6:.2f}, {hi / 1e6:.2f}] from 1, 2, 4; "
          f"measured: {dlbench.query('SELECT p50_ns FROM cells WHERE batch = 8')[0][0] / 1e6:.2f} ms")


def test_doctor_lists_host_and_every_worker(dlbench: Dlbench) -> None:
    r = dlbench("doctor", "--json")
    assert r.code == 0, r.err + r.out
    report = json.loads(r.out)
    assert report["host"]["logical_cpus"] >= 1
    assert report["gpus"]["devices"] == [] and report["gpus"]["why_none"]
    workers = {w["worker"]: w for w in report["workers"]}
    assert set(workers) == {"torch", "jax", "synthetic", "transformers"}
    assert all(w["ok"] for w in workers.values()), workers
    assert workers["torch"]["hello"]["versions"]["torch"].startswith("2.11.0")
    assert workers["transformers"]["hello"]["versions"]["transformers"] == "5.23.0"
    human = dlbench("doctor")
    assert "gpus\n  none:" in human.out
    assert "torch" in human.out and "ok in" in human.out


def test_doctor_reports_a_python_without_frameworks(dlbench: Dlbench, tmp_path: Path) -> None:
    r = dlbench("doctor", "--python", "/nonexistent/python")
    assert r.code == 2
    assert "--python /nonexistent/python: no executable Python there" in r.err


def test_installed_copy_finds_its_workers(dlbench: Dlbench, tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    subprocess.run(["cmake", "--install", str(BIN.parent), "--prefix", str(prefix)], check=True,
                   capture_output=True)
    installed = prefix / "bin" / "dlbench"
    assert (prefix / "share" / "dlbench" / "workers" / "python" / "dlbench_worker" / "server.py").exists()
    dlbench.write("e.toml", '[experiment]\nname = "i"\nrepetitions = 1\n[matrix]\n'
                  'framework = "synthetic"\nmodel = "synthetic"\n[sampling]\nmin_iterations = 5\n'
                  "min_time_s = 0\nmax_time_s = 1\n")
    proc = subprocess.run([str(installed), "run", "e.toml", "-q"], cwd=dlbench.workdir,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    argv = json.loads(dlbench.query("SELECT worker_argv FROM repetitions")[0][0])
    env = json.loads(dlbench.query("SELECT env_json FROM repetitions")[0][0])
    assert env["PYTHONPATH"].startswith(str(prefix / "share" / "dlbench" / "workers" / "python"))
    assert argv[-1] == "synthetic"
