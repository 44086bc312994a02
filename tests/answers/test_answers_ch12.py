"""Independent checks of chapter 12's exercise answers (collapse_utils.answers.ch12)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, special

from collapse_utils.answers import solve


def _zipf(vocab, beta):
    ranks = np.arange(1, vocab + 1, dtype=float)
    return ranks**-beta / (special.zeta(beta, 1) - special.zeta(beta, vocab + 1))


def _expected_error(p, tokens):
    """sum_i p_i (1 - p_i)^T, computed with np.power (not the zipf module's log1p route)."""
    return float(np.sum(p * np.power(1 - p, tokens)))


def test_beta_one():
    ans = solve("ex-12-beta-one")
    assert (ans["beta_heavy"], ans["beta_main"]) == (1.15, 1.5)
    for name in ("heavy", "main"):
        b = ans[f"beta_{name}"]
        # root finding on the power law C T^-(1-1/b): the factor r with C (rT)^-e = C T^-e / 2
        factor = optimize.brentq(lambda r, b=b: (1 - 1 / b) * math.log(r) - math.log(2), 1.0, 1e6)
        assert ans[f"factor_{name}"] == pytest.approx(factor, rel=1e-9)
        assert ans[f"exponent_{name}"] == pytest.approx((b - 1) / b)
    assert ans["factor_main"] == pytest.approx(8.0)


def test_crossover():
    ans = solve("ex-12-crossover")
    assert (ans["vocab"], ans["beta"], ans["k"]) == (100_000, 1.5, 1000)
    p = _zipf(100_000, 1.5)
    floor = p[1000:].sum()
    assert ans["floor"] == pytest.approx(floor, rel=1e-9)
    # the exact clean error crosses the floor at t_cross: above it just before, below just after
    t = ans["t_cross"]
    assert _expected_error(p, t * 0.999) > floor > _expected_error(p, t * 1.001)
    assert ans["k_beta"] == pytest.approx(1000**1.5)
    assert ans["ratio"] == pytest.approx(t / 1000**1.5)


def test_tail_bounds():
    ans = solve("ex-12-tail-bounds")
    assert (ans["beta"], ans["k"]) == (2.0, 100)
    # direct summation over ranks 101..10^7 plus the remaining tail, about 1/10^7 (Euler-Maclaurin)
    i = np.arange(101, 10_000_001, dtype=float)
    tail = (np.sum(i**-2.0) + 1 / 10_000_000 - 0.5 / 1e14) / (math.pi**2 / 6)
    assert ans["tail"] == pytest.approx(tail, rel=1e-9)
    assert ans["zeta"] == pytest.approx(math.pi**2 / 6)
    assert ans["lower"] == pytest.approx(1 / (101 * math.pi**2 / 6))
    assert ans["upper"] == pytest.approx(1 / (100 * math.pi**2 / 6))
    assert ans["lower"] < ans["tail"] < ans["upper"]


def test_fitted_exponent():
    ans = solve("ex-12-fitted-exponent")
    assert (ans["vocab"], ans["beta"], ans["t_low"], ans["t_high"], ans["points"]) == (100_000, 2.0, 1000, 100_000, 9)
    p = _zipf(100_000, 2.0)
    tokens = np.geomspace(1000, 100_000, 9)
    exact = np.array([_expected_error(p, t) for t in tokens])
    assert ans["slope"] == pytest.approx(np.polyfit(np.log(tokens), np.log(exact), 1)[0], rel=1e-6)
    assert ans["theory"] == -0.5
    # Monte-Carlo: the simulated error at the two ends agrees with the exact expectation within
    # 4 standard errors over 200 training sets each
    rng = np.random.default_rng(5)
    for t, e in ((1000, exact[0]), (100_000, exact[-1])):
        errors = np.array([p[rng.multinomial(t, p) == 0].sum() for _ in range(200)])
        assert abs(errors.mean() - e) < 4 * errors.std() / math.sqrt(errors.size)
