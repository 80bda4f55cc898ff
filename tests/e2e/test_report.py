"""dlbench report through the real CLI on real synthetic runs: the files exist, the HTML renders in
headless Chromium with every plot inline as SVG, tables.tex compiles with pdflatex, failed and
unsupported cells show as such, and database strings with <, & and % come out escaped.

gnuplot, chromium and pdflatex are installed by scripts/setup.sh, so their absence fails these tests
rather than skipping them."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import Dlbench, compile_tables, synthetic_experiment

NAME = "a<b&c%d"

VARIANTS = f"""
[variants.base]
options = {{ latency = {{ distribution = "normal", mean_ns = 200000, std_ns = 4000 }} }}
[variants.'{NAME}']
options = {{ latency = {{ distribution = "normal", mean_ns = 260000, std_ns = 4000 }} }}
[variants.crash_load]
options = {{ faults = {{ crash = "load" }} }}
[variants.unsupported]
options = {{ unsupported = "this synthetic cell cannot run here" }}
"""

PLOTS = ["findings", "throughput-0-synthetic", "latency-bs1", "memory", "speedup-heatmap", "startup"]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dlbench, Path]:
    dlbench = Dlbench(tmp_path_factory.mktemp("report"))
    dlbench.write("rep.toml", synthetic_experiment(name="rep", batches="[1, 4]", repetitions=5, options="",
                                                   extra=VARIANTS))
    r = dlbench("run", "rep.toml", "-q")
    assert r.code == 1, r.err  # the crashing cell fails; results are saved
    r = dlbench("report", "latest", "--out", "out", "--png")
    assert r.code == 0, r.err
    assert "report.html" in r.out
    assert re.search(r"written to out in [0-9.]+ s", r.err), r.err
    return dlbench, dlbench.workdir / "out"


def test_report_files_exist(report: tuple[Dlbench, Path]) -> None:
    _, out = report
    for name in ["report.html", "report.md", "tables.tex", "throughput.csv", "latency.csv", "memory.csv",
                 "speedups.csv", "problems.csv"]:
        assert (out / name).stat().st_size > 100, name
    for plot in PLOTS:
        assert (out / "plots" / f"{plot}.svg").read_text().lstrip().startswith("<?xml")
        assert (out / "plots" / f"{plot}.png").read_bytes()[:4] == b"\x89PNG"


def test_html_is_self_contained_with_every_plot_inline(report: tuple[Dlbench, Path]) -> None:
    _, out = report
    html = (out / "report.html").read_text()
    assert "<script" not in html.lower()
    assert not re.search(r"(src|href)=[\"']https?:", html)
    for plot in PLOTS:
        m = re.search(rf'<figure id="plot-{plot}">\s*<svg', html)
        assert m, plot
    assert html.count("<svg") == len(PLOTS)
    assert "does not measure the bytes a model moves" in html  # roofline: a sentence, no empty frame
    assert "efficiency" in html and "achieved TFLOP/s" in html


def test_html_renders_in_headless_chromium(report: tuple[Dlbench, Path]) -> None:
    _, out = report
    chromium = shutil.which("chromium")
    assert chromium, "chromium is not installed; run scripts/setup.sh"
    shot = out / "shot.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", f"--screenshot={shot}", "--window-size=1200,5000",
             (out / "report.html").as_uri()],
            capture_output=True, timeout=120, check=True)
    data = shot.read_bytes()
    assert data[:4] == b"\x89PNG"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1200, 5000)
    assert len(data) > 100_000  # a blank page of this size compresses to a few kB


def test_latex_tables_compile(report: tuple[Dlbench, Path]) -> None:
    _, out = report
    tex = (out / "tables.tex").read_text()
    for table in ["throughput", "latency", "memory", "speedups"]:
        assert f"\\label{{tab:dlbench-{table}}}" in tex
    assert "\\toprule" in tex and "\\bottomrule" in tex
    compile_tables(out)


def test_failed_and_unsupported_cells_shown_with_reasons(report: tuple[Dlbench, Path]) -> None:
    _, out = report
    html = (out / "report.html").read_text()
    section = html[html.index('id="problems"'):html.index('id="plots"')]
    assert re.search(r"crash_load</td><td>failed</td>.*?killed by signal", section)
    assert re.search(r"unsupported</td><td>unsupported</td>.*?this synthetic cell cannot run here", section)
    md = (out / "report.md").read_text()
    assert "| failed |" in md and "| unsupported |" in md


def test_names_with_markup_characters_are_escaped(report: tuple[Dlbench, Path]) -> None:
    _, out = report
    html = (out / "report.html").read_text()
    assert NAME not in html
    assert "a&lt;b&amp;c%d" in html
    tex = (out / "tables.tex").read_text()
    assert NAME not in tex and "a\\textless{}b\\&c\\%d" in tex
    md = (out / "report.md").read_text()
    assert "a&lt;b&amp;c%d" in md
    # the inline plots carry the name as SVG text, escaped by gnuplot
    svg = html[html.index('<figure id="plot-latency-bs1">'):]
    assert "a&lt;b&amp;c%d" in svg[:svg.index("</figure>")]


def test_findings_give_verdict_with_ci(report: tuple[Dlbench, Path]) -> None:
    _, out = report
    md = (out / "report.md").read_text()
    findings = md[md.index("## Findings"):md.index("## Validation")]
    line = next(l for l in findings.splitlines() if l.startswith("- synthetic bs1"))
    m = re.search(r"B/A latency ([0-9.]+) \(95% CI ([0-9.]+) to ([0-9.]+)\)", line)
    assert m, line
    ratio, lo, hi = map(float, m.groups())
    assert 1.2 < lo <= ratio <= hi < 1.4
    assert line.endswith("B slower."), line


def test_report_without_successful_cells_says_so(dlbench: Dlbench) -> None:
    extra = '[variants.unsupported]\noptions = { unsupported = "not here" }\n'
    dlbench.write("none.toml", synthetic_experiment(name="none", batches="[1]", repetitions=1, options="",
                                                    extra=extra))
    dlbench("run", "none.toml", "-q")
    r = dlbench("report", "latest", "--out", "out", "--format", "html")
    assert r.code == 0, r.err
    html = (dlbench.workdir / "out" / "report.html").read_text()
    assert "<svg" not in html
    assert "no cell recorded a throughput" in html and "No cell succeeded" in html
    assert not (dlbench.workdir / "out" / "report.md").exists()


def test_bad_format_and_missing_gnuplot(dlbench: Dlbench) -> None:
    dlbench.write("one.toml", synthetic_experiment(name="one", batches="[1]", repetitions=1))
    assert dlbench("run", "one.toml", "-q").code == 0
    r = dlbench("report", "latest", "--format", "html,pdf")
    assert r.code == 2 and "--format pdf" in r.err
    r = dlbench("report", "latest", env={"PATH": "/nonexistent"})
    assert r.code == 3
    assert r.err.count("\n") == 1 and "gnuplot-nox" in r.err, r.err


def test_csv_guards_formulas_but_not_a_lone_dash(report: tuple[Dlbench, Path]) -> None:
    # The tables' "no value" is a lone "-": a spreadsheet shows it as text, so it is not prefixed.
    _, out = report
    memory = (out / "memory.csv").read_text()
    fields = [f for line in memory.splitlines()[1:] for f in line.split(",")]
    assert "-" in fields
    for name in ["memory.csv", "efficiency.csv", "throughput.csv", "latency.csv"]:
        assert "'-" not in (out / name).read_text(), name


def test_forest_plot_labels_are_readable_beside_the_answer(report: tuple[Dlbench, Path]) -> None:
    # The opening's plot is drawn at about the width it is shown at beside the answer (half of a
    # laptop's window), so its labels keep their size: a 900-pixel drawing shrank them to 8 pixels.
    _, out = report
    svg = (out / "plots" / "findings.svg").read_text()
    width = int(re.search(r'<svg[^>]*\swidth="(\d+)', svg).group(1))
    assert width <= 560
    sizes = [float(x) for x in re.findall(r'font-size="([0-9.]+)"', svg)]
    assert sizes and min(sizes) >= 12
    # Each row's label is drawn inside the plot, above its bar: "B vs A · precision".
    assert re.search(r">[^<]* vs [^<]* · [^<]*<", svg)
