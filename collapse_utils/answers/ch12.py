"""Numeric answers of chapter 12's exercises ("A tale of tails")."""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special

from collapse_utils.answers import answer
from collapse_utils.exact import zipf


@answer("ex-12-beta-one")
def beta_one():
    """Chapter 12: the clean exponent near beta = 1 and the data needed to halve the error."""
    out = {}
    for name, b in (("heavy", 1.15), ("main", 1.5)):
        exponent = 1 - 1 / b
        out[f"beta_{name}"] = b
        out[f"exponent_{name}"] = exponent
        out[f"factor_{name}"] = 2 ** (1 / exponent)
    return out


@answer("ex-12-crossover")
def crossover():
    """Chapter 12: k^beta against the exact T where the clean error meets the floor of a cut at k."""
    vocab, beta, k = 100_000, 1.5, 1000
    p = zipf.zipf_probs(vocab, beta)
    floor = float(zipf.tail_mass(p, k))

    def gap(log_t):
        return math.log(float(zipf.expected_error(p, math.exp(log_t)))) - math.log(floor)

    t_cross = math.exp(optimize.brentq(gap, math.log(10.0), math.log(1e9), xtol=1e-8))
    return {
        "vocab": vocab,
        "beta": beta,
        "k": k,
        "floor": floor,
        "k_beta": float(k) ** beta,
        "t_cross": t_cross,
        "ratio": t_cross / float(k) ** beta,
    }


@answer("ex-12-tail-bounds")
def tail_bounds():
    """Chapter 12: the tail mass beyond rank k of an infinite Zipf law and its integral bounds."""
    beta, k = 2.0, 100
    zeta = float(special.zeta(beta))
    return {
        "beta": beta,
        "k": k,
        "tail": float(special.zeta(beta, k + 1)) / zeta,  # Hurwitz zeta: sum over i >= k + 1
        "lower": (k + 1) ** (1 - beta) / ((beta - 1) * zeta),
        "upper": k ** (1 - beta) / ((beta - 1) * zeta),
        "zeta": zeta,
    }


@answer("ex-12-fitted-exponent")
def fitted_exponent():
    """Chapter 12: slope of the exact clean error of a finite Zipf law against T, and the theory's."""
    vocab, beta = 100_000, 2.0
    p = zipf.zipf_probs(vocab, beta)
    tokens = np.geomspace(1000, 100_000, 9)
    return {
        "vocab": vocab,
        "beta": beta,
        "t_low": 1000,
        "t_high": 100_000,
        "points": tokens.size,
        "slope": zipf.fit_power_law(tokens, zipf.expected_error(p, tokens)),
        "theory": -(1 - 1 / beta),
    }
