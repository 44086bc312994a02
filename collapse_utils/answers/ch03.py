"""Numeric answers of chapter 03's exercises ("Tails vanish")."""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from collapse_utils.answers import answer
from collapse_utils.exact import categorical


@answer("ex-03-sample-size")
def sample_size():
    """Chapter 03: samples needed to see a component of weight w with probability p; survival at t = 2."""
    w, p, n = 0.01, 0.99, 100
    n_needed = 1
    while (1 - w) ** n_needed > 1 - p:
        n_needed += 1
    return {
        "w": w,
        "p": p,
        "n": n,
        "n_bound": math.log(1 - p) / math.log(1 - w),
        "n_needed": n_needed,
        "s1": categorical.survival_probability(w, n, 1),
        "s2": categorical.survival_probability(w, n, 2),
    }


@answer("ex-03-equal-components")
def equal_components():
    """Chapter 03: distinct components among n samples of K = n equally likely ones."""
    n = 100
    # each component is in the sample exactly when a component of weight 1/n survives generation 1
    distinct = n * categorical.survival_probability(1 / n, n, 1)
    return {
        "n": n,
        "distinct": distinct,
        "approx": n * (1 - math.exp(-1)),
        "lost_share": 1 - distinct / n,
    }


def kimura_loss_by(w: float, n: int, t: float, terms: int = 2000) -> float:
    """Chapter 03: Kimura's (1955) diffusion probability that a component of weight w is lost by time t.

    (1 - w) + sum_i (2i+1) w (1-w) (-1)^i F(1-i, i+2; 2; 1-w) exp(-i(i+1) t / (2n)), with
    F(1-i, i+2; 2; x) = P_(i-1)^(1,1)(1 - 2x) / i (a Jacobi polynomial); haploid size n.
    """
    i = np.arange(1, terms + 1)
    hyp = special.eval_jacobi(i - 1, 1, 1, 1 - 2 * (1 - w)) / i
    series = (2 * i + 1) * w * (1 - w) * (-1.0) ** i * hyp * np.exp(-i * (i + 1) * t / (2 * n))
    return float((1 - w) + series.sum())


@answer("ex-03-loss-within")
def loss_within():
    """Chapter 03: probability of loss by generation t, exact Wright-Fisher against Kimura's diffusion."""
    w, n = 0.01, 100
    times = {"a": 1, "b": 10, "c": 100}
    out = {"w": w, "n": n}
    for key, t in times.items():
        out[f"t_{key}"] = t
        out[f"exact_{key}"] = 1 - categorical.survival_probability(w, n, t)
        out[f"kimura_{key}"] = kimura_loss_by(w, n, t)
    out["limit"] = 1 - w
    return out


@answer("ex-03-absorption")
def absorption():
    """Chapter 03: expected generation of loss or take-over.

    The exact linear solve against Kimura's diffusion formula.
    """
    n = 100
    w_rare, w_half = 1 / n, 0.5
    return {
        "n": n,
        "w_half": w_half,
        "exact_rare": categorical.expected_time_to_absorption(w_rare, n),
        "kimura_rare": categorical.kimura_time_to_absorption(w_rare, n),
        "exact_half": categorical.expected_time_to_absorption(w_half, n),
        "kimura_half": categorical.kimura_time_to_absorption(w_half, n),
    }
