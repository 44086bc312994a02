"""Numeric answers of chapter 07's exercises ("Mitigations: the data")."""

from __future__ import annotations

import math

import numpy as np

from collapse_utils.answers import answer
from collapse_utils.exact import filtering, gaussian_mixing


@answer("ex-07-unbiased")
def unbiased_fixed_point():
    """Chapter 07: fixed point of E[sigma^2] under mix with the unbiased estimator."""
    n, lam = 100, 0.1
    return {
        "n": n,
        "lam": lam,
        "s_unbiased": gaussian_mixing.mix_fixed_point(n, lam, estimator="unbiased")[0],
        "s_mle": gaussian_mixing.mix_fixed_point(n, lam)[0],
    }


@answer("ex-07-accumulate-n")
def accumulate_n():
    """Chapter 07: smallest n whose accumulate limit sin(x)/x (x = pi/sqrt n) keeps 1 - tol of the variance."""
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


@answer("ex-07-detector")
def detector():
    """Chapter 07: effective real fraction and kept share of a filtered crawl."""
    s, r, f = 0.6, 0.8, 0.1
    return {
        "s": s,
        "r": r,
        "f": f,
        "human_kept": (1 - s) * (1 - f),
        "synthetic_kept": s * (1 - r),
        "lam_eff": float(filtering.effective_real_fraction(s, r, f)),
        "kept": float(filtering.kept_fraction(s, r, f)),
    }


@answer("ex-07-enough-real")
def enough_real():
    """Chapter 07: smallest n whose fresh-mix fixed point keeps 99% of the variance at lambda = 0.1."""
    lam, tol = 0.1, 0.01
    sizes = np.arange(10, 2000, 10)  # multiples of 10, so that k = lam * n is a whole number
    deficits = np.array([1 - gaussian_mixing.mix_fixed_point(int(m), lam)[0] for m in sizes])
    n_min = int(sizes[np.argmax(deficits <= tol)])
    approx = (1 / ((2 - lam) * tol) - 1 + lam) / lam  # solves 1/((2-lam)(lam n + 1 - lam)) = tol
    return {
        "lam": lam,
        "tol": tol,
        "n_min": n_min,
        "k_min": round(lam * n_min),
        "deficit_at_n_min": float(1 - gaussian_mixing.mix_fixed_point(n_min, lam)[0]),
        "n_approx": math.ceil(approx),
    }
