"""Gaussian mixture models under iterative retraining (chapter 04, "Gaussian mixtures").

:class:`GMMFamily` is a model family for :func:`collapse_utils.loop.run`: each
generation refits a full-covariance ``sklearn.mixture.GaussianMixture`` (by
default with Shumailov et al.'s settings, tol 1e-5 and max_iter 2000) and
samples from the fitted mixture. Fitted models are plain :class:`GMMModel`
records (weights, means, covariances), so they pickle small and compare exactly.

In one dimension a :class:`GMMModel` has the methods of every 1-D model of the
book (``pdf``, ``logpdf``, ``cdf``, ``mean``, ``var``). :func:`ring_mixture` builds
well-separated modes on a circle, the minority-mode experiment's truth. What the
loop does to a mixture (L2 distance, component spread, modes recovered) is
measured in :mod:`collapse_utils.measures.distributions`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from collapse_utils.checks import check_int, check_positive, check_rng

__all__ = ["GMMModel", "sample_gmm", "GMMFamily", "ring_mixture", "check_model"]


def check_model(name: str, model) -> GMMModel:
    """``model`` if it is a :class:`GMMModel`, else a ``ValueError`` naming ``name``.

    Book: {prf:ref}`def-04-gmm`
    """
    if not isinstance(model, GMMModel):
        raise ValueError(f"{name} must be a GMMModel; got {type(model).__name__}")
    return model


@dataclass(frozen=True, eq=False)
class GMMModel:
    """A Gaussian mixture: ``weights`` (K,), ``means`` (K, d), ``covariances`` (K, d, d).

    Chapter 04. The weights must be non-negative and sum to 1; each covariance
    must be symmetric positive definite. The arrays are stored as read-only copies.
    In one dimension it has the methods of every 1-D model of the book: ``pdf``,
    ``logpdf``, ``cdf`` (arrays of numbers in, arrays out), ``mean`` and ``var``.

    Book: {ref}`def-04-gmm`
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    def __post_init__(self):
        w = np.array(self.weights, dtype=float).reshape(-1)
        m = np.array(self.means, dtype=float)
        c = np.array(self.covariances, dtype=float)
        k = len(w)
        if k == 0 or not np.all(np.isfinite(w)) or np.any(w < 0) or abs(w.sum() - 1) > 1e-8:
            raise ValueError(f"weights must be a non-empty vector of numbers >= 0 summing to 1; got {w}")
        if m.ndim != 2 or m.shape[0] != k or not np.all(np.isfinite(m)):
            raise ValueError(f"means must be a finite array of shape (K, d) with K = {k}; got shape {m.shape}")
        d = m.shape[1]
        if c.shape != (k, d, d) or not np.all(np.isfinite(c)):
            raise ValueError(f"covariances must be a finite array of shape ({k}, {d}, {d}); got shape {c.shape}")
        if not np.allclose(c, np.swapaxes(c, 1, 2), rtol=1e-8, atol=1e-12):
            raise ValueError("covariances must be symmetric")
        if np.any(np.linalg.eigvalsh(c)[:, 0] <= 0):
            raise ValueError("covariances must be positive definite")
        w = w / w.sum()
        for name, arr in (("weights", w), ("means", m), ("covariances", c)):
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @property
    def n_components(self) -> int:
        return len(self.weights)

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def _points(self, x) -> tuple[np.ndarray, bool]:
        # (points of shape (..., d), whether x was a 1-D model's array of numbers)
        x = np.asarray(x, dtype=float)
        if self.dim == 1 and x.ndim <= 1:
            return np.atleast_1d(x)[:, None], True
        if x.ndim == 0 or x.shape[-1] != self.dim:
            raise ValueError(f"x must have last dimension d = {self.dim}; got shape {x.shape}")
        return x, False

    def _one_d(self, what: str):
        # weights, means and standard deviations of a 1-D mixture
        if self.dim != 1:
            raise ValueError(f"{what} needs a one-dimensional GMMModel; this one has dimension {self.dim}")
        return self.weights, self.means[:, 0], np.sqrt(self.covariances[:, 0, 0])

    def pdf(self, x) -> np.ndarray:
        """The mixture density at the points ``x``: shape (..., d), result shape ``x.shape[:-1]``;
        in one dimension also an array of numbers, result shape ``np.atleast_1d(x).shape``."""
        x, _ = self._points(x)
        density = sum(
            w * stats.multivariate_normal(m, c).pdf(x)
            for w, m, c in zip(self.weights, self.means, self.covariances)
        )
        return np.reshape(density, x.shape[:-1])

    def logpdf(self, x) -> np.ndarray:
        """The log-density at ``x`` (shapes as :meth:`pdf`), computed in log space so that
        far-away points get a finite value."""
        x, numbers = self._points(x)
        log_w = np.log(self.weights)
        with np.errstate(divide="ignore"):
            if numbers:
                w, m, s = self._one_d("logpdf")
                return special.logsumexp(stats.norm.logpdf(x, m, s) + log_w, axis=1)
            parts = [stats.multivariate_normal(m, c).logpdf(x) for m, c in zip(self.means, self.covariances)]
            return special.logsumexp(np.stack(np.broadcast_arrays(*parts), axis=-1) + log_w, axis=-1)

    def cdf(self, x) -> np.ndarray:
        """The distribution function of a 1-D mixture at the numbers ``x``."""
        w, m, s = self._one_d("cdf")
        x = np.atleast_1d(np.asarray(x, dtype=float))
        return stats.norm.cdf((x[:, None] - m) / s) @ w

    @property
    def mean(self) -> float:
        """The mean of a 1-D mixture."""
        w, m, _ = self._one_d("mean")
        return float(w @ m)

    @property
    def var(self) -> float:
        """The variance of a 1-D mixture: within-component plus between-component variance."""
        w, m, s = self._one_d("var")
        return float(w @ (s**2 + (m - w @ m) ** 2))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GMMModel):
            return NotImplemented
        return all(
            np.array_equal(a, b)
            for a, b in zip(
                (self.weights, self.means, self.covariances),
                (other.weights, other.means, other.covariances),
            )
        )

    __hash__ = None

    def __repr__(self) -> str:
        return f"GMMModel(K={self.n_components}, d={self.dim}, weights={np.round(self.weights, 4)})"


def sample_gmm(model: GMMModel, n: int, rng: np.random.Generator, return_labels: bool = False):
    """``n`` draws from ``model`` with the generator ``rng`` (chapter 04).

    Component counts are one multinomial draw; the points are shuffled so that
    their order carries no information. With ``return_labels`` also returns the
    component of each point.

    Book: {ref}`def-04-gmm`
    """
    model = check_model("model", model)
    n = check_int("n", n, 0)
    rng = check_rng("rng", rng)
    counts = rng.multinomial(n, model.weights)
    labels = np.repeat(np.arange(model.n_components), counts)
    x = np.empty((n, model.dim))
    start = 0
    for k, count in enumerate(counts):
        if count:
            x[start:start + count] = rng.multivariate_normal(
                model.means[k], model.covariances[k], size=count, method="cholesky"
            )
            start += count
    order = rng.permutation(n)
    return (x[order], labels[order]) if return_labels else x[order]


class GMMFamily:
    """Full-covariance Gaussian mixture refitted by EM each generation (chapter 04).

    A thin wrapper of ``sklearn.mixture.GaussianMixture`` (k-means
    initialisation) whose ``random_state`` is drawn from the generation's numpy
    stream, so the retraining loop stays reproducible bit for bit. The defaults
    ``tol=1e-5`` and ``max_iter=2000`` are Shumailov et al.'s. ``sample`` draws
    from the fitted weights, means and covariances with the loop's generator
    (sklearn's own ``sample`` would use the estimator's random state instead).

    Book: {ref}`def-04-gmm`
    """

    def __init__(
        self,
        n_components: int = 2,
        *,
        tol: float = 1e-5,
        max_iter: int = 2000,
        n_init: int = 1,
        reg_covar: float = 1e-6,
    ):
        self.n_components = check_int("n_components", n_components, 1)
        self.tol = check_positive("tol", tol)
        self.max_iter = check_int("max_iter", max_iter, 1)
        self.n_init = check_int("n_init", n_init, 1)
        self.reg_covar = check_positive("reg_covar", reg_covar)

    def fit(self, data, rng: np.random.Generator, *, generation: int | None = None) -> GMMModel:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.mixture import GaussianMixture
        from threadpoolctl import threadpool_limits

        rng = check_rng("rng", rng)
        x = np.asarray(data, dtype=float)
        if x.ndim != 2 or len(x) < self.n_components or not np.all(np.isfinite(x)):
            raise ValueError(
                f"data must be a finite array of shape (n, d) with n >= n_components = "
                f"{self.n_components}; got shape {x.shape}"
            )
        estimator = GaussianMixture(
            n_components=self.n_components,
            covariance_type="full",
            tol=self.tol,
            max_iter=self.max_iter,
            n_init=self.n_init,
            reg_covar=self.reg_covar,
            random_state=int(rng.integers(2**32 - 1)),
        )
        # one thread: on these small problems, thread start-up (the k-means
        # initialisation uses OpenMP) costs more than the work, up to 10x on a busy machine
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            # collapsed data (duplicated points, fewer distinct points than
            # components) is part of what this chapter studies
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(x)
        return GMMModel(estimator.weights_, estimator.means_, estimator.covariances_)

    def sample(self, model: GMMModel, n: int, rng: np.random.Generator) -> np.ndarray:
        return sample_gmm(model, n, rng)

    def __repr__(self) -> str:
        return (
            f"GMMFamily(n_components={self.n_components}, tol={self.tol}, max_iter={self.max_iter}, "
            f"n_init={self.n_init}, reg_covar={self.reg_covar})"
        )


def ring_mixture(weights, radius: float = 6.0, std: float = 0.5) -> GMMModel:
    """A 2-D mixture of isotropic Gaussians (standard deviation ``std``) with means
    equally spaced on a circle of ``radius``, the first at angle 0 (chapter 04).

    Book: {ref}`def-04-modes`
    """
    w = np.asarray(weights, dtype=float).reshape(-1)
    if len(w) < 1 or not np.all(np.isfinite(w)) or np.any(w <= 0) or abs(w.sum() - 1) > 1e-8:
        raise ValueError(f"weights must be positive numbers summing to 1; got {weights!r}")
    radius = check_positive("radius", radius)
    std = check_positive("std", std)
    angles = 2 * np.pi * np.arange(len(w)) / len(w)
    means = radius * np.column_stack([np.cos(angles), np.sin(angles)])
    return GMMModel(w, means, np.repeat(std**2 * np.eye(2)[None], len(w), axis=0))


