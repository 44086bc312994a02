"""Answers of chapter 11 (the article's two problems and synthesis exercises).

Besides the answer functions, two exact helpers for the law of the fitted
variance of chapter 02 (its proposition "The law of the fitted variance"): the distribution function of
sigma_t^2 / sigma_0^2 by Gil-Pelaez inversion of the characteristic function of
log sigma_t^2, and the first generation at which the median falls below a level.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import integrate, special

from collapse_utils.answers import answer
from collapse_utils.answers.ch02 import LEVEL, SIGMA0_SQ, N, T, article  # problem 1 = ex-02-article
from collapse_utils.checks import check_choice, check_int, check_positive
from collapse_utils.exact import categorical, categorical_mixing, gaussian, gaussian_mixing

# The givens of problem 2: chapter 07's choices (corpus size, human share, generations, rare weight).
MIX_N, MIX_HUMAN, MIX_GENS, MIX_W = 1000, 0.05, 10, 0.01
# Synthesis: horizon at which the two temperatures of chapter 08 are compared.
TEMP_T = 100


def variance_cdf(n: int, t: int, fraction: float, estimator: str = "mle", temperature: float = 1.0) -> float:
    """P(sigma_t^2 < fraction * sigma_0^2), exact (chapter 11, law of chapter 02).

    log(sigma_t^2 / sigma_0^2) is a sum of t independent log(chi2_(n-1) / k),
    k = n (MLE) or n - 1 (unbiased), whose characteristic function is
    ((2/k)^(iu) Gamma(a + iu) / Gamma(a))^t with a = (n - 1) / 2; the Gil-Pelaez
    formula F(x) = 1/2 - (1/pi) int_0^oo Im[e^(-iux) phi(u)] / u du inverts it.
    ``temperature`` tau scales the variance of every fitted model's samples
    (chapter 08): generations 2..t are drawn at tau times the fitted variance,
    which adds (t - 1) log tau (generation 1 is fitted to real data).
    """
    n = check_int("n", n, 2)
    t = check_int("t", t, 0)
    fraction = check_positive("fraction", fraction)
    estimator = check_choice("estimator", estimator, gaussian.ESTIMATORS)
    temperature = check_positive("temperature", temperature)
    if t == 0:
        return float(fraction > 1)
    x = math.log(fraction) - (t - 1) * math.log(temperature)
    a, k = (n - 1) / 2, (n if estimator == "mle" else n - 1)
    shift = math.log(2 / k)
    log_gamma_a = special.loggamma(a)

    def integrand(u: float) -> float:
        log_phi = t * (1j * u * shift + special.loggamma(a + 1j * u) - log_gamma_a) - 1j * u * x
        return float(np.exp(log_phi).imag / u)

    sd = math.sqrt(t * special.polygamma(1, a))
    value, _ = integrate.quad(integrand, 0.0, 40.0 / sd, limit=400, epsabs=1e-11)
    return float(min(1.0, max(0.0, 0.5 - value / math.pi)))


def median_crossing(n: int, fraction: float, estimator: str = "mle", temperature: float = 1.0,
                    t_max: int = 100_000) -> int:
    """First generation t at which the median of sigma_t^2 is below fraction * sigma_0^2 (chapter 11).

    That is, the smallest t with P(sigma_t^2 < fraction sigma_0^2) > 1/2
    (:func:`variance_cdf`, increasing in t for fraction < 1). The search starts
    a little before the geometric-mean estimate of chapter 02.
    """
    n = check_int("n", n, 2)
    fraction = check_positive("fraction", fraction)
    if fraction >= 1:
        raise ValueError(f"fraction must be a number in (0, 1); got {fraction!r}")
    temperature = check_positive("temperature", temperature)
    drift = gaussian.log_variance_drift(n, estimator) + math.log(temperature)
    if drift >= 0:
        raise ValueError(f"temperature must be below exp(-drift) = {math.exp(drift - math.log(temperature)):.4f}"
                         f" for the median to fall; got {temperature!r}")
    t = max(1, int(0.8 * math.log(fraction) / drift) - 2)
    while variance_cdf(n, t, fraction, estimator, temperature) > 0.5 and t > 1:
        t = max(1, t // 2)
    while variance_cdf(n, t, fraction, estimator, temperature) <= 0.5:
        t += 1
        if t > t_max:
            raise ValueError(f"t_max={t_max} reached before the median fell below {fraction}")
    return t


@answer("ex-11-expected-variance")
def expected_variance() -> dict:
    """Chapter 11, problem 1: expected variance after T generations and the halving time
    (chapter 02's ex-02-article, with the generations either side of the crossing)."""
    first = article()
    t_half = first["t_halve"]
    return {
        "sigma0_sq": SIGMA0_SQ,
        "n": N,
        "t": T,
        "level": LEVEL,
        "ratio": first["ratio"],
        "expected_t": first["var_t"],
        "t_real": first["t_real"],
        "t_half": t_half,
        "expected_before": float(gaussian.expected_variance(N, t_half - 1, sigma0_sq=SIGMA0_SQ)),
        "expected_at": float(gaussian.expected_variance(N, t_half, sigma0_sq=SIGMA0_SQ)),
    }


@answer("ex-11-median-variance")
def median_variance() -> dict:
    """Chapter 11, problem 1 continued: when the median chain (MLE and unbiased) falls below the level."""
    fraction = LEVEL / SIGMA0_SQ
    t_med = median_crossing(N, fraction)
    t_med_unb = median_crossing(N, fraction, "unbiased")
    t_half = int(gaussian.generations_to_halve(N, fraction=fraction))
    horizon = 10 * t_half
    return {
        "t_median": t_med,
        "p_before": variance_cdf(N, t_med - 1, fraction),
        "p_at": variance_cdf(N, t_med, fraction),
        "p_at_t_half": variance_cdf(N, t_half, fraction),
        "t_typical": int(gaussian.generations_to_halve(N, quantity="typical", fraction=fraction)),
        "drift": gaussian.log_variance_drift(N),
        "t_median_unbiased": t_med_unb,
        "p_unbiased_at": variance_cdf(N, t_med_unb, fraction, "unbiased"),
        "horizon": horizon,
        "p_unbiased_horizon": variance_cdf(N, horizon, fraction, "unbiased"),
    }


@answer("ex-11-human-pool")
def human_pool() -> dict:
    """Chapter 11, problem 2 (answered in chapter 07): 5% fixed human data for 10 generations."""
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


@answer("ex-11-rare-loss")
def rare_loss() -> dict:
    """Chapter 11, synthesis of chapters 03 and 07: when is a 1% component lost with probability 1/2?"""
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


@answer("ex-11-temperature")
def temperature() -> dict:
    """Chapter 11, synthesis of chapters 02 and 08: temperatures that offset problem 1's collapse."""
    tau_mean = N / (N - 1)
    tau_log = math.exp(-gaussian.log_variance_drift(N))
    fraction = LEVEL / SIGMA0_SQ
    return {
        "tau_mean": tau_mean,
        "tau_log": tau_log,
        "t_median_tau_mean": median_crossing(N, fraction, temperature=tau_mean),
        "expected_tau_mean": SIGMA0_SQ * (N - 1) / N,
        "t_horizon": TEMP_T,
        # generation 1 is fitted to real data; generations 2..T are sampled at temperature tau_log
        "expected_tau_log": SIGMA0_SQ * (N - 1) / N * (tau_log * (N - 1) / N) ** (TEMP_T - 1),
        "p_below_tau_log": variance_cdf(N, TEMP_T, 1.0, temperature=tau_log),
    }
