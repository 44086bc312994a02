"""Independent checks of chapter 10's exercise answers (collapse_utils.answers.ch10)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from collapse_utils.answers import solve


def _zipf(vocab, beta):
    ranks = np.arange(1, vocab + 1, dtype=float)
    return ranks**-beta / special.zeta(beta, 1) / (1 - special.zeta(beta, vocab + 1) / special.zeta(beta, 1))


def test_compound():
    ans = solve("ex-10-compound")
    assert (ans["vocab"], ans["beta"], ans["tau"]) == (2000, 1.5, 0.95)
    p = _zipf(2000, 1.5)
    assert ans["p1"] == pytest.approx(p[0], rel=1e-10)

    def top(t):  # p^(1/0.95^t) normalised, in log space: the top share is 1 / sum_i (p_i/p_1)^(1/0.95^t)
        return 1 / np.exp(np.log(p / p[0]) / 0.95**t).sum()

    t = ans["generations"]
    assert top(t) > 0.9 >= top(t - 1)
    assert (ans["p1_at"], ans["p1_before"]) == pytest.approx((top(t), top(t - 1)), rel=1e-9)
    assert ans["effective_tau"] == pytest.approx(0.95**t)


def test_gauss_small_n():
    ans = solve("ex-10-gauss-small-n")
    rng = np.random.default_rng(3)
    for n in (10, 100):
        # Monte-Carlo of one generation's factor chi2_(n-1)/n, 10^6 draws; 4 standard errors
        factor = rng.chisquare(n - 1, 1_000_000) / n
        mean, log_mean = factor.mean(), np.log(factor).mean()
        se_mean = factor.std() / 1000
        se_log = np.log(factor).std() / 1000
        assert abs(1 / mean - ans[f"tau_mean_{n}"]) < 4 * se_mean / mean**2  # delta method
        assert abs(-log_mean - math.log(ans[f"tau_log_{n}"])) < 4 * se_log
        # median: tau_log times the factor has log-mean 0, so the median of log variance does not drift
        assert ans[f"tau_log_{n}"] > ans[f"tau_mean_{n}"] > 1
    assert ans["drift_10"] == pytest.approx(-math.log(ans["tau_log_10"]), rel=1e-12)
    assert ans["tau_mean_10"] == pytest.approx(10 / 9)
    assert ans["tau_log_10"] - 1 > 2 * (ans["tau_log_100"] - 1)


def test_top_p():
    ans = solve("ex-10-top-p")
    assert (ans["vocab"], ans["beta"]) == (2000, 1.5)
    p = np.sort(_zipf(2000, 1.5))[::-1]  # brute force: sort, accumulate, first index reaching the target
    cumulative = np.cumsum(p)
    for name, cut in (("95", 0.95), ("99", 0.99)):
        size = int(np.argmax(cumulative >= cut)) + 1
        assert ans[f"size_{name}"] == size
        assert ans[f"mass_{name}"] == pytest.approx(cumulative[size - 1], rel=1e-9)
        assert cumulative[size - 2] < cut <= cumulative[size - 1]


def test_top_k():
    ans = solve("ex-10-top-k")
    assert (ans["vocab"], ans["beta"], ans["k_small"], ans["k_large"]) == (2000, 1.5, 50, 500)
    # Hurwitz zeta: sum_(i=k+1..V) i^-beta = zeta(beta, k+1) - zeta(beta, V+1)
    total = special.zeta(1.5, 1) - special.zeta(1.5, 2001)
    for name, k in (("small", 50), ("large", 500)):
        removed = (special.zeta(1.5, k + 1) - special.zeta(1.5, 2001)) / total
        assert ans[f"removed_{name}"] == pytest.approx(removed, rel=1e-9)
    assert ans["share_of_vocab"] == 0.25
