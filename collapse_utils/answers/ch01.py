"""Numeric answers of chapter 01's exercises ("The retraining loop")."""

from __future__ import annotations

import math

import numpy as np

from collapse_utils.answers import answer
from collapse_utils.exact import gaussian


@answer("ex-01-accumulate-size")
def accumulate_size():
    """Chapter 01: training-set size at generation T under accumulate, and points fitted over the run."""
    n, generations = 100, 100
    return {
        "n": n,
        "generations": generations,
        "size_last": generations * n,  # the real set plus T - 1 synthetic batches
        "total": n * generations * (generations + 1) // 2,  # sum over t = 1..T of t n
    }


@answer("ex-01-real-share")
def real_share():
    """Chapter 01: real data in the training sets under accumulate and accumulate-subsample."""
    n, m, generations = 100, 50, 20
    # pool of generation t: the n real points and t - 1 batches of n, t n points in all;
    # a given real point is in the subsample of generation t with probability m / (t n)
    never = math.prod(1 - m / (t * n) for t in range(2, generations + 1))
    return {
        "n": n,
        "m": m,
        "generations": generations,
        "share_accumulate": 1 / generations,
        "real_subsample": m / generations,
        "share_subsample": (m / generations) / m,
        "p_never": never,
        "never_reused": n * never,
    }


@answer("ex-01-by-hand")
def by_hand():
    """Chapter 01: the replace loop written in numpy, mean of sigma_t^2 over chains against ((n-1)/n)^t."""
    n, generations, chains, seed = 10, 10, 10_000, 2024
    rng = np.random.default_rng(seed)
    mu, var = np.zeros(chains), np.ones(chains)
    for _ in range(generations):
        x = rng.normal(mu[:, None], np.sqrt(var)[:, None], size=(chains, n))
        mu, var = x.mean(axis=1), x.var(axis=1)  # maximum likelihood
    mean, se = float(var.mean()), float(var.std(ddof=1) / math.sqrt(chains))
    exact = float(gaussian.expected_variance(n, generations))
    return {
        "n": n,
        "generations": generations,
        "chains": chains,
        "mean": mean,
        "se": se,
        "exact": exact,
        "z": (mean - exact) / se,
        "median": float(np.median(var)),
    }
