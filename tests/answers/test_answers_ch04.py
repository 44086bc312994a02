"""Independent checks of the numeric answers of chapter 04's exercises."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from collapse_utils.answers import solve


def squared_l2(f, g):
    """int (f - g)^2 dx by adaptive quadrature over the real line."""
    value, error = integrate.quad(lambda x: (f(x) - g(x)) ** 2, -np.inf, np.inf, epsabs=1e-13, epsrel=1e-11)
    return value


def test_l2_between_two_gaussians_with_the_same_mean():
    a = solve("ex-04-l2-gaussians")
    assert (a["s"], a["lam"]) == (1.0, 0.5)
    f = stats.norm(0, a["s"]).pdf
    g = stats.norm(0, a["lam"] * a["s"]).pdf
    numeric = squared_l2(f, g)
    assert a["l2_squared"] == pytest.approx(numeric, rel=1e-8)
    assert a["l2"] == pytest.approx(np.sqrt(numeric), rel=1e-8)


def test_l2_between_a_two_bump_mixture_and_a_gaussian_of_the_same_variance():
    a = solve("ex-04-l2-mixtures")
    assert a["a"] == 1.0 and a["g_var"] == 2.0
    f = lambda x: 0.5 * stats.norm(-a["a"], 1).pdf(x) + 0.5 * stats.norm(a["a"], 1).pdf(x)  # noqa: E731
    g = stats.norm(0, np.sqrt(a["g_var"])).pdf
    # f and g share mean 0 and variance 1 + a^2
    for density in (f, g):
        second_moment = integrate.quad(lambda x, p=density: x * x * p(x), -np.inf, np.inf)[0]
        assert second_moment == pytest.approx(a["g_var"])
    assert a["ff"] == pytest.approx(integrate.quad(lambda x: f(x) ** 2, -np.inf, np.inf)[0], rel=1e-9)
    assert a["fg"] == pytest.approx(integrate.quad(lambda x: f(x) * g(x), -np.inf, np.inf)[0], rel=1e-9)
    assert a["gg"] == pytest.approx(integrate.quad(lambda x: g(x) ** 2, -np.inf, np.inf)[0], rel=1e-9)
    numeric = squared_l2(f, g)
    assert a["l2_squared"] == pytest.approx(numeric, rel=1e-6)
    assert a["l2"] == pytest.approx(np.sqrt(numeric), rel=1e-6)


def test_points_of_a_rare_component():
    a = solve("ex-04-rare-draws")
    w, n = a["w"], a["n"]
    assert (w, n) == (0.02, 500)
    counts = stats.binom(n, w)
    assert a["expected"] == pytest.approx(counts.mean())
    assert a["p_none"] == pytest.approx(counts.pmf(0), rel=1e-10)
    assert a["p_none_poisson"] == pytest.approx(stats.poisson(n * w).pmf(0), rel=1e-12)
    assert a["p_at_most_2"] == pytest.approx(counts.cdf(2), rel=1e-10)
    # the fewest draws m with P(no point in m draws) <= 1/2, by brute force over m
    assert a["half_n"] == next(m for m in range(1, 1000) if stats.binom(m, w).pmf(0) <= 0.5)
    # Monte Carlo of the mean count: 200,000 repetitions, tolerance 4 standard errors
    draws = np.random.default_rng(4).binomial(n, w, size=200_000)
    se = np.sqrt(n * w * (1 - w) / draws.size)
    assert abs(draws.mean() - a["expected"]) < 4 * se
