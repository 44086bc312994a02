"""Numeric answers of the exercises of chapter 04, "Gaussian mixtures"."""

from __future__ import annotations

import math

import numpy as np

from collapse_utils import loop
from collapse_utils.answers import answer
from collapse_utils.checks import check_int, check_number
from collapse_utils.families.gmm import GMMFamily, GMMModel, ring_mixture
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
    """Chapter 04: the L2 distance between 0.5 N(-a, 1) + 0.5 N(a, 1) and
    N(0, 1 + a^2), two densities with the same mean and variance, from the
    inner products of prop-04-l2.

    Book: {ref}`ex-04-l2-mixtures`
    """
    a = 1.0
    g_var = 1 + a**2
    f = GMMModel([0.5, 0.5], [[-a], [a]], [[[1.0]], [[1.0]]])
    g = GMMModel([1.0], [[0.0]], [[[g_var]]])
    ff = distributions.l2_inner(f, f)
    fg = distributions.l2_inner(f, g)
    gg = distributions.l2_inner(g, g)
    return {"a": a, "g_var": g_var, "ff": ff, "fg": fg, "gg": gg,
            "l2_squared": ff - 2 * fg + gg,
            "l2": distributions.l2_distance(f, g)}


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


def _first_loss(recovered: np.ndarray, generations: int) -> np.ndarray:
    """Per chain, the first generation at which a mode is not recovered
    (``recovered``: chains x generations); ``generations + 1`` if never."""
    lost = ~np.asarray(recovered, dtype=bool)
    return np.where(lost.any(axis=1), lost.argmax(axis=1), generations + 1)


def starts_loss(
    *,
    modes: int,
    minority_w: float,
    n: int,
    generations: int,
    chains: int,
    seed: int,
    real_fraction: float = 0.1,
    starts: tuple[int, ...] = (5, 1),
    cache: str | None = "04_modes",
    cache_root=None,
) -> dict[str, np.ndarray]:
    """Chapter 04: when the minority mode is lost, with 5 and with 1 k-means start.

    Runs the mode-counting experiment of the chapter (def-04-modes) under
    `replace` once per entry of ``starts`` (the ``n_init`` of the fit, with
    the chapter's ``tol=1e-3`` and ``max_iter=100``), on the same chains:
    chain i uses the i-th child of ``SeedSequence(seed)`` for every fitting,
    so generation 1 fits the same real draw. ``real_fraction`` is not used by
    `replace`; it is part of the chapter's cache key, so with the chapter's
    values the first fitting loads the chains the chapter ran (``cache``:
    the chapter's cache name, ``None`` for no cache).

    Returns arrays whose first axis follows ``starts``: ``loss`` (starts x
    chains), the first generation at which the minority mode is not
    recovered, or ``generations + 1`` (censored) when it is recovered to the
    end; ``lost``, whether it was lost; ``median``, ``lo`` and ``hi``, the
    median and the 10th and 90th percentiles of ``loss`` across chains (a
    censored chain counts as ``generations + 1``); ``lost_share``. And, for
    each later entry against the first, the share of chains that lost the mode
    ``earlier`` and ``later`` (``earlier[0] = later[0] = 0``).

    Book: {ref}`ex-04-starts`
    """
    modes = check_int("modes", modes, 2)
    minority_w = check_number("minority_w", minority_w, 0, 1, strict=True)
    if minority_w == 1:
        raise ValueError(f"minority_w must be a number in (0, 1); got {minority_w!r}")
    n = check_int("n", n, modes)
    generations = check_int("generations", generations, 1)
    chains = check_int("chains", chains, 3)
    seed = check_int("seed", seed, 0)
    real_fraction = check_number("real_fraction", real_fraction, 0, 1)
    if not (isinstance(starts, tuple) and starts and len(set(starts)) == len(starts)):
        raise ValueError(f"starts must be a tuple of distinct numbers of starts; got {starts!r}")
    starts = tuple(check_int("starts", k, 1) for k in starts)
    if cache is None and cache_root is not None:
        raise ValueError("cache_root needs cache=<name>")

    weights = np.r_[minority_w, np.full(modes - 1, (1 - minority_w) / (modes - 1))]
    ring = ring_mixture(weights, radius=6.0, std=0.5)
    radius = 2 * 6.0 * np.sin(np.pi / modes) / 3  # as in the chapter
    metrics = {
        "recovered": lambda step: distributions.modes_recovered(
            step.model, ring.means, radius),
        "model": lambda step: step.model,  # the chapter caches the models too
    }
    loss = []
    for k in starts:
        family = GMMFamily(modes, n_init=k, tol=1e-3, max_iter=100)
        key = {"n": n, "weights": weights.tolist(), "radius": radius,
               "policy": "replace", "real_fraction": real_fraction,
               "family": repr(family)}
        histories = loop.run_chains(
            chains, seed=seed, family=family, initial_model=ring, n=n,
            generations=generations, policy=loop.Replace(), metrics=metrics,
            cache=cache, cache_params=key if cache else None,
            cache_root=cache_root)
        minority = loop.stack(histories, "recovered")[:, :, 0]
        loss.append(_first_loss(minority, generations))
    loss = np.array(loss)
    lo, median, hi = np.quantile(loss, [0.1, 0.5, 0.9], axis=1)
    return {
        "starts": np.array(starts),
        "loss": loss,
        "lost": loss <= generations,
        "median": median,
        "lo": lo,
        "hi": hi,
        "lost_share": (loss <= generations).mean(axis=1),
        "earlier": (loss < loss[0]).mean(axis=1),
        "later": (loss > loss[0]).mean(axis=1),
    }
