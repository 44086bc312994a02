"""Independent checks of chapter 09's exercise answers (collapse_utils.answers.ch09).

Exact values are recomputed by other routes: the mixing recursion of thm-08-mix
written out as a matrix, bisection instead of Brent's method, and the effective
real fraction of prop-09-detector inverted numerically.
"""

from __future__ import annotations

import numpy as np
import pytest

from collapse_utils.answers import solve
from collapse_utils.exact import filtering, gaussian_mixing


def _biased_matrix(n, lam, tau):
    """The linear part of thm-08-mix's recursion (MLE, fresh data) for a sampler N(mu, tau sigma^2), written out."""
    a = 1 - lam
    return np.array([[(n - 1) * a * tau / n, a * lam], [a * tau / n, a * a]])


def _radius(n, lam, tau):
    return max(abs(np.linalg.eigvals(_biased_matrix(n, lam, tau))))


def test_biased_fixed_point():
    ans = solve("ex-09-biased-fixed-point")
    n, lam, tau_a, tau_b = ans["n"], ans["lam"], ans["tau_a"], ans["tau_b"]
    assert (n, lam, tau_a, tau_b) == (100, 0.1, 1.05, 1.2)
    # the large-n map s -> lam + tau (1 - lam) s, iterated from s = 1
    s = 1.0
    for _ in range(2000):
        s = lam + tau_a * (1 - lam) * s
    assert ans["s_approx_a"] == pytest.approx(s, rel=1e-12)
    assert ans["slope_a"] < 1 < ans["slope_b"]
    assert ans["gain_a"] == pytest.approx(ans["s_approx_a"] / lam)
    # the exact fixed point: iterate the exact recursion (mix_moments) until it settles
    exact = gaussian_mixing.mix_moments(n, lam, 3000, sampling_scale=tau_a)[0]
    assert exact[-1] == pytest.approx(exact[-2], rel=1e-13)  # settled
    assert ans["s_exact_a"] == pytest.approx(exact[-1], rel=1e-10)
    # the factor (n - 1)/n alone lowers the approximation below the exact value; the mean term gives part back
    shrink = (n - 1) / n
    s_shrunk = lam * shrink / (1 - tau_a * (1 - lam) * shrink)
    assert s_shrunk < ans["s_exact_a"] < ans["s_approx_a"]
    # spectral radii from the recursion written out here
    assert ans["radius_a"] == pytest.approx(_radius(n, lam, tau_a), rel=1e-12)
    assert ans["radius_b"] == pytest.approx(_radius(n, lam, tau_b), rel=1e-12)
    # above the edge the exact moments explode at the rate of the radius
    grow = gaussian_mixing.mix_moments(n, lam, 400, sampling_scale=tau_b)[0]
    assert grow[-1] / grow[-2] == pytest.approx(ans["radius_b"], rel=1e-9)
    # the stability edges: bisection on the radius of the written-out matrix
    for key, tau in (("a", tau_a), ("b", tau_b)):
        lo, hi = 1e-6, 1 - 1e-9  # radius > 1 at lo, < 1 at hi
        for _ in range(100):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if _radius(n, mid, tau) > 1 else (lo, mid)
        assert ans[f"edge_{key}"] == pytest.approx(hi, abs=1e-10)
        assert ans[f"edge_approx_{key}"] == pytest.approx(1 - 1 / tau)
        assert ans[f"rho_{key}"] == pytest.approx((1 - hi) / hi, rel=1e-8)
        assert ans[f"rho_approx_{key}"] == pytest.approx(1 / (tau - 1))
        assert ans[f"edge_{key}"] < ans[f"edge_approx_{key}"]
    assert ans["edge_a"] < lam < ans["edge_b"]  # stable at tau_a, unstable at tau_b


def _fixed_point_variance(n, lam, generations=20000):
    """thm-08-mix's fresh-data recursion (MLE, sigma0^2 = 1) iterated until it settles."""
    a = 1 - lam
    s, q = (n - 1) / n, 1 / n
    for _ in range(generations):
        s_new, q_new = (n - 1) / n * (lam + a * s) + a * lam * q, a * a * q + (lam + a * s) / n
        if abs(s_new - s) < 1e-15 and abs(q_new - q) < 1e-15:
            break
        s, q = s_new, q_new
    return s


def test_crawl_size():
    ans = solve("ex-09-crawl-size")
    eps, s, f, n = ans["eps"], ans["s"], ans["f"], ans["n"]
    assert (eps, s, f, n) == (0.02, 0.9, 0.05, 100)
    # lambda*: the fixed point of the written-out recursion keeps 1 - eps exactly there
    assert _fixed_point_variance(n, ans["lam_star"]) == pytest.approx(1 - eps, abs=1e-8)
    # r*: bisection on the effective real fraction of prop-09-detector (increasing in r)
    lo, hi = 0.0, 1.0
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if filtering.effective_real_fraction(s, mid, f) < ans["lam_star"] else (lo, mid)
    assert ans["r_star"] == pytest.approx(hi, abs=1e-10)
    kept = (1 - s) * (1 - f) + s * (1 - hi)  # kept human plus kept synthetic
    assert ans["kept"] == pytest.approx(kept, rel=1e-8)
    assert ans["docs_per_doc"] == pytest.approx(1 / kept, rel=1e-8)
    # the unfiltered crawl: the exact n is the first at which the fixed point keeps 1 - eps
    m = ans["n_exact"]
    assert _fixed_point_variance(m, 1 - s) >= 1 - eps > _fixed_point_variance(m - 1, 1 - s)
    assert ans["real_points"] == pytest.approx(1 / (2 * eps) - 1)
    assert ans["n_approx"] == 240  # 24 real points at a real share of 0.1
    # the full approximation of cor-08-fixed-point: the deficit at its n is at most eps, one point fewer above
    lam = 1 - s

    def deficit(k):
        return 1 / ((2 - lam) * (lam * k + 1 - lam))

    assert deficit(ans["n_approx_two_minus"]) <= eps < deficit(ans["n_approx_two_minus"] - 1)
    assert ans["n_approx"] < ans["n_approx_two_minus"] <= ans["n_exact"]
    assert np.isfinite(ans["r_star"]) and 0 < ans["r_star"] < 1
