"""Curation by a reward in the retraining loop (chapter 11).

Each generation keeps the samples a reward prefers. :class:`Curator` is the
``sampler=`` hook: for every training point it draws ``k`` candidates from the
model and keeps one, chosen with probability proportional to exp(r(x)) (the
Bradley-Terry / Luce choice among k; a constant reward chooses uniformly, i.e.
no curation). For large k the kept point has density p(x) e^{r(x)} / E_p[e^r].

For a Gaussian mixture and the quadratic reward r(x) = -beta |x - c|^2 / 2 the
tilt p e^{j r} is again a Gaussian mixture, so the population dynamics are
exact: :func:`tilt` (one tilt), :func:`curated_population` (t generations,
optionally with a share of real data each generation), and measures of the
result (:func:`expected_reward`, :func:`total_variance`, :func:`modes_kept`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special

from collapse_utils.checks import check_int, check_number, check_positive
from collapse_utils.families.gmm import GMMModel, check_model

__all__ = [
    "QuadraticReward",
    "Curator",
    "luce_choice",
    "tilt",
    "curated_population",
    "expected_reward",
    "total_variance",
    "modes_kept",
]


@dataclass(frozen=True)
class QuadraticReward:
    """r(x) = -beta |x - centre|^2 / 2: maximal at ``centre`` (chapter 11).

    Book: {prf:ref}`prop-11-curation`
    """

    centre: tuple
    beta: float

    def __post_init__(self):
        check_positive("beta", self.beta)
        c = np.asarray(self.centre, dtype=float)
        if c.ndim != 1 or not np.all(np.isfinite(c)):
            raise ValueError(f"centre must be a finite point (a 1-D sequence of numbers); got {self.centre!r}")

    def __call__(self, x) -> np.ndarray:
        x = np.atleast_2d(np.asarray(x, dtype=float))
        return -0.5 * self.beta * np.sum((x - np.asarray(self.centre, dtype=float)) ** 2, axis=1)


def luce_choice(rewards, rng: np.random.Generator) -> np.ndarray:
    """Per row of ``rewards`` (m x k), the index chosen with probability softmax(row) (chapter 11).

    Book: {prf:ref}`prop-11-curation`
    """
    r = np.asarray(rewards, dtype=float)
    if r.ndim != 2 or r.shape[1] < 1 or not np.all(np.isfinite(r)):
        raise ValueError(f"rewards must be a finite (m, k) array with k >= 1; got shape {r.shape}")
    p = np.exp(r - r.max(axis=1, keepdims=True))
    cum = np.cumsum(p, axis=1)
    u = rng.random((len(r), 1)) * cum[:, -1:]
    return np.minimum((cum < u).sum(axis=1), r.shape[1] - 1)


@dataclass(frozen=True)
class Curator:
    """``sampler=`` hook: each kept point is the Luce choice among ``k`` model draws (chapter 11).

    reward: a function of an (m, d) array returning m rewards; k: candidates per
    kept point (``k=1`` is no curation).

    Book: {prf:ref}`prop-11-curation`
    """

    reward: Callable
    k: int

    def __post_init__(self):
        if not callable(self.reward):
            raise ValueError(f"reward must be callable; got {self.reward!r}")
        check_int("k", self.k, 1)

    def __call__(self, family, model, m: int, rng: np.random.Generator):
        candidates = np.asarray(family.sample(model, m * self.k, rng))
        rewards = np.asarray(self.reward(candidates), dtype=float).reshape(m, self.k)
        chosen = luce_choice(rewards, rng)
        return candidates[np.arange(m) * self.k + chosen]


def _isotropic(model: GMMModel) -> np.ndarray:
    cov = model.covariances
    var = cov[:, 0, 0]
    if not np.allclose(cov, var[:, None, None] * np.eye(model.dim)[None]):
        raise ValueError("model must have isotropic covariances (s^2 I) for the exact tilt")
    return var


def _log_tilt(model: GMMModel, reward: QuadraticReward, power: float):
    """Log-weights (unnormalised), means and variances of model * exp(power r)."""
    var = _isotropic(model)
    d = model.dim
    c = np.asarray(reward.centre, dtype=float)
    if power == 0:
        return np.log(model.weights), model.means.copy(), var.copy()
    v = 1.0 / (power * reward.beta)  # exp(power r) = (2 pi v)^{d/2} N(x; c, v I)
    tot = var + v
    dist2 = np.sum((model.means - c) ** 2, axis=1)
    logw = np.log(model.weights) - 0.5 * dist2 / tot - 0.5 * d * np.log(tot / v)
    means = (v * model.means + var[:, None] * c) / tot[:, None]
    return logw, means, var * v / tot


def tilt(model, reward: QuadraticReward, power: float = 1.0) -> GMMModel:
    """The mixture proportional to p(x) exp(power r(x)), exactly (chapter 11).

    Book: {prf:ref}`prop-11-curation`
    """
    model = check_model("model", model)
    power = check_number("power", power, 0.0)
    logw, means, var = _log_tilt(model, reward, power)
    w = np.exp(logw - special.logsumexp(logw))
    return GMMModel(w / w.sum(), means, var[:, None, None] * np.eye(model.dim)[None])


def curated_population(truth, reward: QuadraticReward, generations: int, real_fraction: float = 0.0) -> list[GMMModel]:
    """p_0..p_T of p_{t+1} = lam p_0 + (1 - lam) p_t e^r / E_{p_t}[e^r], exactly (chapter 11).

    The large-k limit of curation, with a share ``real_fraction`` of fresh real
    data each generation. p_t is a mixture of the tilts p_0 e^{j r}, j <= t.

    Book: {prf:ref}`prop-11-curation`
    """
    truth = check_model("truth", truth)
    generations = check_int("generations", generations, 0)
    lam = check_number("real_fraction", real_fraction, 0.0, 1.0)
    logz = [special.logsumexp(_log_tilt(truth, reward, j)[0]) for j in range(generations + 2)]
    coef = np.array([1.0])  # weight of the tilt j in p_t
    out = [truth]
    for _ in range(generations):
        grown = coef * np.exp(np.array(logz[1:len(coef) + 1]) - np.array(logz[:len(coef)]))
        coef = np.concatenate([[lam], (1 - lam) * grown / grown.sum()])
        parts = [tilt(truth, reward, j) for j in range(len(coef))]
        keep = coef > 0
        out.append(GMMModel(
            np.concatenate([c * p.weights for c, p, k in zip(coef, parts, keep) if k]),
            np.concatenate([p.means for p, k in zip(parts, keep) if k]),
            np.concatenate([p.covariances for p, k in zip(parts, keep) if k]),
        ))
    return out


def expected_reward(model, reward: QuadraticReward) -> float:
    """E_p[r(X)] for an isotropic mixture, exactly: -beta/2 sum_i w_i (|m_i - c|^2 + d s_i^2).

    Book: {prf:ref}`prop-11-curation`
    """
    model = check_model("model", model)
    var = _isotropic(model)
    dist2 = np.sum((model.means - np.asarray(reward.centre, dtype=float)) ** 2, axis=1)
    return float(-0.5 * reward.beta * np.sum(model.weights * (dist2 + model.dim * var)))


def total_variance(model) -> float:
    """Trace of the mixture's covariance: the spread of its samples (chapter 11).

    Book: {prf:ref}`prop-11-curation`
    """
    model = check_model("model", model)
    mean = model.weights @ model.means
    within = np.einsum("i,ijj->", model.weights, model.covariances)
    between = np.sum(model.weights * np.sum((model.means - mean) ** 2, axis=1))
    return float(within + between)


def modes_kept(points, mode_means, min_share: float = 0.01) -> int:
    """Number of ``mode_means`` that are nearest to at least ``min_share`` of ``points`` (chapter 11).

    Book: {prf:ref}`prop-11-curation`
    """
    x = np.atleast_2d(np.asarray(points, dtype=float))
    m = np.atleast_2d(np.asarray(mode_means, dtype=float))
    share = check_number("min_share", min_share, 0.0, 1.0)
    nearest = np.argmin(((x[:, None, :] - m[None]) ** 2).sum(axis=2), axis=1)
    return int(np.sum(np.bincount(nearest, minlength=len(m)) / len(x) >= share))
