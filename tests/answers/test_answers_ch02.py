"""Independent checks of chapter 02's exercise answers (collapse_utils.answers.ch02).

Exact values are recomputed from scipy's chi-square distribution (moments and
numerical integration); Monte-Carlo checks use fixed seeds and allow Z = 4
standard errors (a false alarm has probability about 6e-5 per comparison).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from collapse_utils.answers import solve
from collapse_utils.exact import gaussian_mixing

Z = 4.0  # standard errors allowed for Monte-Carlo means


def _log_drift(n: int, k: int) -> float:
    """E[log(chi2_(n-1) / k)] by numerical integration against scipy's density."""
    dist = stats.chi2(n - 1)
    value, _ = integrate.quad(lambda x: math.log(x / k) * dist.pdf(x), 0, np.inf, limit=200)
    return value


@pytest.mark.false_failure_rate(1.3e-4)
def test_var_of_var():
    ans = solve("ex-02-var-of-var")
    assert (ans["rel_se_pct"], ans["t"], ans["n_a"], ans["n_b"]) == (10, 100, 100, 20)
    rel_se = ans["rel_se_pct"] / 100
    for key in ("a", "b"):
        n, t = ans[f"n_{key}"], ans["t"]
        chi = stats.chi2(n - 1)
        m1, m2 = chi.moment(1) / n, chi.moment(2) / n**2
        rel_var = m2**t / m1 ** (2 * t) - 1
        assert math.isclose(ans[f"rel_var_{key}"], rel_var, rel_tol=1e-9)
        assert ans[f"chains_{key}"] == math.ceil(rel_var / rel_se**2)
    # Monte Carlo of what the formula rests on, where the law is light-tailed: the second
    # moment of one step and the product rule for independent steps. (The Monte-Carlo mean
    # of sigma_t^4 / E[sigma_t^2]^2 itself at t = 100 is log-normal-like, the log's standard
    # deviation 2.9: over 300 seeds, drawn exactly, "4 standard errors" failed 12 times, 4%,
    # not the 6e-5 of a normal statistic; the sample mean and its standard error are both
    # set by rare chains.) Each check below is a mean with its exact standard error
    # (moments of chi2_m / m: E[x^k] = prod_(i<k) (m + 2i) / m) and a skewness below 0.01,
    # so 4 standard errors fail with probability 6e-5 each: 1.3e-4 for the two.
    n, t = ans["n_a"], ans["t"]
    m = n - 1

    def moment(k: int) -> float:
        return math.prod((m + 2 * i) / m for i in range(k))

    rng = np.random.default_rng(4)
    x = rng.chisquare(m, (t, 50_000)) / m  # one step's factor sigma_(s+1)^2 / sigma_s^2 (mean 1)
    se = math.sqrt((moment(4) - moment(2) ** 2) / x.size)
    assert abs(np.mean(x**2) - moment(2)) <= Z * se
    assert math.isclose(moment(2) ** t - 1, ans["rel_var_a"], rel_tol=1e-9)  # the formula from the step
    four = np.prod(x[:4] ** 2, axis=0)  # sigma_4^4 over its mean squared: E = moment(2)^4 for independent steps
    se = math.sqrt((moment(4) ** 4 - moment(2) ** 8) / four.size)
    assert abs(four.mean() - moment(2) ** 4) <= Z * se


def test_drift_expansion():
    ans = solve("ex-02-drift-expansion")
    n = ans["n"]
    assert n == 100
    drift = _log_drift(n, n - 1)
    assert math.isclose(ans["drift"], drift, rel_tol=1e-7)
    assert ans["t_exact"] == next(s for s in range(1, 10_000) if s * drift < math.log(0.5))
    assert math.isclose(ans["t_real"], math.log(2) / -drift, rel_tol=1e-7)
    # the expansion: first order -1/(n-1), second order closer to the exact drift
    assert math.isclose(ans["t_first"], (n - 1) * math.log(2))
    assert abs(ans["drift_second"] - drift) < abs(ans["drift_first"] - drift) / 100
    assert abs(ans["drift_second"] - drift) < 1e-8  # the error is O(n^-4)
    assert math.isclose(ans["t_second"], math.log(2) / -ans["drift_second"])


def test_mvn_det():
    ans = solve("ex-02-mvn-det")
    n, d = ans["n"], ans["d"]
    assert (n, d) == (20, 5)
    # Monte Carlo: det Sigma_1 / det Sigma_0 = det W / n^d with W ~ Wishart(n - 1, I_d)
    W = stats.wishart(df=n - 1, scale=np.eye(d)).rvs(size=100_000, random_state=np.random.default_rng(5))
    det = np.linalg.det(W) / n**d
    assert abs(det.mean() - ans["det_ratio"]) <= Z * det.std(ddof=1) / math.sqrt(det.size)
    log_det = np.log(det) / d
    assert abs(log_det.mean() - math.log(ans["typical_per_dim"])) <= Z * log_det.std(ddof=1) / math.sqrt(det.size)
    assert math.isclose(ans["per_dim"], ans["det_ratio"] ** (1 / d))
    assert math.isclose(ans["mean_factor"], stats.chi2(n - 1).mean() / n)
    assert math.isclose(ans["mean_factor_d"], ans["mean_factor"] ** d)
    assert abs(ans["per_dim"] - ans["per_dim_approx"]) < 0.01  # the first-order expansion is close


def test_growing_square():
    """n_t = n t^2: Euler's sine formula, an explicit product of 10^6 factors, chapter 08's accumulate limit,
    and a Monte-Carlo run of accumulation (fixed seed, Z standard errors) for the equality at every generation."""
    ans = solve("ex-02-growing")
    n, horizon = ans["n"], ans["horizon"]
    assert (n, horizon) == (10, 100_000)
    sine = math.sin(math.pi / math.sqrt(n)) / (math.pi / math.sqrt(n))
    j = np.arange(1, 1_000_001, dtype=float)
    log_factors = np.log1p(-1 / (n * j * j))
    explicit = math.exp(log_factors.sum() - 1 / (n * j.size))  # the tail beyond 10^6, to first order
    assert ans["limit"] == pytest.approx(sine, rel=1e-12)
    assert explicit == pytest.approx(sine, rel=1e-10)
    assert ans["acc_limit"] == pytest.approx(gaussian_mixing.accumulate_variance_limit(n), rel=1e-12)
    assert ans["acc_limit"] == pytest.approx(sine, rel=1e-12)
    # the product up to the horizon, and the tail bound: product (1 - 1/(n T)) <= limit <= product
    assert ans["product"] == pytest.approx(math.exp(log_factors[:horizon].sum()), rel=1e-11)
    assert ans["product"] * (1 - ans["tail"]) <= sine <= ans["product"]
    assert ans["tail"] == pytest.approx(1 / (n * horizon))
    # the bounds from sum_t 1/n_t = pi^2 / (6 n)
    assert ans["sum_inv"] == pytest.approx((1 / (n * j * j)).sum() + 1 / (n * j.size), rel=1e-10)
    assert ans["lower"] == pytest.approx(1 - ans["sum_inv"]) and ans["upper"] == pytest.approx(math.exp(-ans["sum_inv"]))
    assert ans["lower"] < sine < ans["upper"]
    # accumulation has the same expectation at every generation, not only in the limit
    t = 12
    _, variances = gaussian_mixing.simulate_accumulate(n, t, 40_000, seed=np.random.default_rng(6))
    mean, se = variances.mean(axis=0), variances.std(axis=0, ddof=1) / math.sqrt(variances.shape[0])
    expected = np.cumprod(np.concatenate([[1.0], 1 - 1 / (n * np.arange(1, t + 1) ** 2)]))
    assert np.all(np.abs(mean[1:] - expected[1:]) <= Z * se[1:])
