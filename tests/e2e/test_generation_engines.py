"""experiments/generation-quick.toml filtered to each real engine (torch eager, jax jit) at one
sequence: the cell runs all its repetitions, every generate's trace is stored (one chunk per new
token, the prefill's first), the traces agree with the timed samples, and the run's summary prints
the generation table derived from them."""

from __future__ import annotations

import pytest

from conftest import ROOT, Dlbench

QUICK = str(ROOT / "experiments" / "generation-quick.toml")


# The quick tier runs jax here; torch generates in the quick tier through test_generation_validate.
@pytest.mark.parametrize("engine", [pytest.param("torch", marks=pytest.mark.slow), "jax"])
def test_generation_quick_per_engine(dlbench: Dlbench, engine: str) -> None:
    r = dlbench("run", QUICK, "--filter", f"framework={engine}", "--filter", "batch=1")
    assert r.code == 0, r.err + r.out
    assert "TTFT p50" in r.out, r.out
    (status, reps_ok, p50_ns) = dlbench.query(
        "SELECT status, repetitions_ok, p50_ns FROM cells")[0]
    assert (status, reps_ok) == ("ok", 3)
    # 16 new tokens per generate: the prefill's, then 15 decode steps, one chunk each
    chunks = dlbench.query(
        "SELECT COUNT(*), SUM(tokens), MIN(arrival_ns), MAX(arrival_ns) FROM token_chunks "
        "GROUP BY repetition_id, request_idx")
    assert chunks and {(n, t) for n, t, _, _ in chunks} == {(16, 16)}
    # a trace lies inside its call: the last token arrives before the median generate ends, give
    # or take the spread of the calls
    last = sorted(mx for _, _, _, mx in chunks)[len(chunks) // 2]
    assert 0 < last <= 1.5 * p50_ns
    (samples,) = dlbench.query("SELECT COUNT(*) FROM samples")[0]
    (requests,) = dlbench.query("SELECT COUNT(*) FROM requests")[0]
    assert samples == requests
