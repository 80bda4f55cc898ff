"""dlbench compare through the real CLI on real synthetic workers: repetitions are the unit, a real
difference is found, an absent one is not claimed, runs can be compared, bad flags get one line."""

from __future__ import annotations

import json

from conftest import Dlbench, synthetic_experiment

VARIANTS = """
[variants.base]
options = { latency = { distribution = "normal", mean_ns = 200000, std_ns = 4000 } }
[variants.slower]
options = { latency = { distribution = "normal", mean_ns = 240000, std_ns = 4000 } }
[variants.same]
options = { latency = { distribution = "normal", mean_ns = 200000, std_ns = 4000 } }
"""


def run(dlbench: Dlbench, name: str = "cmp") -> None:
    text = synthetic_experiment(name=name, batches="[1]", repetitions=5, extra=VARIANTS, options="")
    dlbench.write(f"{name}.toml", text)
    r = dlbench("run", f"{name}.toml", "-q")
    assert r.code == 0, r.err


def test_compare_by_variant_over_repetitions(dlbench: Dlbench) -> None:
    run(dlbench)
    r = dlbench("compare", "latest", "--by", "variant", "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["format"] == "dlbench-compare" and out["by"] == "variant"
    by_b = {c["b"]["key"].split("/")[7]: c for c in out["comparisons"]}
    slower, same = by_b["slower"], by_b["same"]
    assert slower["a"]["repetitions"] == 5 and slower["b"]["repetitions"] == 5
    assert 1.15 < slower["ratio_b_over_a"] < 1.25
    assert slower["verdict"] == "B slower"
    assert slower["p_welch_holm"] < 0.05 and slower["p_mann_whitney_holm"] < 0.05
    assert same["verdict"] != "B slower" and same["verdict"] != "B faster"
    assert same["a"]["cv_between_repetitions"] is not None
    text = dlbench("compare", "latest", "--by", "variant")
    assert "B slower" in text.out and "CV between/within A" in text.out


def test_compare_two_runs_and_throughput(dlbench: Dlbench) -> None:
    run(dlbench, "one")
    run(dlbench, "two")
    r = dlbench("compare", "1", "2", "--by", "run", "--json")
    assert r.code == 0, r.err
    comparisons = json.loads(r.out)["comparisons"]
    assert len(comparisons) == 3  # each cell of run 1 against the same cell of run 2
    assert all(c["verdict"] in ("no significant difference",) or c["verdict"].startswith("equivalent")
               for c in comparisons), [c["verdict"] for c in comparisons]
    t = dlbench("compare", "1", "--by", "variant", "--metric", "throughput", "--json")
    assert t.code == 0
    slower = [c for c in json.loads(t.out)["comparisons"] if "slower" in c["b"]["key"]][0]
    assert slower["ratio_b_over_a"] < 0.9
    assert slower["verdict"] == "B lower"


def test_bad_flags(dlbench: Dlbench) -> None:
    run(dlbench)
    r = dlbench("compare", "latest", "--by", "framwork")
    assert r.code == 2 and 'did you mean "framework"?' in r.err
    r = dlbench("compare", "latest", "--metric", "energy")
    assert r.code == 2 and "--metric energy: no two cells" in r.err and "RAPL" in r.err
    r = dlbench("compare", "latest", "--by", "framework")
    assert r.code == 2
    assert r.err.strip() == "dlbench: error: no two successful cells differ only in framework; nothing to compare"
    r = dlbench("compare", "latest", "--by", "run")
    assert r.code == 2 and "give two runs" in r.err
