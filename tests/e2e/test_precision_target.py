"""Repetitions to a precision target (Stein's two-stage design): the minimum is the first stage; a
comparison whose first-stage scatter says its interval cannot reach the target gets more
repetitions (both its cells), up to the number the scatter asks for or the cap; one that is precise
stops at the minimum. What decides is the scatter, never the verdict."""

from __future__ import annotations

from conftest import Dlbench

SAMPLING = """
[sampling]
warmup_min_iterations = 2
min_iterations = 20
min_time_s = 0.01
max_time_s = 1
window_min_time_s = 0
[energy]
windows = 0
"""


def experiment(name: str, b_latency: str, target: float) -> str:
    return f"""
[experiment]
name = "{name}"
repetitions = {{ min = 3, max = 6, target_ratio_ci = {target} }}
compare_by = "variant"
order = "interleaved"
seed = 11
[matrix]
framework = ["synthetic"]
model = ["synthetic"]
[variants.a]
options = {{ latency = {{ distribution = "constant", value_ns = 200000 }} }}
[variants.b]
options = {{ latency = {b_latency} }}
{SAMPLING}"""


def reps_per_variant(dlbench: Dlbench) -> dict[str, int]:
    rows = dlbench.query(
        "SELECT c.variant, COUNT(*) FROM repetitions r JOIN cells c USING (cell_id) "
        "WHERE c.run_id = (SELECT MAX(run_id) FROM runs) GROUP BY c.variant")
    return dict(rows)


def test_a_precise_pair_stops_at_the_minimum(dlbench: Dlbench) -> None:
    # Twice as slow and quiet: the interval is within ±5% after 3 repetitions a side.
    dlbench.write("far.toml", experiment(
        "far", '{ distribution = "constant", value_ns = 400000 }', 0.05))
    r = dlbench("run", "far.toml")
    assert r.code == 0, r.err
    assert reps_per_variant(dlbench) == {"a": 3, "b": 3}
    assert "more repetitions" not in r.err


def test_an_imprecise_pair_continues_to_the_cap(dlbench: Dlbench) -> None:
    # A near tie whose repetitions scatter by ~30%: ±5% is out of reach within 6 repetitions.
    dlbench.write("near.toml", experiment(
        "near", '{ distribution = "constant", value_ns = 201000, between_sigma = 0.3 }', 0.05))
    r = dlbench("run", "near.toml")
    assert r.code == 0, r.err
    assert reps_per_variant(dlbench) == {"a": 6, "b": 6}
    # Progress says why the run goes on.
    assert "more repetitions: synthetic bs1 fp32: ratio CI ±" in r.err
    assert "after 3 repetitions, target ±5% needs" in r.err and "capped at 6" in r.err
    assert ": repetition 4 of 6" in r.err and ": repetition 6 of 6" in r.err
    plan = dlbench("run", "near.toml", "--dry-run")
    assert "2 cells x 3-6 repetitions = 6-12 worker processes" in plan.out
    assert "variant comparison's ratio interval is wider than ±5%" in plan.out


def test_bad_targets_are_refused_with_the_field(dlbench: Dlbench) -> None:
    cases = {
        "target_ratio_ci = 0": "experiment.repetitions.target_ratio_ci",
        "target_ratio_ci = -0.1": "experiment.repetitions.target_ratio_ci",
        "target_ratio_ci = 0.02, min = 8, max = 4": "experiment.repetitions.max",
        "max = 12": "experiment.repetitions.max",
        "min = 1, max = 4, target_ratio_ci = 0.02": "experiment.repetitions.min",
        "min = 3, maximum = 4": "experiment.repetitions",
    }
    for table, field in cases.items():
        text = experiment("bad", '{ distribution = "constant", value_ns = 1000 }', 0.05)
        text = text.replace("repetitions = { min = 3, max = 6, target_ratio_ci = 0.05 }",
                            f"repetitions = {{ {table if 'min' in table else 'min = 3, ' + table} }}")
        dlbench.write("bad.toml", text)
        r = dlbench("run", "bad.toml", "--dry-run")
        assert r.code == 2, (table, r.err)
        assert field in r.err and "bad.toml:" in r.err, (table, r.err)
        assert len(r.err.strip().splitlines()) == 1, r.err
    dlbench.write("axis.toml", experiment("axis", '{ distribution = "constant", value_ns = 1 }', 0.05)
                  .replace('compare_by = "variant"', 'compare_by = "run"'))
    r = dlbench("run", "axis.toml", "--dry-run")
    assert r.code == 2 and "experiment.compare_by" in r.err and "framework" in r.err


def test_dry_run_estimates_from_phase_costs_then_from_history(dlbench: Dlbench) -> None:
    dlbench.write("far.toml", experiment(
        "far", '{ distribution = "constant", value_ns = 400000 }', 0.05))
    before = dlbench("run", "far.toml", "--dry-run")
    assert before.code == 0
    assert "estimated duration:" in before.out
    assert "from the built-in per-phase costs" in before.out
    assert not dlbench.db.exists()  # a dry run creates nothing
    assert dlbench("run", "far.toml", "-q").code == 0
    after = dlbench("run", "far.toml", "--dry-run")
    assert "from 6 earlier repetitions of 2 of the 2 cells on this host" in after.out, after.out


def test_a_budget_stops_precision_rounds_and_refuses_when_too_small(dlbench: Dlbench) -> None:
    text = experiment(
        "near", '{ distribution = "constant", value_ns = 201000, between_sigma = 0.3 }', 0.05)
    text = text.replace("max = 6", "max = 12").replace("min_time_s = 0.01", "min_time_s = 1") \
               .replace("max_time_s = 1", "max_time_s = 1")
    dlbench.write("near.toml", text)
    small = dlbench("run", "near.toml", "--budget", "3s")
    assert small.code == 2
    assert "--budget 3s: too small for this experiment" in small.err and "needs about" in small.err
    assert len(small.err.strip().splitlines()) == 1
    assert not dlbench.db.exists()
    bad = dlbench("run", "near.toml", "--budget", "soon")
    assert bad.code == 2 and "expected a duration such as 8m" in bad.err
    plan = dlbench("run", "near.toml", "--dry-run", "--budget", "20s")
    assert "budget 20s: to fit, dlbench gives up:" in plan.out
    assert "repetitions above the minimum (3 of at most 12)" in plan.out
    r = dlbench("run", "near.toml", "--budget", "20s")
    assert r.code == 0, r.err
    assert "dlbench: budget: another round of 2 repetitions would not end within 20" in r.err
    reps = reps_per_variant(dlbench)
    assert 3 <= reps["a"] < 12 and reps["a"] == reps["b"], reps
