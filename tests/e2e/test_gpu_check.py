"""scripts/gpu-check refuses clearly where it cannot run: bad arguments exit 2, a machine without an
NVIDIA GPU exits 3, each with one line, and nothing is measured or written."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import ROOT


def gpu_check(*args: str, path: str | None = None) -> subprocess.CompletedProcess:
    env = None
    if path is not None:
        import os
        env = {**os.environ, "PATH": path}
    return subprocess.run([str(ROOT / "scripts" / "gpu-check"), *args], capture_output=True,
                          text=True, timeout=60, env=env)


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    for args, text in [((), "usage: scripts/gpu-check OUTDIR"),
                       ((str(tmp_path / "o"), "--minutes", "0.5"), "at least 1 minute"),
                       ((str(tmp_path / "o"), "--minutes", "soon"), "expected a positive number"),
                       ((str(tmp_path / "o"), "--frobnicate"), "unknown option --frobnicate")]:
        r = gpu_check(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert text in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "o").exists()


def test_no_gpu_exits_3_and_writes_nothing(tmp_path: Path) -> None:
    # A PATH without nvidia-smi: what a machine without an NVIDIA driver looks like.
    r = gpu_check(str(tmp_path / "o"), path="/usr/bin:/bin")
    assert r.returncode == 3, r.stderr
    assert "no NVIDIA GPU here" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()
