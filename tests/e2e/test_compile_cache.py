"""The per-cell compile caches of a run: every repetition of a cell points JAX, torch inductor and
Triton at the same cache directory, different cells never share one, the default directory is a
temporary one removed after the run, and a real jax worker fills its cell's cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Dlbench, synthetic_experiment

CACHE_VARS = ("JAX_COMPILATION_CACHE_DIR", "TORCHINDUCTOR_CACHE_DIR", "TRITON_CACHE_DIR")


def recorded_env(dlbench: Dlbench) -> list[tuple[int, int, dict[str, str]]]:
    rows = dlbench.query(
        "SELECT c.cell_idx, r.rep_idx, r.env_json FROM repetitions r JOIN cells c USING (cell_id) "
        "ORDER BY c.cell_idx, r.rep_idx")
    return [(cell, rep, json.loads(env)) for cell, rep, env in rows]


def test_a_cells_repetitions_share_a_cache_and_cells_never_do(dlbench: Dlbench) -> None:
    dlbench.write("e.toml", synthetic_experiment(repetitions=2))
    r = dlbench("run", "e.toml", "--compile-cache", "caches")
    assert r.code == 0, r.err
    root = (dlbench.workdir / "caches").resolve()
    envs = recorded_env(dlbench)
    assert len(envs) == 4
    for cell, _, env in envs:
        assert env["JAX_COMPILATION_CACHE_DIR"] == f"{root}/cell-{cell}/jax"
        assert env["TORCHINDUCTOR_CACHE_DIR"] == f"{root}/cell-{cell}/inductor"
        assert env["TRITON_CACHE_DIR"] == f"{root}/cell-{cell}/triton"
        assert env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] == "0"
    dirs = {env["JAX_COMPILATION_CACHE_DIR"] for _, _, env in envs}
    assert len(dirs) == 2  # one per cell, shared by its two repetitions
    assert root.is_dir()  # a directory the user named is kept


def test_the_default_cache_is_temporary_and_none_turns_it_off(dlbench: Dlbench) -> None:
    dlbench.write("e.toml", synthetic_experiment(batches="[1]", repetitions=1))
    assert dlbench("run", "e.toml").code == 0
    (_, _, env), = recorded_env(dlbench)
    cache = Path(env["JAX_COMPILATION_CACHE_DIR"])
    assert cache.parent.name == "cell-0"
    assert not cache.parent.parent.exists()  # removed when the run ended

    dlbench.db.unlink()
    assert dlbench("run", "e.toml", "--compile-cache", "none").code == 0
    (_, _, env), = recorded_env(dlbench)
    assert not any(v in env for v in CACHE_VARS)


def test_a_variant_that_sets_a_cache_variable_wins(dlbench: Dlbench) -> None:
    extra = '[variants.mine]\nenv = { JAX_COMPILATION_CACHE_DIR = "/nonexistent/mine" }\n'
    dlbench.write("e.toml", synthetic_experiment(batches="[1]", repetitions=1, extra=extra))
    assert dlbench("run", "e.toml", "--compile-cache", "caches").code == 0
    (_, _, env), = recorded_env(dlbench)
    assert env["JAX_COMPILATION_CACHE_DIR"] == "/nonexistent/mine"
    assert env["TORCHINDUCTOR_CACHE_DIR"].endswith("/cell-0/inductor")


@pytest.mark.slow  # 20-30 s on 2 cores; the cache tests above run the same path with the synthetic worker
def test_a_real_jax_worker_fills_its_cells_cache(dlbench: Dlbench) -> None:
    dlbench.write("jax.toml", """
        [experiment]
        name = "jax-cache"
        repetitions = 2
        [matrix]
        framework = ["jax"]
        model = ["resnet18"]
        batch = [1]
        [sampling]
        warmup_min_iterations = 2
        min_iterations = 5
        min_time_s = 0
        max_time_s = 10
        window_min_time_s = 0
        [energy]
        windows = 0
        """)
    r = dlbench("run", "jax.toml", "--compile-cache", "caches")
    assert r.code == 0, r.err + r.out
    cache = (dlbench.workdir / "caches" / "cell-0" / "jax").resolve()
    assert any(cache.iterdir()), "the jax worker wrote nothing into its cell's cache"
    settings = [json.loads(s) for (s,) in dlbench.query("SELECT settings_json FROM repetitions")]
    assert len(settings) == 2
    assert all(s["jax_compilation_cache_dir"] == str(cache) for s in settings)
