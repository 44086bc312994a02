"""Numeric answers of chapter 02's exercises ("Variance decay")."""

from __future__ import annotations

import math

import numpy as np

from collapse_utils.answers import answer
from collapse_utils.exact import gaussian, gaussian_mixing


def _chains_needed(n: int, t: int, rel_se: float) -> tuple[float, int]:
    ratio = float(gaussian.variance_of_variance(n, t) / gaussian.expected_variance(n, t) ** 2)
    return ratio, math.ceil(ratio / rel_se**2)


@answer("ex-02-var-of-var")
def var_of_var():
    """Chapter 02: Monte-Carlo chains needed for a 10% relative standard error of the mean of sigma_t^2."""
    rel_se, t, n_a, n_b = 0.1, 100, 100, 20
    rel_var_a, chains_a = _chains_needed(n_a, t, rel_se)
    rel_var_b, chains_b = _chains_needed(n_b, t, rel_se)
    return {
        "rel_se_pct": 100 * rel_se,
        "t": t,
        "n_a": n_a,
        "n_b": n_b,
        "rel_var_a": rel_var_a,
        "chains_a": chains_a,
        "rel_var_b": rel_var_b,
        "chains_b": chains_b,
    }


@answer("ex-02-drift-expansion")
def drift_expansion():
    """Chapter 02: drift of the unbiased estimator and the generations until a typical path halves."""
    n = 100
    drift = gaussian.log_variance_drift(n, "unbiased")
    first = -1 / (n - 1)
    second = -1 / (n - 1) - 1 / (3 * (n - 1) ** 2)
    return {
        "n": n,
        "drift": drift,
        "drift_first": first,
        "drift_second": second,
        "t_exact": int(gaussian.generations_to_halve(n, "unbiased", quantity="typical")),
        "t_real": math.log(2) / -drift,
        "t_first": (n - 1) * math.log(2),
        "t_second": math.log(2) / -second,
    }


@answer("ex-02-mvn-det")
def mvn_det():
    """Chapter 02: E[det Sigma_1] / det Sigma_0 for a d-dimensional maximum-likelihood refit."""
    n, d = 20, 5
    i = np.arange(1, d + 1)
    det_ratio = float(np.prod((n - i) / n))
    return {
        "n": n,
        "d": d,
        "det_ratio": det_ratio,
        "per_dim": det_ratio ** (1 / d),
        "per_dim_approx": 1 - (d + 1) / (2 * n),
        "mean_factor": (n - 1) / n,
        "mean_factor_d": ((n - 1) / n) ** d,
        "typical_per_dim": math.exp(gaussian.log_det_drift(n, d) / d),
    }


@answer("ex-02-growing")
def growing_square():
    """Chapter 02: E[sigma_t^2] under n_t = n t^2, Euler's product and the accumulate limit of chapter 08."""
    n, horizon = 10, 100_000
    sizes = n * np.arange(1, horizon + 1, dtype=np.int64) ** 2
    x = math.pi / math.sqrt(n)
    sum_inv = math.pi**2 / (6 * n)  # sum_t 1 / n_t
    return {
        "n": n,
        "horizon": horizon,
        "product": float(gaussian.schedule_expected_variance(sizes)[-1]),
        "tail": 1 / (n * horizon),  # the factors beyond the horizon lose at most this share
        "limit": math.sin(x) / x,
        "acc_limit": gaussian_mixing.accumulate_variance_limit(n),
        "sum_inv": sum_inv,
        "lower": 1 - sum_inv,
        "upper": math.exp(-sum_inv),
    }
