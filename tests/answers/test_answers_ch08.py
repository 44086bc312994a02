"""Independent checks of chapter 08's exercise answers (collapse_utils.answers.ch08).

Exact values are recomputed by other routes (the recursion written out, scipy's
chi-square functions, iteration instead of a linear solve); Monte-Carlo checks
use fixed seeds and allow 4 standard errors (a false alarm has probability
about 6e-5 per comparison).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from collapse_utils.answers import solve


def _recursion_fixed_point(n, lam, divisor, generations=3000):
    """Theorem thm-08-mix's equations written out and iterated to convergence (fresh data, sigma0^2 = 1)."""
    a = 1 - lam
    s, q = (n - 1) / divisor, 1 / n
    for _ in range(generations):
        inner = lam + a * s
        s, q = ((n - 1) * inner + n * a * lam * q) / divisor, a * a * q + inner / n
    return s


def _simulate_mix_unbiased(n, lam, generations, chains, rng):
    """The Gaussian refit under mix, from sufficient statistics, unbiased estimator (sigma0^2 = 1)."""
    k = round(lam * n)
    m = n - k
    mu = rng.standard_normal(chains) / math.sqrt(n)
    var = rng.chisquare(n - 1, chains) / (n - 1)
    for _ in range(generations - 1):
        real_mean = rng.standard_normal(chains) / math.sqrt(k)
        real_ss = rng.chisquare(k - 1, chains)
        syn_mean = mu + np.sqrt(var / m) * rng.standard_normal(chains)
        syn_ss = var * rng.chisquare(m - 1, chains)
        mu = (k * real_mean + m * syn_mean) / n
        var = (real_ss + syn_ss + k * m / n * (real_mean - syn_mean) ** 2) / (n - 1)
    return var


def test_unbiased_fixed_point():
    ans = solve("ex-08-unbiased")
    assert (ans["n"], ans["lam"]) == (100, 0.1)
    assert ans["s_unbiased"] == pytest.approx(_recursion_fixed_point(100, 0.1, 99), rel=1e-10)
    assert ans["s_mle"] == pytest.approx(_recursion_fixed_point(100, 0.1, 100), rel=1e-10)
    # Monte-Carlo: 150 generations (the map contracts by about 0.9 per generation), 20000 chains;
    # tolerance 4 standard errors of the mean over chains
    var = _simulate_mix_unbiased(100, 0.1, 150, 20000, np.random.default_rng(7))
    assert abs(var.mean() - ans["s_unbiased"]) < 4 * var.std() / math.sqrt(var.size)
    assert ans["s_unbiased"] > 1 > ans["s_mle"]


def test_accumulate_n():
    ans = solve("ex-08-accumulate-n")
    assert ans["tol"] == 0.01
    assert ans["n_approx"] == math.ceil(math.pi**2 / 0.06)

    def limit(n):  # the product prod_j (1 - 1/(n j^2)), 10^6 factors, with the tail's first-order correction
        j = np.arange(1, 1_000_001, dtype=float)
        return float(np.exp(np.log1p(-1 / (n * j * j)).sum() - 1 / (n * 1_000_000)))

    for n in (ans["n_exact"] - 1, ans["n_exact"]):
        assert limit(n) == pytest.approx(np.sinc(1 / math.sqrt(n)), rel=1e-9)
    assert limit(ans["n_exact"]) >= 0.99 > limit(ans["n_exact"] - 1)
    assert ans["limit_exact"] == pytest.approx(limit(ans["n_exact"]), rel=1e-9)
    assert ans["limit_below"] == pytest.approx(limit(ans["n_exact"] - 1), rel=1e-9)


def test_pathwise_floor():
    ans = solve("ex-08-pathwise")
    n, lam, k, eps = ans["n"], ans["lam"], ans["k"], ans["eps"]
    assert (n, lam, k, eps, ans["t_a"], ans["t_b"]) == (200, 0.05, 10, 0.05, 200, 1000)
    assert ans["threshold"] == pytest.approx(k * eps / lam)
    # chi-square cdf as a regularised incomplete gamma function
    assert ans["bound"] == pytest.approx(special.gammainc((k - 1) / 2, ans["threshold"] / 2), rel=1e-12)
    assert special.gammainc((k - 1) / 2, k * ans["eps_at_risk"] / lam / 2) == pytest.approx(ans["risk"], rel=1e-9)
    assert ans["s_fixed"] == pytest.approx(_recursion_fixed_point(n, lam, n), rel=1e-10)
    # Monte Carlo of the loop from its points (sigma0^2 = 1): the floor sigma_t^2 >= lam v_t on every path,
    # and P(sigma_t^2 < eps) <= P(lam v_t < eps) = bound; tolerance 4 standard errors of a proportion
    rng = np.random.default_rng(12)
    chains, generations = 4000, 40
    model_mu, model_var = np.zeros(chains), np.ones(chains)
    below_floor, below_eps = np.zeros(generations), np.zeros(generations)
    for t in range(1, generations + 1):
        real = rng.standard_normal((chains, k if t > 1 else n))
        points = real
        if t > 1:
            synthetic = model_mu[:, None] + np.sqrt(model_var)[:, None] * rng.standard_normal((chains, n - k))
            points = np.concatenate([real, synthetic], axis=1)
        model_mu, model_var = points.mean(axis=1), points.var(axis=1)
        if t > 1:
            floor = lam * real.var(axis=1)
            assert np.all(model_var >= floor * (1 - 1e-12))
            below_floor[t - 1], below_eps[t - 1] = (floor < eps).mean(), (model_var < eps).mean()
    se = math.sqrt(ans["bound"] * (1 - ans["bound"]) / chains)
    pooled = below_floor[1:].mean()  # (generations - 1) * chains independent draws of v_t
    assert abs(pooled - ans["bound"]) < 4 * se / math.sqrt(generations - 1)
    assert np.all(below_eps[1:] <= ans["bound"] + 4 * se)
    # replace: log sigma_t^2 is a sum of t independent log(chi2_(n-1) / n); Monte Carlo of both horizons
    chains = 40_000
    log_var = np.zeros(chains)
    for t in range(1, ans["t_b"] + 1):
        log_var += np.log(rng.chisquare(n - 1, chains) / n)
        if t in (ans["t_a"], ans["t_b"]):
            p = ans["replace_a" if t == ans["t_a"] else "replace_b"]
            share = (log_var < math.log(eps)).mean()
            assert abs(share - p) < 4 * math.sqrt(p * (1 - p) / chains)
    assert ans["replace_a"] < ans["bound"] < ans["replace_b"]
