"""dlbench selftest --bench prints its figures (benchmarks print, they assert no speed): each
figure's line is there, on a small sample so that it runs in seconds."""

from __future__ import annotations

import re

from conftest import Dlbench


def test_selftest_bench_prints_every_figure(dlbench: Dlbench) -> None:
    r = dlbench("selftest", "--bench", "--samples", "20000", "--cells", "2")
    assert r.code == 0, r.err + r.out
    for line in ("harness overhead per sample", "controller overhead per repetition", "store ingest:",
                 "report on that database"):
        assert line in r.out, r.out
    m = re.search(r"generation traces: 200 requests x 100 tokens = 20000 chunks stored in [\d.]+ s", r.out)
    assert m, r.out
