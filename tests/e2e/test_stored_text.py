"""Text from outside that dlbench stores (names from older databases, a worker's log and messages)
never reaches a terminal, a LaTeX or Markdown file, or a spreadsheet as something to obey: control
characters come out as visible escapes, and CSV cells a spreadsheet would run start with a quote.

New names with control characters are refused when the experiment is read (test_input_errors.py);
a database written before that rule is made here by writing the names into it directly."""

from __future__ import annotations

import sqlite3

import pytest

from conftest import Dlbench, compile_tables, synthetic_experiment

ESC = "\x1b"
# A launch prefix that writes an OSC window title and a clear-screen into the worker's log.
NOISY = r"""
[environments.noisy]
prefix = ["sh", "-c", 'printf "\033]0;pwned\007\033[2J" >&2; exec "$@"', "sh"]
[variants.plain]
[variants.'=HYPERLINK("http://x","y")']
[variants.crash]
options = { faults = { crash = "load" } }
"""


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Dlbench:
    dlbench = Dlbench(tmp_path_factory.mktemp("stored"))
    dlbench.write("noisy.toml", synthetic_experiment(name="noisy", batches="[1]", repetitions=2, extra=NOISY))
    r = dlbench("run", "noisy.toml", "-q")
    assert r.code == 1, r.err  # the crash variant fails
    with sqlite3.connect(dlbench.db) as con:  # as a database written before names were checked
        con.execute("UPDATE runs SET experiment = ?", (f"title{ESC}]0;pwned\x07",))
        con.execute("UPDATE cells SET variant = ?, cell_key = cell_key || ? WHERE variant = 'plain'",
                    (f"two\nlines{ESC}[2J", f"{ESC}[31m"))
        con.execute("UPDATE repetitions SET message = message || ? WHERE status = 'failed'",
                    (f" {ESC}[2J\x00cut",))
    return dlbench


def test_list_and_show_print_no_control_character(stored: Dlbench) -> None:
    for args in [("list",), ("show", "latest"), ("show", "latest", "--cell", "0"),
                 ("show", "latest", "--cell", "2")]:
        r = stored(*args)
        assert r.code == 0, r.err
        assert ESC not in r.out and "\x00" not in r.out and "\x07" not in r.out, args
    show = stored("show", "latest").out
    assert "title\\x1b]0;pwned\\x07" in show
    assert "two\\nlines\\x1b[2J" in show  # one row, not two
    assert "\\x1b[2J\\x00cut" in show     # the NUL no longer cuts the message
    log = stored("show", "latest", "--cell", "0").out
    assert "\\x1b]0;pwned\\x07\\x1b[2J" in log  # the worker's log, shown not obeyed


def test_report_documents_hold_no_control_character(stored: Dlbench) -> None:
    r = stored("report", "latest", "--out", "out", "--format", "md,latex,csv,html")
    assert r.code == 0, r.err
    out = stored.workdir / "out"
    for name in ["report.md", "tables.tex", "report.html", "problems.csv", "latency.csv"]:
        text = (out / name).read_text()
        assert ESC not in text and "\x00" not in text, name
    compile_tables(out)  # an ESC in a table made pdflatex fail


def test_csv_cells_a_spreadsheet_would_run_are_neutralised(stored: Dlbench) -> None:
    r = stored("export", "latest", "--format", "csv")
    assert r.code == 0, r.err
    assert "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"" in r.out
    assert ",=HYPERLINK" not in r.out and ESC not in r.out
    problems = (stored.workdir / "out" / "problems.csv").read_text() if (stored.workdir / "out").exists() else ""
    assert ",=" not in problems
