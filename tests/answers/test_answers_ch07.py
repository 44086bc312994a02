"""Independent checks of chapter 07's exercise answers (collapse_utils.answers.ch07)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from collapse_utils.answers import solve


def _recursion_fixed_point(n, lam, divisor, generations=3000):
    """Theorem thm-07-mix's equations written out and iterated to convergence (fresh data, sigma0^2 = 1)."""
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
    ans = solve("ex-07-unbiased")
    assert (ans["n"], ans["lam"]) == (100, 0.1)
    assert ans["s_unbiased"] == pytest.approx(_recursion_fixed_point(100, 0.1, 99), rel=1e-10)
    assert ans["s_mle"] == pytest.approx(_recursion_fixed_point(100, 0.1, 100), rel=1e-10)
    # Monte-Carlo: 150 generations (the map contracts by about 0.9 per generation), 20000 chains;
    # tolerance 4 standard errors of the mean over chains
    var = _simulate_mix_unbiased(100, 0.1, 150, 20000, np.random.default_rng(7))
    assert abs(var.mean() - ans["s_unbiased"]) < 4 * var.std() / math.sqrt(var.size)
    assert ans["s_unbiased"] > 1 > ans["s_mle"]


def test_accumulate_n():
    ans = solve("ex-07-accumulate-n")
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


def test_detector():
    ans = solve("ex-07-detector")
    assert (ans["s"], ans["r"], ans["f"]) == (0.6, 0.8, 0.1)
    # Monte-Carlo over 10^6 documents; tolerances 4 standard errors of a proportion
    rng = np.random.default_rng(11)
    docs = 1_000_000
    synthetic = rng.random(docs) < 0.6
    flagged = rng.random(docs) < np.where(synthetic, 0.8, 0.1)
    kept = ~flagged
    share_kept = kept.mean()
    human_share = (~synthetic[kept]).mean()
    assert abs(share_kept - ans["kept"]) < 4 * math.sqrt(ans["kept"] * (1 - ans["kept"]) / docs)
    assert abs(human_share - ans["lam_eff"]) < 4 * math.sqrt(ans["lam_eff"] * (1 - ans["lam_eff"]) / kept.sum())
    assert ans["human_kept"] + ans["synthetic_kept"] == pytest.approx(ans["kept"])


def test_enough_real():
    ans = solve("ex-07-enough-real")
    assert (ans["lam"], ans["tol"]) == (0.1, 0.01)
    n = ans["n_min"]
    assert n % 10 == 0 and ans["k_min"] == n // 10
    assert 1 - _recursion_fixed_point(n, 0.1, n) <= 0.01 < 1 - _recursion_fixed_point(n - 10, 0.1, n - 10)
    assert ans["deficit_at_n_min"] == pytest.approx(1 - _recursion_fixed_point(n, 0.1, n), rel=1e-8)
    # the approximation 1/((2 - lam)(lam n + 1 - lam)) <= tol, solved by brute force over n
    approx = next(m for m in range(2, 10_000) if 1 / (1.9 * (0.1 * m + 0.9)) <= 0.01)
    assert ans["n_approx"] == approx
