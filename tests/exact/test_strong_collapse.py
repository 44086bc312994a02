"""Strong model collapse: the exact mixed-data error against independent Monte Carlo (chapter 13).

The independent route fits least squares on explicit rows (numpy's lstsq on
Gaussian inputs and labels), not on the Wishart sufficient statistics of
``simulate_mixed``. Tolerances: 4 standard errors of the Monte Carlo mean
(a false failure has probability about 6e-5 per comparison under a normal
approximation); deterministic identities to 1e-12.
"""

from __future__ import annotations

import numpy as np
import pytest

from collapse_utils.exact import strong_collapse as sc


def rows_error(n, dim, share, noise, c2, chains, seed, generator_n=None):
    """||w_hat - w*||^2 of least squares on explicit rows, each synthetic with probability share."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((chains, n, dim))
    w_star = rng.standard_normal(dim)
    if generator_n is None:
        delta = rng.standard_normal((chains, dim))
        delta *= np.sqrt(c2) / np.linalg.norm(delta, axis=1, keepdims=True)
    else:  # a generator fitted by least squares on its own real rows
        Xg = rng.standard_normal((chains, generator_n, dim))
        yg = Xg @ w_star + noise * rng.standard_normal((chains, generator_n))
        w_g = np.linalg.solve(np.swapaxes(Xg, 1, 2) @ Xg, (np.swapaxes(Xg, 1, 2) @ yg[..., None]))[..., 0]
        delta = w_g - w_star
    synthetic = rng.random((chains, n)) < share
    y = X @ w_star + synthetic * np.einsum("cni,ci->cn", X, delta) + noise * rng.standard_normal((chains, n))
    w_hat = np.linalg.solve(np.swapaxes(X, 1, 2) @ X, (np.swapaxes(X, 1, 2) @ y[..., None]))[..., 0]
    return np.sum((w_hat - w_star) ** 2, axis=1)


def assert_within(values, exact, k=4.0):
    se = values.std(ddof=1) / np.sqrt(len(values))
    assert abs(values.mean() - exact) < k * se, (values.mean(), exact, se)


@pytest.mark.parametrize(("n", "dim", "share"), [(12, 3, 0.3), (25, 5, 0.05), (20, 2, 0.9), (15, 4, 0.0)])
def test_exact_error_matches_explicit_rows(n, dim, share):
    assert_within(rows_error(n, dim, share, 0.7, 1.5, 40_000, seed=[n, dim]), sc.mixed_error(n, dim, share, 0.7, 1.5))


def test_refitted_generator_matches_explicit_rows():
    n, dim, share = 16, 3, 0.6
    values = rows_error(n, dim, share, 1.0, None, 40_000, seed=11, generator_n=n)
    assert_within(values, sc.mixed_error(n, dim, share, 1.0, generator_n=n))


@pytest.mark.parametrize(("n", "share"), [(14, 0.5), (300, 0.01), (10**6, 0.001), (10**5, 0.5)])
def test_sufficient_statistic_simulator_matches_exact(n, share):
    values = sc.simulate_mixed(n, 5, share, 1.0, 0.8, 20_000, seed=n)
    assert_within(values, sc.mixed_error(n, 5, share, 1.0, 0.8))
    refit = sc.simulate_mixed(n, 5, share, 1.0, chains=20_000, generator_n=40, seed=n + 1)
    assert_within(refit, sc.mixed_error(n, 5, share, 1.0, generator_n=40))


def test_wishart_draws_have_the_right_mean_and_spread():
    # E[G] = df I and Var(G_11) = 2 df, for df below and above the dimension (4 standard errors)
    rng = np.random.default_rng(3)
    for df in (2, 9):
        g = sc._wishart(np.full(40_000, df), 4, rng)
        assert np.all(np.abs(g.mean(axis=0) - df * np.eye(4)) < 4 * np.sqrt(2 * df / 40_000))
        assert abs(g[:, 0, 0].var() - 2 * df) < 4 * np.sqrt(8 * df**2 * 3 / 40_000) * 2


def test_limits_and_large_n_form():
    d, c2 = 10, 0.5
    assert sc.spread_factor(10**8, d) == pytest.approx((d + 1) / 10**8, rel=1e-6)
    assert sc.mixed_error(10**9, d, 0.2, 1.0, c2) == pytest.approx(sc.floor(0.2, c2), rel=1e-6)
    for n in (10**3, 10**5):
        exact, approx = sc.mixed_error(n, d, 0.1, 1.0, c2), sc.mixed_error_large_n(n, d, 0.1, 1.0, c2)
        assert abs(exact - approx) / exact < 5 * d / n  # agreement to relative order d / n
    assert sc.onset(d, 0.1, 1.0, c2) == pytest.approx(d / (0.01 * c2))
    assert sc.onset(d, 0.0, 1.0, c2) == float("inf")
    # no synthetic data: the plain least-squares error; a refitted generator keeps the ratio below 2
    assert sc.mixed_error(50, d, 0.0, 1.0, 3.0) == pytest.approx(d / 39)
    for n in (20, 100, 10**6):
        ratio = sc.mixed_error(n, d, 1.0, 1.0, generator_n=n) / (d / (n - d - 1))
        assert ratio == pytest.approx(2.0)


def test_random_features_at_full_width_is_least_squares():
    # width = dim and a negligible ridge: the model is least squares in x, so the mixed error applies
    # (the generator's error has a random direction of fixed norm). 4 standard errors over 3,000 chains.
    n, dim, share = 20, 4, 0.3
    values = sc.simulate_random_features(n, dim, np.array([dim]), share, 0.8, 1.2, chains=3000, ridge=1e-12, seed=5)
    assert_within(values[:, 0], sc.mixed_error(n, dim, share, 0.8, 1.2))


def test_bad_arguments_raise_before_computing():
    with pytest.raises(ValueError, match="share must be"):
        sc.mixed_error(100, 5, 1.5, 1.0, 1.0)
    with pytest.raises(ValueError, match="share must be"):
        sc.simulate_mixed(100, 5, -0.1, 1.0, 1.0, 10)
    with pytest.raises(ValueError, match="n must exceed dim"):
        sc.mixed_error(6, 5, 0.1, 1.0, 1.0)
    with pytest.raises(ValueError, match="gen_error must be"):
        sc.mixed_error(100, 5, 0.1, 1.0, -1.0)
    with pytest.raises(ValueError, match="exactly one"):
        sc.mixed_error(100, 5, 0.1, 1.0, 1.0, generator_n=50)
    with pytest.raises(ValueError, match="generator_n must exceed"):
        sc.simulate_mixed(100, 5, 0.1, 1.0, chains=10, generator_n=6)
    with pytest.raises(ValueError, match="noise must be"):
        sc.mixed_error(100, 5, 0.1, 0.0, 1.0)
    with pytest.raises(ValueError, match="widths must be"):
        sc.simulate_random_features(10, 3, np.array([0, 2]), 0.1)
    with pytest.raises(ValueError, match="ridge must be"):
        sc.simulate_random_features(10, 3, np.array([2]), 0.1, ridge=0.0)
