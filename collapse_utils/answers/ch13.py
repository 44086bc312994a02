"""Numeric answers of chapter 13's exercises ("Synthetic data in the scaling law")."""

from __future__ import annotations

import numpy as np
from scipy import optimize

from collapse_utils.answers import answer
from collapse_utils.exact import strong_collapse


def fixed_count_error(n_real: int, n_syn: int, dim: int, noise: float, gen_error: float) -> float:
    """Exact error of least squares on n_real real and exactly n_syn synthetic points (thm-13-mixed, q fixed)."""
    n = n_real + n_syn
    q = n_syn / n
    k = strong_collapse.spread_factor(n, dim)
    return noise**2 * dim / (n - dim - 1) + gen_error * (q**2 + q * (1 - q) * k)


@answer("ex-13-onset")
def onset():
    """Chapter 13: floor and onset for a 1% synthetic share from a fixed generator."""
    dim, noise, c2, share = 10, 1.0, 0.5, 0.01
    n_star = strong_collapse.onset(dim, share, noise, c2)
    floor = strong_collapse.floor(share, c2)
    at_onset = strong_collapse.mixed_error(int(n_star), dim, share, noise, c2)
    far = strong_collapse.mixed_error(100 * int(n_star), dim, share, noise, c2)
    real_far = noise**2 * dim / (100 * int(n_star) - dim - 1)
    return {
        "dim": dim,
        "c2": c2,
        "share": share,
        "floor": floor,
        "n_star": n_star,
        "at_onset": at_onset,
        "ratio_onset": at_onset / floor,
        "far": far,
        "ratio_far": far / floor,
        "real_far": real_far,
        "loss_far": far / real_far,
    }


@answer("ex-13-add-synthetic")
def add_synthetic():
    """Chapter 13: how many synthetic points to add to 1,000 real ones, for two generators."""
    n_real, dim, noise = 1000, 10, 1.0
    out = {"n_real": n_real, "dim": dim, "real_only": fixed_count_error(n_real, 0, dim, noise, 0.0)}
    for key, c2 in (("good", 0.05), ("bad", 2.0)):
        grid = np.arange(0, 20 * n_real + 1)
        errors = np.array([fixed_count_error(n_real, int(m), dim, noise, c2) for m in grid])
        best = int(np.argmin(errors))
        out |= {f"c2_{key}": c2, f"best_{key}": best, f"error_{key}": float(errors[best]),
                f"gain_{key}": out["real_only"] / float(errors[best])}
    # the threshold on c^2 below which a first synthetic point helps (large n_real): noise^2 d / (d + 1)
    out["threshold"] = noise**2 * dim / (dim + 1)
    return out


def isotropic_ridge_error(lam: float, t: int, samples: int, dim: int, noise: float, signal: float) -> float:
    """prop-13-ridge with X^T X = samples * I and ||w*||^2 = signal."""
    a = samples / (samples + lam)
    variance = noise**2 * dim * samples / (samples + lam) ** 2
    geometric = t if lam == 0 else (1 - a ** (2 * t)) / (1 - a**2)
    return signal * (1 - a**t) ** 2 + variance * geometric


@answer("ex-13-ridge")
def ridge():
    """Chapter 13: the best ridge penalty after t generations of replacement (isotropic design)."""
    samples, dim, noise = 100, 10, 1.0
    signal = float(dim)  # E||w*||^2 for w* ~ N(0, I)
    out = {"samples": samples, "dim": dim}
    for t in (1, 10, 50):
        res = optimize.minimize_scalar(lambda x, t=t: isotropic_ridge_error(np.exp(x), t, samples, dim, noise, signal),
                                       bounds=(-10, 12), method="bounded", options={"xatol": 1e-10})
        lam = float(np.exp(res.x))
        out |= {f"lam_{t}": lam, f"err_{t}": isotropic_ridge_error(lam, t, samples, dim, noise, signal),
                f"ols_{t}": isotropic_ridge_error(0.0, t, samples, dim, noise, signal)}
    return out


@answer("ex-13-one-round")
def one_round():
    """Chapter 13: a refitted generator against a frozen one of the same quality at n = 100."""
    dim, noise, share, n_small, n_big = 10, 1.0, 0.9, 100, 10**6
    frozen = strong_collapse.generator_error(n_small, dim, noise)
    out = {"dim": dim, "share": share, "n_small": n_small, "n_big": n_big, "frozen_c2": frozen}
    for key, n in (("small", n_small), ("big", n_big)):
        real = noise**2 * dim / (n - dim - 1)
        refit = strong_collapse.mixed_error(n, dim, share, noise, generator_n=n)
        fixed = strong_collapse.mixed_error(n, dim, share, noise, frozen)
        out |= {f"refit_ratio_{key}": refit / real, f"frozen_ratio_{key}": fixed / real}
    return out
