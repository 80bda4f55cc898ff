#!/usr/bin/env python3
"""Writes the SciPy oracle fixtures that src/stats/*_test.cc compare dlbench's statistics with.

Run with the project venv (it pins SciPy): .venv/bin/python tests/stats/make_scipy_fixtures.py
Every dataset comes from a seeded numpy Generator and is rounded to 10 significant digits before
SciPy sees it, so the JSON holds exactly the numbers both sides use. Each case records the SciPy
call that produced its expected values; each file records the SciPy and NumPy versions.

Bootstrap: dlbench's resamples cannot match NumPy's, so the BCa arithmetic is checked the other way
round (docs/methodology.md S3): the theta* arrays are made here (seeded numpy bootstrap,
rounded), and SciPy computes its interval from them via bootstrap(..., n_resamples=0,
bootstrap_result=BootstrapResult(None, theta_star, se)); the C++ test feeds the same theta* to
dlb::stats::BcaInterval.

statsmodels is not installed in the venv, so Holm/Bonferroni use a transcription of statsmodels
stats/multitest.py multipletests (main, read 2026-05) and power a transcription of statsmodels
stats/power.py ttest_power on scipy.stats.nct/t.
"""

import json
import math
import pathlib
import platform
import sys
import warnings

import numpy as np
import scipy
from scipy import stats

OUT = pathlib.Path(__file__).resolve().parent
SEED = 20260501


def r10(values):
    """Round to 10 significant digits: short JSON, and the exact doubles both sides read."""
    return [float(f"{float(v):.10g}") for v in np.asarray(values, dtype=float).ravel()]


def num(v):
    """A JSON number, or None for nan (the C++ side then expects an error)."""
    v = float(v)
    return None if math.isnan(v) else v


def write(name, cases, note):
    header = {
        "generated": "by tests/stats/make_scipy_fixtures.py; do not edit",
        "note": note,
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "seed": SEED,
    }
    lines = ["{"]
    lines += [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in header.items()]
    lines.append('  "cases": [')
    lines.append(",\n".join("    " + json.dumps(c, separators=(",", ":")) for c in cases))
    lines.append("  ]")
    lines.append("}")
    path = OUT / name
    path.write_text("\n".join(lines) + "\n")
    print(f"{path.relative_to(OUT.parent.parent)}: {len(cases)} cases, {path.stat().st_size} bytes")


# --- two-sample: Welch, Mann-Whitney, Cohen's d / Hedges' g --------------------------------------

def two_sample_datasets(rng):
    d = []
    d.append(("hand 3 vs 4", [1, 2, 3], [4, 5, 6, 7]))
    d.append(("9 vs 9 no ties", list(range(9)), [v + 0.5 for v in range(9)]))
    sizes = [(3, 3), (3, 4), (5, 5), (8, 8), (2, 7), (4, 9), (8, 50), (7, 120), (9, 9), (9, 30)]
    for n1, n2 in sizes:
        d.append((f"normal {n1} vs {n2}", rng.normal(10, 2, n1), rng.normal(11, 2, n2)))
    d.append(("one value vs five", [3.5], rng.normal(3, 1, 5)))
    for n1, n2 in [(6, 7), (8, 3), (20, 25), (12, 12)]:
        d.append((f"integer ties {n1} vs {n2}", rng.integers(0, 5, n1), rng.integers(1, 6, n2)))
    same = rng.normal(5, 1, 10)
    d.append(("equal samples", same, same.copy()))
    d.append(("constant vs varied", [2.0] * 6, rng.normal(2.5, 1, 8)))
    a = rng.normal(100, 5, 30)
    a[[3, 17]] = [5000, 12000]
    b = rng.normal(104, 5, 30)
    b[5] = 9000
    d.append(("heavy outliers 30 vs 30", a, b))
    d.append(("lognormal 40 vs 60", rng.lognormal(0, 1, 40), rng.lognormal(0.3, 1, 60)))
    d.append(("lognormal 200 vs 150", rng.lognormal(2, 0.5, 200), rng.lognormal(2.1, 0.6, 150)))
    d.append(("large normal 500 vs 480", rng.normal(50, 10, 500), rng.normal(51, 12, 480)))
    d.append(("large lognormal 500 vs 500", rng.lognormal(1, 0.8, 500), rng.lognormal(1, 0.8, 500)))
    d.append(("far apart 40 vs 40", rng.normal(0, 1, 40), rng.normal(8, 1, 40)))
    d.append(("timing-like ns ties 300 vs 300", rng.integers(1_000_000, 1_000_060, 300),
              rng.integers(1_000_010, 1_000_070, 300)))
    d.append(("large offset 1e9", 1e9 + rng.normal(0, 1, 20), 1e9 + rng.normal(0.5, 1, 25)))
    return d


def cohen(x, y):
    n1, n2 = len(x), len(y)
    sp = math.sqrt(((n1 - 1) * np.var(x, ddof=1) + (n2 - 1) * np.var(y, ddof=1)) / (n1 + n2 - 2))
    d = (np.mean(x) - np.mean(y)) / sp if sp > 0 else float("nan")
    return d, d * (1 - 3 / (4 * (n1 + n2) - 9))


def mwu_method(x, y):
    """Which branch method='auto' took: _mwu_choose_method in scipy/stats/_mannwhitneyu.py."""
    ties = len(np.unique(np.concatenate([x, y]))) < len(x) + len(y)
    if len(x) > 8 and len(y) > 8:
        return "asymptotic"
    return "asymptotic" if ties else "exact"


def welch_ci(w, level):
    """scipy's TtestResult.confidence_interval(level): the interval of mean(x) - mean(y)."""
    if not np.isfinite(w.statistic):
        return None
    ci = w.confidence_interval(confidence_level=level)
    return [num(ci.low), num(ci.high)]


def two_sample_cases(rng):
    cases = []
    for name, x, y in two_sample_datasets(rng):
        x, y = r10(x), r10(y)
        xa, ya = np.array(x), np.array(y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w = stats.ttest_ind(xa, ya, equal_var=False)
            m = stats.mannwhitneyu(xa, ya, alternative="two-sided", method="auto")
            d, g = cohen(xa, ya) if len(x) > 1 and len(y) > 1 else (float("nan"),) * 2
        cases.append({
            "name": name, "x": x, "y": y,
            "welch_call": "scipy.stats.ttest_ind(x, y, equal_var=False)",
            "welch": {"t": num(w.statistic), "p": num(w.pvalue), "df": num(w.df),
                      "ci95": welch_ci(w, 0.95), "ci99": welch_ci(w, 0.99)},
            "mwu_call": "scipy.stats.mannwhitneyu(x, y, alternative='two-sided', method='auto')",
            "mwu": {"u1": num(m.statistic), "p": num(m.pvalue), "method": mwu_method(xa, ya)},
            "cohen_call": "numpy: pooled sd with ddof=1; g = d * (1 - 3 / (4 (n1 + n2) - 9))",
            "cohen": {"d": num(d), "g": num(g)},
        })
    # Forced methods: the exact 9 vs 9 p of S6, and an asymptotic small case.
    forced = [("9 vs 9 exact", list(range(9)), [v + 0.5 for v in range(9)], "exact"),
              ("3 vs 4 asymptotic", [1, 2, 3], [4, 5, 6, 7], "asymptotic"),
              ("6 vs 5 exact", rng.normal(0, 1, 6), rng.normal(1, 1, 5), "exact")]
    for name, x, y, method in forced:
        x, y = r10(x), r10(y)
        m = stats.mannwhitneyu(x, y, alternative="two-sided", method=method)
        cases.append({"name": name, "x": x, "y": y,
                      "mwu_call": "scipy.stats.mannwhitneyu(x, y, alternative='two-sided', "
                                  f"method='{method}')",
                      "mwu": {"u1": num(m.statistic), "p": num(m.pvalue), "method": method}})
    return cases


# --- Shapiro-Wilk ---------------------------------------------------------------------------------

def shapiro_cases(rng):
    data = [("n=3 evenly spaced", [1, 2, 3]), ("n=3 tie at top", [1, 2, 2]),
            ("n=3 skewed", [1, 2, 100]), ("n=3 random", rng.normal(0, 1, 3)),
            ("all equal", [4.0] * 6), ("two values", [1.0, 2.0])]
    for n in [4, 5, 6, 7, 11, 12, 20, 50, 100, 500]:
        data.append((f"normal n={n}", rng.normal(10, 3, n)))
    for n in [4, 9, 30, 300]:
        data.append((f"lognormal n={n}", rng.lognormal(0, 1, n)))
    data.append(("integer ties n=40", rng.integers(0, 6, 40)))
    x = rng.normal(0, 1, 60)
    x[[7, 30]] = [40, -25]
    data.append(("heavy outliers n=60", x))
    data.append(("offset 1e9 n=25", 1e9 + rng.normal(0, 1, 25)))
    data.append(("uniform n=1000", rng.uniform(0, 1, 1000)))
    cases = []
    for name, x in data:
        x = r10(x)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = stats.shapiro(np.array(x))
        cases.append({"name": name, "x": x, "call": "scipy.stats.shapiro(x)",
                      "w": num(res.statistic), "p": num(res.pvalue)})
    return cases


# --- Bootstrap BCa and percentile from given theta* -----------------------------------------------

def ratio_of(statistic):
    if statistic == "medians":
        return lambda a, b, axis=-1: np.median(a, axis=axis) / np.median(b, axis=axis)
    return lambda a, b, axis=-1: np.mean(a, axis=axis) / np.mean(b, axis=axis)


def theta_star_for(rng, a, b, statistic, n_resamples):
    f = ratio_of(statistic)
    ia = rng.integers(0, len(a), (n_resamples, len(a)))
    ib = rng.integers(0, len(b), (n_resamples, len(b)))
    return r10(f(np.asarray(a)[ia], np.asarray(b)[ib], axis=-1))


def scipy_interval(a, b, statistic, theta_star, method, cl):
    from scipy.stats._resampling import BootstrapResult
    theta = np.array(theta_star)
    prior = BootstrapResult(confidence_interval=None, bootstrap_distribution=theta,
                            standard_error=np.std(theta, ddof=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = stats.bootstrap((np.array(a), np.array(b)), ratio_of(statistic), n_resamples=0,
                              bootstrap_result=prior, method=method, confidence_level=cl,
                              vectorized=True, paired=False)
    return num(res.confidence_interval.low), num(res.confidence_interval.high)


def bca_parts(a, b, statistic, theta_star, cl):
    """alpha_1, alpha_2 and a-hat from SciPy's private _bca_interval, to localise a disagreement."""
    from scipy.stats._resampling import _bca_interval
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a1, a2, ahat = _bca_interval((np.array(a), np.array(b)), ratio_of(statistic), axis=-1,
                                     alpha=(1 - cl) / 2, theta_hat_b=np.array(theta_star),
                                     batch=None, xp=np)
    return num(a1), num(a2), num(ahat)


def bootstrap_cases(rng):
    # (name, a, b, statistic, n_resamples, confidence level)
    spec = [("medians normal 10 vs 12", rng.normal(10, 2, 10), rng.normal(12, 2, 12),
             "medians", 999, 0.95),
            ("means lognormal 30 vs 25", rng.lognormal(0, 1, 30), rng.lognormal(0.2, 1, 25),
             "means", 999, 0.95),
            ("medians integer ties 15 vs 15", rng.integers(5, 12, 15), rng.integers(6, 13, 15),
             "medians", 500, 0.95),
            ("means heavy outlier 20 vs 20", np.append(rng.normal(10, 1, 19), 300),
             rng.normal(11, 1, 20), "means", 500, 0.95),
            ("medians large 200 vs 200", rng.lognormal(1, 0.5, 200), rng.lognormal(1.05, 0.5, 200),
             "medians", 1999, 0.95),
            ("means cl 0.9 12 vs 9", rng.normal(5, 1, 12), rng.normal(4, 1, 9), "means", 999, 0.90),
            ("medians n=2 vs 3", rng.normal(3, 1, 2), rng.normal(2, 1, 3), "medians", 300, 0.95),
            ("means cl 0.99 8 vs 8", rng.gamma(2, 2, 8), rng.gamma(2, 2.5, 8), "means", 700, 0.99),
            ("medians degenerate jackknife", [1, 1, 1, 1, 2], [1, 1, 1, 1, 1],
             "medians", 200, 0.95)]
    cases = []
    for name, a, b, statistic, n_resamples, cl in spec:
        a, b = r10(a), r10(b)
        theta = theta_star_for(rng, a, b, statistic, n_resamples)
        bca = scipy_interval(a, b, statistic, theta, "BCa", cl)
        pct = scipy_interval(a, b, statistic, theta, "percentile", cl)
        alpha_lo, alpha_hi, ahat = bca_parts(a, b, statistic, theta, cl)
        cases.append({
            "name": name, "a": a, "b": b, "statistic": statistic, "confidence_level": cl,
            "call": ("scipy.stats.bootstrap((a, b), ratio, n_resamples=0, bootstrap_result="
                     "BootstrapResult(None, theta_star, sd(theta_star)), method=M, "
                     f"confidence_level={cl}, paired=False); "
                     f"ratio = {statistic[:-1]}(a)/{statistic[:-1]}(b)"),
            "bca": {"lo": bca[0], "hi": bca[1], "alpha_lo": alpha_lo, "alpha_hi": alpha_hi,
                    "acceleration": ahat},
            "percentile": {"lo": pct[0], "hi": pct[1]},
            "theta_star": theta,
        })
    return cases


# --- Power and sample size ------------------------------------------------------------------------

def welch_df(n1, n2):
    vn1, vn2 = 1 / n1, 1 / n2
    return (vn1 + vn2) ** 2 / (vn1 ** 2 / (n1 - 1) + vn2 ** 2 / (n2 - 1))


def ttest_power(d, n1, n2, alpha, df_kind):
    """statsmodels stats/power.py ttest_power, two-sided, with TTestIndPower's nobs and df."""
    df = n1 + n2 - 2 if df_kind == "pooled" else welch_df(n1, n2)
    nobs = 1 / (1 / n1 + 1 / n2)
    crit = stats.t.isf(alpha / 2, df)
    return stats.nct.sf(crit, df, d * np.sqrt(nobs)) + stats.nct.cdf(-crit, df, d * np.sqrt(nobs))


def power_cases():
    cases = []
    for d in [0.0, 0.2, 0.5, 0.8, 1.2, -0.5, 2.0]:
        for n1, n2 in [(5, 5), (10, 12), (30, 30), (64, 64), (100, 40), (500, 500)]:
            for alpha in [0.05, 0.01]:
                for df_kind in ["pooled", "welch"]:
                    p = float(ttest_power(d, n1, n2, alpha, df_kind))
                    if math.isnan(p):  # SciPy's nct.cdf gives nan deep in a tail; skip those
                        continue
                    cases.append({"kind": "power", "d": d, "n1": n1, "n2": n2, "alpha": alpha,
                                  "df": df_kind, "power": min(max(p, 0.0), 1.0)})
    for d, alpha, target, df_kind in [(0.5, 0.05, 0.8, "pooled"), (0.5, 0.05, 0.8, "welch"),
                                      (0.8, 0.05, 0.9, "pooled"), (1.5, 0.01, 0.8, "welch"),
                                      (0.3, 0.05, 0.8, "pooled"), (2.5, 0.05, 0.8, "pooled"),
                                      (0.2, 0.05, 0.95, "welch")]:
        n = 2
        while ttest_power(d, n, n, alpha, df_kind) < target:
            n += 1
        cases.append({"kind": "n_per_group", "d": d, "alpha": alpha, "target": target,
                      "df": df_kind, "n": n})
    return cases


# --- Holm and Bonferroni --------------------------------------------------------------------------

def multipletests(pvals, alpha, method):
    """statsmodels stats/multitest.py multipletests for 'holm' and 'bonferroni', transcribed."""
    pvals = np.asarray(pvals, dtype=float)
    sortind = np.argsort(pvals)
    pvals = np.take(pvals, sortind)
    ntests = len(pvals)
    if method == "bonferroni":
        reject = pvals <= alpha / float(ntests)
        corrected = pvals * float(ntests)
    else:
        notreject = pvals > alpha / np.arange(ntests, 0, -1)
        nr_index = np.nonzero(notreject)[0]
        notrejectmin = len(pvals) if nr_index.size == 0 else np.min(nr_index)
        notreject[notrejectmin:] = True
        reject = ~notreject
        corrected = np.maximum.accumulate(pvals * np.arange(ntests, 0, -1))
    corrected[corrected > 1] = 1
    out_p = np.empty_like(corrected)
    out_p[sortind] = corrected
    out_r = np.empty_like(reject)
    out_r[sortind] = reject
    return out_r, out_p


def multitest_cases(rng):
    families = [[0.01, 0.04, 0.03, 0.005], [0.5], [0.0, 1.0, 0.2], [0.02, 0.02, 0.02, 0.5],
                [0.0125, 0.0166666666667, 0.025, 0.05], r10(rng.uniform(0, 0.1, 12)),
                r10(rng.uniform(0, 1, 30)), [0.049, 0.051], [1e-12, 3e-8, 0.04, 0.9, 0.3]]
    cases = []
    for p in families:
        for alpha in [0.05, 0.1]:
            for method in ["holm", "bonferroni"]:
                reject, adj = multipletests(p, alpha, method)
                cases.append({"method": method, "alpha": alpha, "p": p,
                              "call": "statsmodels multipletests(p, "
                                      f"alpha={alpha}, method='{method}')",
                              "adjusted": [float(v) for v in adj],
                              "reject": [bool(v) for v in reject]})
    return cases


# --- Outliers -------------------------------------------------------------------------------------

def outlier_cases(rng):
    data = [("hand", [1, 2, 3, 4, 5, 6, 7, 8, 9, 100]), ("single", [7.0]),
            ("ties with zero mad", [5, 5, 5, 5, 5, 6, 50]),
            ("normal 200", rng.normal(0, 1, 200)), ("lognormal 300", rng.lognormal(0, 1, 300)),
            ("heavy both sides", np.concatenate([rng.normal(10, 1, 50), [-40, 60, 200]])),
            ("integers 101", rng.integers(0, 20, 101))]
    cases = []
    for name, x in data:
        x = r10(x)
        xa = np.array(x)
        q1, med, q3 = np.percentile(xa, [25, 50, 75])
        iqr = q3 - q1
        mad = stats.median_abs_deviation(xa, scale="normal")
        count = lambda cond: int(np.count_nonzero(cond))
        cases.append({
            "name": name, "x": x,
            "call": ("np.percentile(x, [25, 50, 75]); "
                     "scipy.stats.median_abs_deviation(x, scale='normal')"),
            "q1": float(q1), "q3": float(q3), "median": float(med), "mad": float(mad),
            "mild_low": count(xa < q1 - 1.5 * iqr), "mild_high": count(xa > q3 + 1.5 * iqr),
            "severe_low": count(xa < q1 - 3 * iqr), "severe_high": count(xa > q3 + 3 * iqr),
            "mad_low": count(xa < med - 3 * mad) if mad > 0 else None,
            "mad_high": count(xa > med + 3 * mad) if mad > 0 else None,
        })
    return cases


# --- numeric edges: the same statistics at scales where double arithmetic breaks ------------------

def edge_cases(rng):
    """Data at 1e154 (squares overflow), 1e-200 (squares underflow), denormals, 5e306 (sums
    overflow), and 1e300 against 1e-300. SciPy itself returns nan or a wrong t there, so the
    expected values are SciPy's answers for the same data at a scale where it has one: t, df, p, d
    and W do not depend on a common scale. For 1e300 against 1e-300 the small side is 0 at the
    large side's scale, so Welch and Cohen's reference is (x, zeros); Mann-Whitney (ranks) is asked
    of SciPy on the scaled data directly. mean and std are numpy's on the base data, times the scale.
    """
    x = r10(rng.normal(10, 2, 20))
    y = r10(rng.normal(11, 2, 25))
    ints_x = [float(v) for v in rng.integers(1, 1000, 20)]
    ints_y = [float(v) for v in rng.integers(1, 1000, 25)]
    data = [("near 1e154", x, y, 1e154, 1e154), ("near 1e-200", x, y, 1e-200, 1e-200),
            ("near 5e306", x, y, 5e306, 5e306), ("denormals", ints_x, ints_y, 5e-324, 5e-324),
            ("1e300 vs 1e-300", x, y, 1e300, 1e-300)]
    cases = []
    for name, bx, by, sx, sy in data:
        xa, ya = np.array(bx), np.array(by)
        ref_y = ya if sx == sy else np.zeros(len(by))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w = stats.ttest_ind(xa, ref_y, equal_var=False)
            m = stats.mannwhitneyu(xa * sx, ya * sy, alternative="two-sided", method="auto")
            d, g = cohen(xa, ref_y)
            shx, shy = stats.shapiro(xa), stats.shapiro(ya)
        cases.append({
            "name": name, "x": bx, "y": by, "x_scale": sx, "y_scale": sy,
            "welch": {"t": num(w.statistic), "p": num(w.pvalue), "df": num(w.df)},
            "mwu": {"p": num(m.pvalue)},
            "cohen": {"d": num(d)},
            "shapiro_x": {"w": num(shx.statistic), "p": num(shx.pvalue)},
            "shapiro_y": {"w": num(shy.statistic), "p": num(shy.pvalue)},
            "x_mean": float(np.mean(xa)), "x_std": float(np.std(xa, ddof=1)),
        })
    return cases


def main():
    if sys.version_info < (3, 10):
        sys.exit("needs Python >= 3.10")
    rng = np.random.default_rng(SEED)
    write("two_sample.json", two_sample_cases(rng),
          "Welch t, Mann-Whitney U (two-sided), Cohen's d / Hedges' g; null = SciPy gave nan")
    write("shapiro.json", shapiro_cases(rng), "Shapiro-Wilk W and p; null = SciPy gave nan")
    write("bca.json", bootstrap_cases(rng),
          "BCa and percentile intervals of SciPy for given theta*; null = SciPy gave nan")
    write("power.json", power_cases(), "t-test power (statsmodels ttest_power on scipy nct) and n")
    write("multitest.json", multitest_cases(rng),
          "Holm and Bonferroni as statsmodels multipletests")
    write("outliers.json", outlier_cases(rng), "Tukey fences and median -+ 3 MAD (scaled) counts")
    write("edges.json", edge_cases(np.random.default_rng(SEED + 1)),
          "Welch, Mann-Whitney, Cohen's d, Shapiro-Wilk at numeric edges (see edge_cases)")


if __name__ == "__main__":
    main()
