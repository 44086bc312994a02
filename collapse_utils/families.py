"""Alternating model families across generations, and 1-D model summaries (chapter 10).

:class:`CycleFamily` fits generation t with ``families[t % K]``: with
``loop.run(..., real=...)`` generation 0, the model fitted to the real data,
uses the first family (with ``initial_model=`` the truth must itself be a
``CycleModel``). It needs the generation, which
:func:`collapse_utils.loop.run` passes to families that set
``fit_needs_generation = True``. Its models are :class:`CycleModel` records
(the family's index and the fitted model), so ``sample`` dispatches to the
family that fitted them.

:func:`cdf`, :func:`pdf`, :func:`logpdf`, :func:`variance` and :func:`mass_outside` summarise a
fitted one-dimensional model of any family of the book (a 1-D
``GMMModel``, ``GaussianModel``, ``KDEModel``, ``HistogramModel`` or a
``CycleModel`` wrapping one) in closed form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

from collapse_utils.checks import check_int, check_number
from collapse_utils.gaussian import GaussianModel
from collapse_utils.gmm import GMMModel
from collapse_utils.nonparametric import HistogramModel, KDEModel

__all__ = ["CycleModel", "CycleFamily", "cdf", "pdf", "logpdf", "variance", "mass_outside", "total_variation"]


@dataclass(frozen=True)
class CycleModel:
    """A model fitted by family ``index`` of a :class:`CycleFamily` (chapter 10)."""

    index: int
    model: Any


class CycleFamily:
    """Use another model family at each generation, in turn (chapter 10).

    Generation t is fitted with ``families[t % len(families)]``. The
    families must accept each other's samples (for example 1-D ``GMMFamily``,
    ``KDEFamily`` and ``HistogramFamily``, which all sample arrays of shape (n, 1)).
    """

    fit_needs_generation = True

    def __init__(self, families):
        families = list(families) if not isinstance(families, (str, bytes)) else []
        if len(families) < 1 or not all(hasattr(f, "fit") and hasattr(f, "sample") for f in families):
            raise ValueError(f"families must be a non-empty list of model families (fit and sample); got {families!r}")
        self.families = families

    def index(self, generation: int) -> int:
        """Which family fits generation ``generation``."""
        generation = check_int("generation", generation, 0)
        return generation % len(self.families)

    def fit(self, data, rng: np.random.Generator, generation: int | None = None) -> CycleModel:
        if generation is None:
            raise ValueError("generation is required: CycleFamily.fit(data, rng, generation=t) (loop.run passes it)")
        i = self.index(generation)
        return CycleModel(i, self.families[i].fit(data, rng))

    def sample(self, model: CycleModel, n: int, rng: np.random.Generator):
        if not isinstance(model, CycleModel):
            raise ValueError(f"model must be a CycleModel; got {type(model).__name__}")
        return self.families[model.index].sample(model.model, n, rng)

    def __repr__(self) -> str:
        return f"CycleFamily({self.families!r})"


# --- closed-form summaries of 1-D models (chapter 10) ---------------------------------------


def _unwrap(model):
    while isinstance(model, CycleModel):
        model = model.model
    if isinstance(model, GMMModel):
        if model.dim != 1:
            raise ValueError(f"model must be one-dimensional; got a GMMModel of dimension {model.dim}")
        return model
    if isinstance(model, (GaussianModel, KDEModel, HistogramModel)):
        return model
    raise ValueError(
        "model must be a 1-D GMMModel, GaussianModel, KDEModel, HistogramModel or CycleModel; "
        f"got {type(model).__name__}"
    )


def _gmm_parts(model: GMMModel):
    return model.weights, model.means[:, 0], np.sqrt(model.covariances[:, 0, 0])


def cdf(model, x) -> np.ndarray:
    """The model's distribution function at the points ``x`` (chapter 10)."""
    model = _unwrap(model)
    x = np.atleast_1d(np.asarray(x, dtype=float))
    if isinstance(model, GMMModel):
        w, m, s = _gmm_parts(model)
        return stats.norm.cdf((x[:, None] - m) / s) @ w
    if isinstance(model, GaussianModel):
        return stats.norm.cdf(x, model.mean, np.sqrt(model.var))
    return model.cdf(x)


def pdf(model, x) -> np.ndarray:
    """The model's density at the points ``x`` (chapter 10)."""
    model = _unwrap(model)
    x = np.atleast_1d(np.asarray(x, dtype=float))
    if isinstance(model, GMMModel):
        return model.pdf(x[:, None])
    if isinstance(model, GaussianModel):
        return stats.norm.pdf(x, model.mean, np.sqrt(model.var))
    return model.pdf(x)


def logpdf(model, x) -> np.ndarray:
    """The model's log-density at the points ``x``, computed in log space for
    mixtures so that far-away points get a finite value (chapter 10)."""
    model = _unwrap(model)
    x = np.atleast_1d(np.asarray(x, dtype=float))
    if isinstance(model, GMMModel):
        w, m, s = _gmm_parts(model)
        with np.errstate(divide="ignore"):
            return special.logsumexp(stats.norm.logpdf(x[:, None], m, s) + np.log(w), axis=1)
    if isinstance(model, GaussianModel):
        return stats.norm.logpdf(x, model.mean, np.sqrt(model.var))
    if isinstance(model, KDEModel):
        return model.kde.logpdf(x)
    with np.errstate(divide="ignore"):
        return np.log(model.pdf(x))


def variance(model) -> float:
    """The variance of the model's distribution (chapter 10)."""
    model = _unwrap(model)
    if isinstance(model, GMMModel):
        w, m, s = _gmm_parts(model)
        mean = w @ m
        return float(w @ (s**2 + (m - mean) ** 2))
    if isinstance(model, GaussianModel):
        return float(model.var)
    return model.var()


def mass_outside(model, low: float, high: float) -> float:
    """P(X < low) + P(X > high) under the model (chapter 10)."""
    low = check_number("low", low)
    high = check_number("high", high)
    if not low < high:
        raise ValueError(f"low must be below high; got low={low!r}, high={high!r}")
    c = cdf(model, [low, high])
    return float(c[0] + 1.0 - c[1])


def total_variation(model, reference, grid) -> float:
    """Total variation distance between two 1-D models, ``1 - int min(p, q)``, by the
    trapezoidal rule on ``grid``, an increasing array that must hold (nearly) all of
    the ``reference``'s mass; the model's mass outside the grid is then counted
    correctly (chapter 10)."""
    g = np.asarray(grid, dtype=float)
    if g.ndim != 1 or len(g) < 2 or not np.all(np.diff(g) > 0):
        raise ValueError(f"grid must be an increasing 1-D array of at least 2 points; got shape {g.shape}")
    return float(1.0 - np.trapezoid(np.minimum(pdf(model, g), pdf(reference, g)), g))
