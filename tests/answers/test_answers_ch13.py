"""Independent checks of chapter 13's exercise answers (collapse_utils.answers.ch13).

Routes: Monte Carlo with the sufficient-statistic simulator or explicit rows
(tolerance 4 standard errors of the mean, a false failure about 6e-5 per
comparison), bisection and grids instead of closed forms and optimisers, and
ridge_error on an explicit orthogonal design instead of the isotropic formula.
"""

from __future__ import annotations

import numpy as np
import pytest

from collapse_utils.answers import solve
from collapse_utils.exact import regression, strong_collapse


def within(values, exact, k=4.0):
    se = values.std(ddof=1) / np.sqrt(len(values))
    return abs(values.mean() - exact) < k * se


def test_onset():
    a = solve("ex-13-onset")
    d, c2, p = a["dim"], a["c2"], a["share"]
    # the onset by bisection on noise^2 d / n = p^2 c^2
    lo, hi = 1.0, 1e12
    for _ in range(200):
        mid = (lo * hi) ** 0.5
        lo, hi = (mid, hi) if d / mid > p * p * c2 else (lo, mid)
    assert a["n_star"] == pytest.approx(hi, rel=1e-9)
    assert a["floor"] == pytest.approx(strong_collapse.mixed_error(10**12, d, p, 1.0, c2), rel=1e-6)
    values = strong_collapse.simulate_mixed(int(a["n_star"]), d, p, 1.0, c2, 40_000, seed=13)
    assert within(values, a["at_onset"])
    assert 1.9 < a["ratio_onset"] < 2.1 and a["ratio_far"] < 1.02 and a["loss_far"] > 100


def fixed_rows(n_real, n_syn, dim, c2, chains, seed):
    rng = np.random.default_rng(seed)
    n = n_real + n_syn
    X = rng.standard_normal((chains, n, dim))
    delta = rng.standard_normal((chains, dim))
    delta *= np.sqrt(c2) / np.linalg.norm(delta, axis=1, keepdims=True)
    y = rng.standard_normal((chains, n))  # w* = 0 without loss of generality, noise 1
    y[:, n_real:] += np.einsum("cni,ci->cn", X[:, n_real:], delta)
    w = np.linalg.solve(np.swapaxes(X, 1, 2) @ X, (np.swapaxes(X, 1, 2) @ y[..., None]))[..., 0]
    return np.sum(w**2, axis=1)


def test_add_synthetic():
    a = solve("ex-13-add-synthetic")
    n_real, d = a["n_real"], a["dim"]
    assert a["real_only"] == pytest.approx(d / (n_real - d - 1))
    assert within(fixed_rows(n_real, a["best_good"], d, a["c2_good"], 3000, 1), a["error_good"])
    assert a["best_good"] > 0 and a["gain_good"] > 1 and a["best_bad"] == 0 and a["gain_bad"] == 1
    # the large-n error's slope at n_syn = 0 is (c^2 (d + 1) - d) / n_real^2: negative iff c^2 < d / (d + 1)
    for c2, helps in ((a["c2_good"], True), (a["c2_bad"], False)):
        slope = (c2 * (d + 1) - d) / n_real**2
        assert (slope < 0) == helps
    assert a["threshold"] == pytest.approx(d / (d + 1))


def test_ridge():
    a = solve("ex-13-ridge")
    T, d = a["samples"], a["dim"]
    X = np.sqrt(T) * np.linalg.qr(np.random.default_rng(0).standard_normal((T, d)))[0]  # X^T X = T I
    w_star = np.full(d, 1.0)  # ||w*||^2 = d
    grid = np.geomspace(1e-3, 1e3, 4001)
    for t in (1, 10, 50):
        errors = np.array([regression.ridge_error(X, w_star, 1.0, lam, t) for lam in grid])
        best = grid[np.argmin(errors)]
        assert a[f"lam_{t}"] == pytest.approx(best, rel=0.01)
        assert a[f"err_{t}"] == pytest.approx(errors.min(), rel=1e-5)
        assert a[f"ols_{t}"] == pytest.approx(t * d / T)
        assert a[f"err_{t}"] < a[f"ols_{t}"]


def test_one_round():
    a = solve("ex-13-one-round")
    d, p, small, big = a["dim"], a["share"], a["n_small"], a["n_big"]
    assert a["frozen_c2"] == pytest.approx(d / (small - d - 1))
    for key, n in (("small", small), ("big", big)):
        real = d / (n - d - 1)
        refit = strong_collapse.simulate_mixed(n, d, p, 1.0, chains=30_000, generator_n=n, seed=n)
        assert within(refit / real, a[f"refit_ratio_{key}"])
        frozen = strong_collapse.simulate_mixed(n, d, p, 1.0, a["frozen_c2"], 30_000, seed=n + 1)
        assert within(frozen / real, a[f"frozen_ratio_{key}"])
    assert a["refit_ratio_big"] < 2 < a["frozen_ratio_big"]
