"""End-to-end tests: the real `dlbench` binary, real worker processes, a temporary directory each.

DLBENCH_BIN points at the binary (default: build/dlbench in the source tree). The workers run with
the Python that dlbench itself would choose (the source tree's .venv), so these tests exercise the
same path a user's `dlbench run` takes.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("DLBENCH_BIN", ROOT / "build" / "dlbench"))


@dataclass
class Result:
    code: int
    out: str
    err: str


class Dlbench:
    """Runs the CLI in a temporary directory; experiment files are written there too."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.db = workdir / "dlbench.db"

    def write(self, name: str, text: str) -> Path:
        path = self.workdir / name
        path.write_text(textwrap.dedent(text))
        return path

    def __call__(self, *args: str, timeout: float = 600, env: dict[str, str] | None = None) -> Result:
        proc = subprocess.run(
            [str(BIN), *map(str, args)],
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def query(self, sql: str, *params: object) -> list[tuple]:
        with sqlite3.connect(self.db) as con:
            return con.execute(sql, params).fetchall()


@pytest.fixture
def dlbench(tmp_path: Path) -> Dlbench:
    assert BIN.exists(), f"{BIN} not built; run scripts/test"
    return Dlbench(tmp_path)


def compile_tables(out: Path) -> None:
    """Compiles out/tables.tex with pdflatex inside a minimal document; fails the test if it does not."""
    pdflatex = shutil.which("pdflatex")
    assert pdflatex, "pdflatex is not installed; run scripts/setup.sh"
    (out / "doc.tex").write_text(
        "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage[margin=1cm,landscape]{geometry}\n"
        "\\usepackage{booktabs}\n\\usepackage{graphicx}\n\\usepackage{textcomp}\n\\begin{document}\n\\input{tables.tex}\n\\end{document}\n")
    r = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=out,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-3000:]
    assert (out / "doc.pdf").read_bytes()[:4] == b"%PDF"


def synthetic_experiment(
    name: str = "e2e",
    batches: str = "[1, 2]",
    repetitions: int = 2,
    options: str = 'latency = { distribution = "constant", value_ns = 200000 }',
    extra: str = "",
    sampling: str = "min_iterations = 20\nmin_time_s = 0.02\nmax_time_s = 2\nwindow_min_time_s = 0.02",
) -> str:
    """A small synthetic experiment; extra is appended verbatim (variants, environments)."""
    return (
        f'[experiment]\nname = "{name}"\nrepetitions = {repetitions}\ntimeout_s = 20\n'
        f'[matrix]\nframework = "synthetic"\nmodel = "synthetic"\nbatch = {batches}\n'
        f"[sampling]\n{sampling}\n[options]\n{options}\n{extra}"
    )
