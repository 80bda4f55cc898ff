"""The report leads with its answer, and the commands that decide across runs (db, recommend,
predict), through the real CLI on real synthetic runs: the same pair reads with the same sentence
in compare and in the report, the LaTeX tables fit a paper's text width, and bad input gets one line
and exit 2."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from conftest import Dlbench, synthetic_experiment

VARIANTS = """
[variants.base]
options = { latency = { distribution = "normal", mean_ns = 200000, std_ns = 4000 } }
[variants.slower]
options = { latency = { distribution = "normal", mean_ns = 300000, std_ns = 4000 } }
[variants.same]
options = { latency = { distribution = "normal", mean_ns = 200000, std_ns = 4000 } }
"""


def constant(ns: int) -> str:
    return f'latency = {{ distribution = "normal", mean_ns = {ns}, std_ns = {ns // 50} }}'


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Dlbench:
    """Run 1: three variants at batch 1. Runs 2-5: one batch each (1, 2, 4, 8), latency ~ batch^0.6."""
    dlbench = Dlbench(tmp_path_factory.mktemp("decisions"))
    text = synthetic_experiment(name="variants", batches="[1]", repetitions=4, extra=VARIANTS, options="")
    dlbench.write("v.toml", text.replace("repetitions = 4\n", "repetitions = 4\ncompare_by = \"variant\"\n"))
    r = dlbench("run", "v.toml")
    assert r.code == 0, r.err
    dlbench.run_output = r.out
    for batch, ns in [(1, 200000), (2, 303000), (4, 459000), (8, 696000)]:
        dlbench.write(f"b{batch}.toml", synthetic_experiment(name=f"bs{batch}", batches=f"[{batch}]",
                                                             repetitions=3, options=constant(ns)))
        r = dlbench("run", f"b{batch}.toml", "-q")
        assert r.code == 0, r.err
    return dlbench


@pytest.fixture(scope="module")
def report(runs: Dlbench) -> Path:
    r = runs("report", "1", "--out", "out")
    assert r.code == 0, r.err
    return runs.workdir / "out"


def test_report_opens_with_the_answer_and_its_plot(report: Path) -> None:
    html = (report / "report.html").read_text()
    answer = html[html.index('<section id="answer">'):html.index("</section>")]
    assert html.index('id="answer"') < html.index('id="environment"')
    assert "Run 1 (variants" in answer and "compared across variant (base, slower, same)" in answer
    assert re.search(r"base 1\.[45]\dx faster than slower \(95% CI", answer), answer
    assert '<figure id="plot-findings">' in answer and "<svg" in answer
    assert html.count('id="plot-findings"') == 1  # not repeated under Plots
    md = (report / "report.md").read_text()
    assert md.index("## The answer") < md.index("## Environment")
    assert "(plots/findings.svg)" in md


def test_compare_and_report_print_the_same_sentence(runs: Dlbench, report: Path) -> None:
    r = runs("compare", "1", "--by", "variant")
    assert r.code == 0, r.err
    sentence = next(line for line in r.out.splitlines() if "faster than slower" in line)
    assert sentence in (report / "report.md").read_text()
    show = runs("show", "1")
    assert sentence in show.out
    assert sentence in runs.run_output  # the run's own summary


def test_efficiency_table_says_what_is_unavailable_once(report: Path) -> None:
    html = (report / "report.html").read_text()
    table = html[html.index('<table id="t-efficiency">'):]
    table = table[:table.index("</table>")]
    assert "<td>unavailable:" not in table and "<td>not in table:" not in table
    assert "Without a value in any row:" in table  # empty columns are left out and named


def test_latex_tables_fit_the_text_width_of_a_paper(report: Path) -> None:
    pdflatex = shutil.which("pdflatex")
    assert pdflatex, "pdflatex is not installed; run scripts/setup.sh"
    (report / "paper.tex").write_text(
        "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{booktabs}\n"
        "\\usepackage{graphicx}\n\\usepackage{textcomp}\n\\begin{document}\n\\input{tables.tex}\n"
        "\\end{document}\n")
    r = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "paper.tex"], cwd=report,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-3000:]
    log = (report / "paper.log").read_text(errors="replace")
    assert "Overfull \\hbox" not in log, log[log.find("Overfull"):][:500]


def test_db_lists_every_configuration_with_provenance(runs: Dlbench) -> None:
    r = runs("db", "dlbench.db", "--format", "json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["format"] == "dlbench-db"
    rows = out["rows"]
    # 3 variants at batch 1 (run 1), and batches 1, 2, 4, 8 of the default variant (runs 2-5)
    assert len(rows) == 7, [(x["variant"], x["batch"]) for x in rows]
    assert all(x["measurements"] == 1 for x in rows)
    row = rows[0]
    assert row["throughput_ci"][0] < row["throughput_sps"] < row["throughput_ci"][1]
    assert row["source"]["run"] == 1 and row["source"]["db"] == "dlbench.db"
    only = json.loads(runs("db", "dlbench.db", "--format", "json", "--where", "batch=4").out)["rows"]
    assert [x["batch"] for x in only] == [4]
    csv = runs("db", "dlbench.db", "--format", "csv", "--model", "synthetic")
    assert csv.code == 0 and csv.out.splitlines()[0].startswith("model,workload,framework")
    bad = runs("db", "dlbench.db", "--where", "colour=red")
    assert bad.code == 2 and bad.err.count("\n") == 1 and "AXIS one of framework, model" in bad.err


def test_db_speedup_over_a_baseline_device(runs: Dlbench, tmp_path: Path) -> None:
    db = tmp_path / "two-devices.db"
    shutil.copy(runs.db, db)
    # The copy is this test's own: run 4's cell (batch 4) becomes a GPU's, run 3's a CPU's batch 4.
    with sqlite3.connect(db) as con:
        con.execute("UPDATE cells SET device = 'cuda' WHERE run_id = 4")
        con.execute("UPDATE cells SET batch = 4, cell_key = replace(cell_key, 'bs2', 'bs4') "
                    "WHERE run_id = 3")
    r = runs("db", str(db), "--format", "json", "--where", "batch=4")
    assert r.code == 0, r.err
    rows = {x["device"]: x for x in json.loads(r.out)["rows"]}
    assert rows["cuda"]["speedup"] is not None and rows["cpu"]["speedup"] is None
    assert rows["cuda"]["speedup_ci"][0] < rows["cuda"]["speedup"] < rows["cuda"]["speedup_ci"][1]


def test_recommend_best_runner_up_and_constraints(runs: Dlbench) -> None:
    r = runs("recommend", "dlbench.db", "--objective", "throughput", "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["best"]["label"].startswith("synthetic synthetic bs8")
    assert out["runner_up"] is not None and out["comparison"]
    capped = json.loads(runs("recommend", "dlbench.db", "--constraint", "batch <= 2", "--json").out)
    assert " bs4 " not in capped["chosen"]["label"] and " bs8 " not in capped["chosen"]["label"]
    assert any("fails batch <= 2" == e["why"] for e in capped["excluded"])
    latency = runs("recommend", "dlbench.db", "--objective", "latency")
    # bs1's variants lie within a few percent of each other: told apart or not (then said so),
    # the best measured is the one recommended.
    assert latency.code == 0 and re.search(r"^recommended(, not yet decided)?: synthetic synthetic bs1 ",
                                            latency.out, re.M), latency.out
    for args, message in [
        (["--constraint", "p98 < 20ms"], "field \"p98\": allowed: p50, p90, p99"),
        (["--constraint", "memory < 16"], "unit \"\" for memory: allowed: B, KiB"),
        (["--objective", "speed"], "--objective speed: allowed: throughput, latency, energy, cost"),
        (["--objective", "cost"], "give at least one --price"),
        (["--price", "cuda"], "--price 'cuda': write DEVICE=USD_PER_HOUR"),
        (["--constraint", "batch > 100"], "no configuration meets every constraint: fails batch > 100 (7 of 7)"),
        (["--constraint", "batch > 2", "--constraint", "p50 < 1us"],
         "no configuration meets every constraint: fails batch > 2 (5 of 7); fails p50 < 1us (2 of 7)"),
    ]:
        bad = runs("recommend", "dlbench.db", *args)
        assert bad.code == 2, (args, bad.err)
        assert bad.err.count("\n") == 1 and message in bad.err, bad.err


def test_predict_another_batch_with_leave_one_out(runs: Dlbench) -> None:
    r = runs("predict", "dlbench.db", "--batch", "16", "--where", "variant=default", "--json")
    assert r.code == 0, r.err
    p = json.loads(r.out)["predictions"]
    assert len(p) == 1, p
    latency, (lo, hi) = p[0]["latency_ns"], p[0]["latency_pi"]
    assert lo < latency < hi and 0.5 < p[0]["exponent"] < 0.7
    assert 900000 < latency < 1200000  # 200 µs · 16^0.6 = 1056 µs
    loo = p[0]["leave_one_out"]
    assert loo["held_out"] == 4 and loo["median_abs_error"] < 0.1 and 0 <= loo["coverage"] <= 1
    far = runs("predict", "dlbench.db", "--batch", "64", "--where", "variant=default")
    assert far.code == 1 and "refusing to extrapolate" in far.out
    few = runs("predict", "dlbench.db", "--batch", "2", "--where", "variant=slower")
    assert few.code == 1 and "needs 3 measured batch sizes" in few.out
    none = runs("predict", "dlbench.db")
    assert none.code == 2 and "give --batch N" in none.err


CPU_PROBE = {"workers": [{"hello": {"framework": "synthetic"}, "probes": [
    {"ok": True, "device": "cpu", "device_name": "Test CPU", "precision": "fp32",
     "matmul_flops_per_s": 1e11, "copy_bytes_per_s": 1e10}]}]}


def as_device(src: Path, dst: Path, device: str, name: str, speedup: float = 1.0) -> None:
    """A copy of the runs' database whose cells read as measured on `device` named `name` (the
    worker's hello), with FLOPs and parameters a real model would report, and every sample
    `speedup` times faster (a little more for each cell, so that the pairs differ). A GPU cannot run
    here; this is the one thing faked."""
    shutil.copy(src, dst)
    device_id = "cuda:0" if device == "cuda" else "cpu"
    hello = json.dumps({"devices": [{"id": device_id, "kind": device, "name": name}]})
    with sqlite3.connect(dst) as con:
        con.execute("UPDATE cells SET device = ?, flops_per_sample = 1000000, parameters = 1000",
                    (device,))
        con.execute("UPDATE repetitions SET hello_json = ?", (hello,))
        if speedup != 1.0:
            con.execute("UPDATE samples SET wall_ns = CAST(wall_ns / (? * (1 + 0.02 * (SELECT cell_id FROM "
                        "repetitions r WHERE r.repetition_id = samples.repetition_id))) AS INTEGER)",
                        (speedup,))


def test_predict_another_device_by_its_peaks(runs: Dlbench, tmp_path: Path) -> None:
    cpu, gpu = tmp_path / "cpu.db", tmp_path / "gpu.db"
    as_device(runs.db, cpu, "cpu", "Test CPU")
    (tmp_path / "cpu-probe.json").write_text(json.dumps(CPU_PROBE))
    probe = ["--probe", str(tmp_path / "cpu-probe.json")]
    # Nothing measured on the target: the peaks alone, and no interval. fp32 on an H100 SXM: 67
    # TFLOP/s and 3.35 TB/s against 0.1 TFLOP/s and 10 GB/s; intensity 1e6 x batch / 4e3 bytes of
    # weights puts every batch above both ridges (10 and 20 FLOP/B), so the factor is 670.
    r = runs("predict", str(cpu), "--on-device", "H100", *probe, "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["method"] == "device-roofline"
    assert out["checks"] == [{"source_device": "Test CPU", "target_device": "H100", "pairs": 0}]
    rows = out["predictions"]
    assert len(rows) == 7
    for row in rows:
        assert row["throughput_pi"] is None and row["pairs"] == 0
        assert abs(row["throughput_sps"] / row["measured_sps"] / 670 - 1) < 1e-9
        assert row["peak_target"] == "datasheet H100 SXM5 80GB" and row["math_target"] == "fp32"
        assert row["ceiling_sps"] == 67e12 / 1e6
    text = runs("predict", str(cpu), "--on-device", "H100", *probe)
    assert "no configuration was measured on both" in text.out and "by the peaks alone, no interval" in text.out
    # Five configurations measured on the "H100" too (about 100x faster), two not: those two are
    # corrected by the five, with an interval, and the five checked by leave-one-out.
    as_device(runs.db, gpu, "cuda", "NVIDIA H100 80GB HBM3", speedup=100)
    with sqlite3.connect(gpu) as con:
        con.execute("DELETE FROM cells WHERE variant = 'slower' OR batch = 8")
    r = runs("predict", str(cpu), str(gpu), "--on-device", "H100", *probe, "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    check = out["checks"][0]
    assert check["pairs"] == 5
    assert 0.1 < check["uncorrected"]["min_ratio"] <= check["uncorrected"]["max_ratio"] < 0.2  # ~100/670
    assert check["leave_one_out"]["held_out"] == 5 and check["leave_one_out"]["median_abs_error"] < 0.2
    assert 0 <= check["leave_one_out"]["coverage"] <= 1
    text = runs("predict", str(cpu), str(gpu), "--on-device", "H100", *probe).out
    assert re.search(r"5 configuration\(s\) measured on both; there the peaks alone predicted [0-9.]+x to "
                     r"[0-9.]+x what the target measured", text), text
    rows = out["predictions"]
    assert len(rows) == 2 and all(row["pairs"] == 5 for row in rows)
    for row in rows:
        lo, hi = row["throughput_pi"]
        assert lo < row["throughput_sps"] < hi
        assert 80 < row["throughput_sps"] / row["measured_sps"] < 140


def test_predict_another_device_refuses_what_it_cannot_know(runs: Dlbench, tmp_path: Path) -> None:
    cpu = tmp_path / "cpu.db"
    as_device(runs.db, cpu, "cpu", "Test CPU")
    (tmp_path / "cpu-probe.json").write_text(json.dumps(CPU_PROBE))
    (tmp_path / "not-a-probe.json").write_text('{"host": {}}')
    for args, message in [
        (["--on-device", "Z999"], "--on-device Z999: no peaks known for it: not in the datasheet table"),
        (["--on-device", "H100"], "no fp32 peak known for Test CPU (not in the datasheet table"),
        (["--on-device", "H100", "--probe", str(tmp_path / "not-a-probe.json")], "no measured probe in it"),
        (["--on-device", "H100", "--probe", str(tmp_path / "missing.json")], "cannot read it: No such file"),
        (["--on-device", "H100", "--batch", "4"], "give it without --batch and --model"),
        (["--batch", "4", "--probe", str(tmp_path / "cpu-probe.json")], "--probe FILE goes with --on-device"),
    ]:
        bad = runs("predict", str(cpu), *args)
        assert bad.code == 2, (args, bad.err)
        assert bad.err.count("\n") == 1 and message in bad.err, bad.err
        assert "nan" not in bad.err.lower()


def test_predict_another_model_with_leave_one_out(runs: Dlbench, tmp_path: Path) -> None:
    # Three "models" at batch 1 (the three variants of run 1, renamed) at 1, 2 and 4 GFLOPs per
    # sample; a fourth, m3, measured only at batch 2 (run 3), predicted at batch 1.
    db = tmp_path / "models.db"
    shutil.copy(runs.db, db)
    with sqlite3.connect(db) as con:
        for variant, model, flops in [("base", "m1", 1e9), ("slower", "m2", 2e9), ("same", "m4", 4e9)]:
            con.execute("UPDATE cells SET model = ?, variant = 'default', flops_per_sample = ? "
                        "WHERE variant = ? AND run_id = 1", (model, flops, variant))
        con.execute("UPDATE cells SET model = 'm3', flops_per_sample = 3000000000 WHERE run_id = 3")
    r = runs("predict", str(db), "--model", "m3", "--json")
    assert r.code == 0, r.err
    rows = [p for p in json.loads(r.out)["predictions"] if "throughput_sps" in p]
    assert len(rows) == 1 and rows[0]["models"] == 3
    lo, hi = rows[0]["throughput_pi"]
    assert lo < rows[0]["throughput_sps"] < hi
    loo = rows[0]["leave_one_out"]
    assert loo["held_out"] == 3 and 0 <= loo["coverage"] <= 1
    assert "leave-one-out over 3 models" in runs("predict", str(db), "--model", "m3").out
