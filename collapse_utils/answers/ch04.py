"""Numeric answers of the exercises of chapter 04, "Gaussian mixtures"."""

from __future__ import annotations

import math

import numpy as np

from collapse_utils.answers import answer
from collapse_utils.families.gmm import GMMModel
from collapse_utils.measures import distributions


@answer("ex-04-l2-gaussians")
def l2_gaussians() -> dict[str, float]:
    """Chapter 04: the closed form of the L2 distance between N(0, s^2) and N(0, (lam s)^2).

    Book: {ref}`ex-04-l2-gaussians`
    """
    s, lam = 1.0, 0.5
    squared = (1 + 1 / lam - 2 * math.sqrt(2) / math.sqrt(1 + lam**2)) / (2 * math.sqrt(math.pi) * s)
    return {"s": s, "lam": lam, "l2_squared": squared, "l2": math.sqrt(squared)}


@answer("ex-04-l2-mixtures")
def l2_mixtures() -> dict[str, float]:
    """Chapter 04: the L2 distance between 0.5 N(-a, 1) + 0.5 N(a, 1) and N(0, 1 + a^2),
    two densities with the same mean and variance, from the inner products of
    prop-04-l2.

    Book: {ref}`ex-04-l2-mixtures`
    """
    a = 1.0
    g_var = 1 + a**2
    f = GMMModel([0.5, 0.5], [[-a], [a]], [[[1.0]], [[1.0]]])
    g = GMMModel([1.0], [[0.0]], [[[g_var]]])
    ff, fg, gg = distributions.l2_inner(f, f), distributions.l2_inner(f, g), distributions.l2_inner(g, g)
    return {"a": a, "g_var": g_var, "ff": ff, "fg": fg, "gg": gg,
            "l2_squared": ff - 2 * fg + gg, "l2": distributions.l2_distance(f, g)}


@answer("ex-04-rare-draws")
def rare_draws() -> dict[str, float]:
    """Chapter 04: the points a component of weight w gets in n draws: mean n w, the
    probability of none (1 - w)^n, its Poisson approximation exp(-n w), the
    probability of at most 2 points, and the fewest draws that give it a point
    with probability at least one half.

    Book: {ref}`ex-04-rare-draws`
    """
    w, n = 0.02, 500
    at_most_2 = sum(math.comb(n, k) * w**k * (1 - w) ** (n - k) for k in range(3))
    return {"w": w, "n": n, "expected": n * w, "p_none": (1 - w) ** n,
            "p_none_poisson": math.exp(-n * w), "p_at_most_2": at_most_2,
            "half_n": int(np.ceil(math.log(0.5) / math.log(1 - w)))}
