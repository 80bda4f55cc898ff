"""dlbench stats through the real CLI: descriptive statistics per file, pairwise comparisons, JSON,
and one error line for each kind of degenerate input (docs/methodology.md S11)."""

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


# Values at the edges of double arithmetic: squares overflow near 1e154 and underflow near 1e-200
# and for denormals, sums overflow near 1e308, and 1e300 against 1e-300 has no ratio. None may
# abort, print nan, or get the direction wrong.
EDGES = {
    "big": (1e154, 1e154), "tiny": (1e-200, 1e-200), "denormal": (5e-324, 5e-324),
    "near max": (5e305, 5e305), "huge vs small": (1e300, 1e-300),
}


@pytest.mark.parametrize("case", sorted(EDGES))
def test_numeric_edges(dlbench: Dlbench, case: str) -> None:
    scale_a, scale_b = EDGES[case]
    rng = random.Random(3)
    a = write(dlbench, "a.txt", [rng.randint(100, 200) * scale_a for _ in range(30)])
    b = write(dlbench, "b.txt", [rng.randint(100, 200) * scale_b for _ in range(30)])
    r = dlbench("stats", a, b, "--json", "--resamples", "1000")
    assert r.code == 0, r.err
    assert "nan" not in r.out.lower() and "inf" not in r.out.lower()
    out = json.loads(r.out)
    for s in out["samples"]:
        assert s["shapiro_wilk"] is not None and 0 <= s["shapiro_wilk"]["p"] <= 1
        assert s["std"] > 0
    (c,) = out["comparisons"]
    assert c["welch"] is not None and c["mann_whitney"] is not None
    if scale_a == scale_b:
        assert c["ratio_ci"][0] <= 1 <= c["ratio_ci"][1], c
    else:
        # No ratio fits a double: B - A instead, and B is lower.
        assert c["ratio_of_medians"] is None and c["difference_of_medians"] < 0
        assert c["verdict"] == "B lower"
    text = dlbench("stats", a, b, "--resamples", "1000")
    assert text.code == 0 and "nan" not in text.out.lower()


def test_negative_against_positive_is_a_difference_in_the_right_direction(dlbench: Dlbench) -> None:
    rng = random.Random(5)
    a = write(dlbench, "neg.txt", [-6 - rng.random() for _ in range(40)])
    b = write(dlbench, "pos.txt", [7 + rng.random() for _ in range(40)])
    z = write(dlbench, "zero.txt", [0.0] * 20 + [rng.random() for _ in range(20)])
    r = dlbench("stats", a, b, z, "--json", "--resamples", "1000")
    assert r.code == 0, r.err
    by = {(c["a"], c["b"]): c for c in json.loads(r.out)["comparisons"]}
    c = by[("neg.txt", "pos.txt")]
    assert c["ratio_of_medians"] is None and c["ratio_ci"] is None
    assert 13 < c["difference_ci"][0] < c["difference_of_medians"] < c["difference_ci"][1] < 15
    assert c["verdict"] == "B higher"
    assert any("B - A is compared instead" in n for n in c["notes"])
    assert by[("neg.txt", "zero.txt")]["verdict"] == "B higher"
    assert by[("pos.txt", "zero.txt")]["verdict"] == "B lower"
    text = dlbench("stats", a, b, "--resamples", "1000")
    assert "B-A 1" in text.out and "B higher" in text.out


def test_large_inputs_show_progress_and_use_analytic_intervals(dlbench: Dlbench) -> None:
    rng = random.Random(9)
    a = write(dlbench, "a.txt", [rng.lognormvariate(0, 0.3) for _ in range(60_000)])
    b = write(dlbench, "b.txt", [rng.lognormvariate(0.1, 0.3) for _ in range(60_000)])
    r = dlbench("stats", a, b, "--json")
    assert r.code == 0, r.err
    assert "dlbench: stats: read 2 files: 120000 values" in r.err
    assert "dlbench: stats: done" in r.err
    (c,) = json.loads(r.out)["comparisons"]
    assert c["ci_method"] == "Price-Bonett"
    assert c["ratio_ci"][0] < c["ratio_of_medians"] < c["ratio_ci"][1]
    assert dlbench("stats", a, b, "--json", "-q").err == ""


def test_a_directory_or_an_endless_file_is_refused(dlbench: Dlbench) -> None:
    (dlbench.workdir / "dir.txt").mkdir()
    r = dlbench("stats", "dir.txt")
    assert (r.code, r.err.strip()) == (2, "dlbench: error: dir.txt: is a directory; expected a file")
    r = dlbench("stats", "/dev/zero")
    assert r.code == 2
    assert r.err.strip() == ("dlbench: error: /dev/zero: larger than the limit of 256 MiB for this "
                             "kind of file")
