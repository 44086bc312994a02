"""A categorical distribution (mixture weights with perfectly identified components), refitted by counts.

Its weights follow the neutral Wright–Fisher chain whose exact laws are in
:mod:`collapse_utils.exact.categorical`; the options ``min_count``, ``oversample`` and
``rare`` are the data-pipeline variants documented there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from collapse_utils.checks import check_int
from collapse_utils.exact.categorical import check_pipeline, effective_counts, weights_of

__all__ = ["CategoricalModel", "CategoricalFamily"]


@dataclass(frozen=True)
class CategoricalModel:
    """Mixture weights over K components (labels 0..K-1).

    Book: {prf:ref}`def-03-mixture`
    """

    weights: tuple[float, ...]


class CategoricalFamily:
    """Mixture weights for :func:`collapse_utils.loop.run` (chapter 03).

    Data are integer labels (which component each sample came from); ``fit``
    returns their empirical frequencies, after the optional data pipeline
    (``min_count``, ``oversample``, ``rare`` as in :func:`simulate_weights`),
    and ``sample`` draws labels with those frequencies. Under the ``replace``
    policy this is the Wright–Fisher chain that :func:`simulate_weights`
    simulates directly.

    Book: {prf:ref}`thm-03-wright-fisher`
    """

    def __init__(self, k: int, *, min_count: int = 1, oversample: float = 1.0, rare: float = 0.1):
        self.k = check_int("k", k, 2)
        self._opts = (min_count, oversample, rare)
        check_pipeline(1, 1, 1, oversample, rare)
        check_int("min_count", min_count, 1)

    def fit(self, data, rng: np.random.Generator | None = None, *, generation: int | None = None) -> CategoricalModel:
        labels = np.asarray(data)
        if labels.ndim != 1 or labels.size == 0 or labels.dtype.kind not in "iu":
            raise ValueError(f"data must be a non-empty 1-D array of integer labels, got {data!r}")
        if labels.min() < 0 or labels.max() >= self.k:
            raise ValueError(f"labels must be in 0..{self.k - 1}")
        counts = np.bincount(labels, minlength=self.k)
        n = labels.size
        opts = check_pipeline(n, self.k, *self._opts)
        weights = weights_of(effective_counts(counts, n, *opts))
        return CategoricalModel(tuple(float(x) for x in weights))

    def sample(self, model: CategoricalModel, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.choice(self.k, size=n, p=np.asarray(model.weights))

    def __repr__(self) -> str:
        m, c, r = self._opts
        return f"CategoricalFamily(k={self.k}, min_count={m}, oversample={c}, rare={r})"


