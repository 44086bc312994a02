"""Numeric answers of chapter 11's exercises ("Verification, curation and self-correction")."""

from __future__ import annotations

import math

from collapse_utils.answers import answer
from collapse_utils.exact import verification


@answer("ex-11-threshold")
def threshold():
    """Chapter 11: the verifier quality a / f needed at n = 100, and its cost in candidates."""
    n, accuracy, tolerance, true_accept = 100, 0.1, 0.02, 0.9
    w_star = verification.correct_share_needed(n, tolerance)
    odds = verification.odds_needed(n, accuracy, tolerance)
    false_accept = true_accept / odds
    rate = verification.acceptance_rate(accuracy, true_accept, false_accept)
    return {
        "n": n,
        "accuracy": accuracy,
        "tolerance": tolerance,
        "true_accept": true_accept,
        "w_star": w_star,
        "odds": odds,
        "false_accept": false_accept,
        "rate": rate,
        "candidates": 1 / rate,
    }


@answer("ex-11-biased-verifier")
def biased_verifier():
    """Chapter 11: a verifier whose 'correct' samples are centred at delta pulls the mean to delta."""
    w, delta, t = 0.3, 0.5, 10
    # E[d_t] = delta (1 - (1 - w)^(t - 1)) for t >= 1 (generation 1 is fitted to real data)
    mean_t = delta * (1 - (1 - w) ** (t - 1))
    half = 1 + math.log(0.5) / math.log(1 - w)  # generations until half of delta is reached
    return {"w": w, "delta": delta, "t": t, "mean_t": mean_t, "half": half}


@answer("ex-11-kl")
def kl_regularised():
    """Chapter 11: the optimum of E_p[r] - eta KL(p || p_0) for a 1-D Gaussian and a quadratic reward."""
    m0, s0, c, beta, eta = 0.0, 1.0, 2.0, 0.5, 1.0
    precision = 1 / s0**2 + beta / eta
    mean = (m0 / s0**2 + beta * c / eta) / precision
    return {"m0": m0, "s0": s0, "c": c, "beta": beta, "eta": eta, "mean": mean, "var": 1 / precision,
            "var_ratio": (1 / precision) / s0**2}
