"""Numeric answers of chapter 07's exercises ("Diffusion models in the self-consuming loop")."""

from __future__ import annotations

from collapse_utils.answers import answer
from collapse_utils.exact import guidance


@answer("ex-07-tilt")
def tilt():
    """Chapter 07: one guided class, N(1, 0.5^2) against N(0, 1.5^2), w = 1."""
    mu, s, m, S, w = 1.0, 0.5, 0.0, 1.5, 1.0
    mean, var = guidance.tilt_gaussian(mu, s**2, m, S**2, w)
    return {
        "mu": mu,
        "s": s,
        "m": m,
        "sd_all": S,
        "w": w,
        "lam": 1 / (1 + w),
        "mean": mean,
        "sd": var**0.5,
        "ratio": var / s**2,
    }


@answer("ex-07-halve")
def halve():
    """Chapter 07: the guidance weight that halves a mode's standard deviation in five generations."""
    s, S, t = 0.1, 2**0.5, 5  # a ring mode (std 0.1) inside the ring (variance 2 per coordinate)
    s2, S2 = s**2, S**2
    # 1/s_t^2 - 1/S^2 = (1 + w)^t (1/s^2 - 1/S^2) with s_t = s / 2
    growth = (4 / s2 - 1 / S2) / (1 / s2 - 1 / S2)
    w = growth ** (1 / t) - 1
    naive = 4 ** (1 / t) - 1  # ignoring the unconditional density: lambda^t = 1/4
    return {
        "s": s,
        "sd_all": S,
        "t": t,
        "w": w,
        "lam": 1 / (1 + w),
        "naive": naive,
        "w1_sd": float(guidance.iterate_tilt(s2, S2, 1.0, t)[-1] ** 0.5),
    }


@answer("ex-07-finite")
def finite():
    """Chapter 07: what finite sampling alone takes from a mode's variance in five generations."""
    n, k, t = 500, 8, 5
    m = n / k  # points per mode, on average
    kept = ((m - 1) / m) ** t  # E[s_t^2] / s^2 for a maximum-likelihood refit (chapter 02)
    return {"n": n, "k": k, "t": t, "m": m, "kept": kept, "sd_kept": kept**0.5}
