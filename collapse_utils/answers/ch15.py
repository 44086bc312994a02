"""Answers of chapter 15 (the book's two worked problems and synthesis exercises).

Besides the answer functions, two exact helpers for the law of the fitted
variance of chapter 02 (its proposition "The law of the fitted variance"): the distribution function of
sigma_t^2 / sigma_0^2 by Gil-Pelaez inversion of the characteristic function of
log sigma_t^2, and the first generation at which the median falls below a level.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from collapse_utils.answers import answer
from collapse_utils.exact import categorical, categorical_mixing, gaussian, gaussian_mixing

# The givens of problem 1, chosen by the book (chapter 02's variance-decay theorem
# points here for its worked numbers).
SIGMA0_SQ, N, T, LEVEL = 100.0, 100, 10, 50.0

# The givens of problem 2, chosen by the book (corpus size, human share, generations, rare weight).
MIX_N, MIX_HUMAN, MIX_GENS, MIX_W = 1000, 0.05, 10, 0.01
# Synthesis: horizon at which the two temperatures of chapter 10 are compared.
TEMP_T = 100


@answer("ex-15-expected-variance")
def expected_variance() -> dict:
    """Chapter 15, problem 1: expected variance after T generations and the halving time,
    with the generations either side of the crossing."""
    t_half = int(gaussian.generations_to_halve(N, fraction=LEVEL / SIGMA0_SQ))
    return {
        "sigma0_sq": SIGMA0_SQ,
        "n": N,
        "t": T,
        "level": LEVEL,
        "ratio": (N - 1) / N,
        "expected_t": float(gaussian.expected_variance(N, T, sigma0_sq=SIGMA0_SQ)),
        "t_real": math.log(SIGMA0_SQ / LEVEL) / math.log(N / (N - 1)),
        "t_half": t_half,
        "expected_before": float(gaussian.expected_variance(N, t_half - 1, sigma0_sq=SIGMA0_SQ)),
        "expected_at": float(gaussian.expected_variance(N, t_half, sigma0_sq=SIGMA0_SQ)),
    }


@answer("ex-15-median-variance")
def median_variance() -> dict:
    """Chapter 15, problem 1 continued: when the median chain (MLE and unbiased) falls below the level."""
    fraction = LEVEL / SIGMA0_SQ
    t_med = gaussian.median_crossing(N, fraction)
    t_med_unb = gaussian.median_crossing(N, fraction, "unbiased")
    t_half = int(gaussian.generations_to_halve(N, fraction=fraction))
    horizon = 10 * t_half
    return {
        "t_median": t_med,
        "p_before": gaussian.variance_cdf(N, t_med - 1, fraction),
        "p_at": gaussian.variance_cdf(N, t_med, fraction),
        "p_at_t_half": gaussian.variance_cdf(N, t_half, fraction),
        "t_typical": int(gaussian.generations_to_halve(N, quantity="typical", fraction=fraction)),
        "drift": gaussian.log_variance_drift(N),
        "t_median_unbiased": t_med_unb,
        "p_unbiased_at": gaussian.variance_cdf(N, t_med_unb, fraction, "unbiased"),
        "horizon": horizon,
        "p_unbiased_horizon": gaussian.variance_cdf(N, horizon, fraction, "unbiased"),
    }


@answer("ex-15-human-pool")
def human_pool() -> dict:
    """Chapter 15, problem 2 (answered in chapter 08): 5% fixed human data for 10 generations."""
    return dict(_human_pool())


@functools.cache
def _human_pool() -> dict:  # about two seconds (the exact presence chain): computed once per process
    k = int(round(MIX_HUMAN * MIX_N))
    s, q = gaussian_mixing.mix_moments(MIX_N, MIX_HUMAN, MIX_GENS, fresh=False)
    s_star, q_star = gaussian_mixing.mix_fixed_point(MIX_N, MIX_HUMAN, fresh=False)
    radius = float(gaussian_mixing.mix_contraction(MIX_N, MIX_HUMAN))
    return {
        "n": MIX_N,
        "human_pct": 100 * MIX_HUMAN,
        "ai_pct": 100 * (1 - MIX_HUMAN),
        "generations": MIX_GENS,
        "k": k,
        "s_t": float(s[-1]),
        "replace_t": float(gaussian_mixing.mix_moments(MIX_N, 0.0, MIX_GENS)[0][-1]),
        "s_star": s_star,
        "q_t": float(q[-1]),
        "q_star": q_star,
        "q_pool": 1.0 / k,  # E[ybar^2] / sigma_0^2 for the pool's mean ybar of k points
        "radius": radius,
        "remaining": radius ** (MIX_GENS - 1),
        "w": MIX_W,
        "pool_miss": categorical_mixing.minority_loss_forever(MIX_W, MIX_N, MIX_HUMAN, fresh=False),
        "present_fixed": float(categorical_mixing.minority_presence(MIX_W, MIX_N, MIX_HUMAN, MIX_GENS, fresh=False)[-1]),
        "present_replace": float(categorical_mixing.minority_presence(MIX_W, MIX_N, 0.0, MIX_GENS)[-1]),
    }


@answer("ex-15-rare-loss")
def rare_loss() -> dict:
    """Chapter 15, synthesis of chapters 03 and 08: when is a 1% component lost with probability 1/2?"""
    return dict(_rare_loss())


@functools.cache
def _rare_loss() -> dict:  # about a second (the Wright-Fisher chain of n = 1000): computed once per process
    ts = np.arange(1, 61)
    lost = 1.0 - categorical.survival_probability(MIX_W, MIX_N, ts)
    if lost[-1] < 0.5:
        raise ValueError("the search horizon is too short")
    i = int(np.argmax(lost >= 0.5))
    k = int(round(MIX_HUMAN * MIX_N))
    return {
        "w": MIX_W,
        "n": MIX_N,
        "t_half": int(ts[i]),
        "lost_before": float(lost[i - 1]),
        "lost_at": float(lost[i]),
        "feller": 2 * MIX_N * MIX_W / math.log(2),
        "lost_forever": 1.0 - MIX_W,  # the weight is a martingale (chapter 03)
        "lost_forever_pool": categorical_mixing.minority_loss_forever(MIX_W, MIX_N, MIX_HUMAN, fresh=False),
        "k": k,
    }


@answer("ex-15-temperature")
def temperature() -> dict:
    """Chapter 15, synthesis of chapters 02 and 10: temperatures that offset problem 1's collapse."""
    tau_mean = N / (N - 1)
    tau_log = math.exp(-gaussian.log_variance_drift(N))
    fraction = LEVEL / SIGMA0_SQ
    return {
        "tau_mean": tau_mean,
        "tau_log": tau_log,
        "t_median_tau_mean": gaussian.median_crossing(N, fraction, temperature=tau_mean),
        "expected_tau_mean": SIGMA0_SQ * (N - 1) / N,
        "t_horizon": TEMP_T,
        # generation 1 is fitted to real data; generations 2..T are sampled at temperature tau_log
        "expected_tau_log": SIGMA0_SQ * (N - 1) / N * (tau_log * (N - 1) / N) ** (TEMP_T - 1),
        "p_below_tau_log": gaussian.variance_cdf(N, TEMP_T, 1.0, temperature=tau_log),
    }
