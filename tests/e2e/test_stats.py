"""dlbench stats through the real CLI: descriptive statistics per file, pairwise comparisons, JSON,
and one error line for each kind of degenerate input (METHODOLOGY §3 S11)."""

from __future__ import annotations

import json
import random

import pytest

from conftest import Dlbench


def write(dlbench: Dlbench, name: str, values: list[float]) -> str:
    dlbench.write(name, "\n".join(repr(v) for v in values) + "\n")
    return name


def test_two_files_compare(dlbench: Dlbench) -> None:
    rng = random.Random(7)
    a = write(dlbench, "a.txt", [rng.gauss(100, 2) for _ in range(100)])
    b = write(dlbench, "b.txt", [rng.gauss(110, 2) for _ in range(100)])
    r = dlbench("stats", a, b, "--json", "--resamples", "2000")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["format"] == "dlbench-stats"
    assert [s["n"] for s in out["samples"]] == [100, 100]
    assert out["samples"][0]["p90"] is not None and out["samples"][0]["p99"] is None  # n < 662
    (c,) = out["comparisons"]
    assert 1.08 < c["ratio_of_medians"] < 1.12
    assert c["ratio_ci"][0] < c["ratio_of_medians"] < c["ratio_ci"][1]
    assert c["verdict"] == "B higher"
    assert c["mann_whitney"]["method"] == "asymptotic"
    text = dlbench("stats", a, b, "--resamples", "2000")
    assert text.code == 0 and "B higher" in text.out and "n<662" in text.out


DEGENERATE = {
    "empty": ("", "empty.txt: no numbers"),
    "one": ("5\n", "one.txt: 1 value; statistics need at least 2"),
    "text": ("1\n2\nabc\n", 'text.txt:3: "abc" is not a number'),
    "nan": ("1 2 nan\n", 'nan.txt:1: "nan" is not a finite number'),
    "inf": ("1,inf\n", 'inf.txt:1: "inf" is not a finite number'),
    "constant": ("3\n3\n3\n", "constant.txt: all 3 values are equal (3); zero variance, no test applies"),
}


@pytest.mark.parametrize("case", sorted(DEGENERATE))
def test_degenerate_input(dlbench: Dlbench, case: str) -> None:
    text, message = DEGENERATE[case]
    dlbench.write(f"{case}.txt", text)
    r = dlbench("stats", f"{case}.txt")
    assert r.code == 2
    assert r.err.strip() == f"dlbench: error: {message}"
    assert "nan" not in r.out.lower()


def test_missing_file(dlbench: Dlbench) -> None:
    r = dlbench("stats", "none.txt")
    assert r.code == 2
    assert r.err.strip() == "dlbench: error: cannot read none.txt: No such file or directory"
