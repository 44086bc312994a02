"""Numeric answers of chapter 08's exercises ("Mixing and accumulation")."""

from __future__ import annotations

import math

from scipy import stats

from collapse_utils.answers import answer
from collapse_utils.exact import gaussian, gaussian_mixing


@answer("ex-08-unbiased")
def unbiased_fixed_point():
    """Chapter 08: fixed point of E[sigma^2] under mix with the unbiased estimator."""
    n, lam = 100, 0.1
    return {
        "n": n,
        "lam": lam,
        "s_unbiased": gaussian_mixing.mix_fixed_point(n, lam, estimator="unbiased")[0],
        "s_mle": gaussian_mixing.mix_fixed_point(n, lam)[0],
    }


@answer("ex-08-accumulate-n")
def accumulate_n():
    """Chapter 08: smallest n whose accumulate limit sin(x)/x (x = pi/sqrt n) keeps 1 - tol of the variance."""
    tol = 0.01
    n_approx = math.ceil(math.pi**2 / (6 * tol))
    n_exact = 2
    while gaussian_mixing.accumulate_variance_limit(n_exact) < 1 - tol:
        n_exact += 1
    return {
        "tol": tol,
        "tol_times_six": 6 * tol,
        "n_approx": n_approx,
        "n_exact": n_exact,
        "limit_exact": gaussian_mixing.accumulate_variance_limit(n_exact),
        "limit_below": gaussian_mixing.accumulate_variance_limit(n_exact - 1),
    }


@answer("ex-08-pathwise")
def pathwise_floor():
    """Chapter 08: the chi-square bound on P(sigma_t^2 < eps sigma0^2) under fresh mix, and replace's exact law."""
    n, lam, eps, risk = 200, 0.05, 0.05, 0.01
    k = round(lam * n)
    return {
        "n": n,
        "lam": lam,
        "k": k,
        "eps": eps,
        "threshold": k * eps / lam,  # the chi-square argument k eps / lambda
        "bound": float(stats.chi2.cdf(k * eps / lam, k - 1)),
        "risk": risk,
        "eps_at_risk": float(lam * stats.chi2.ppf(risk, k - 1) / k),
        "s_fixed": gaussian_mixing.mix_fixed_point(n, lam)[0],
        "t_a": 200,
        "t_b": 1000,
        "replace_a": gaussian.variance_cdf(n, 200, eps),
        "replace_b": gaussian.variance_cdf(n, 1000, eps),
    }
