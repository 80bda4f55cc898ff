"""Rates with their Wilson score intervals, as the benchmarks print them."""

from __future__ import annotations

import math


def wilson(k: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval of the proportion k/n (E. B. Wilson, JASA 22, 1927)."""
    z = 1.959963984540054
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def rate(k: int, n: int) -> str:
    lo, hi = wilson(k, n)
    return f"{k}/{n} = {100 * k / n:.1f}% (95% CI {100 * lo:.1f}-{100 * hi:.1f}%)"
