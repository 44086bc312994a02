"""The Gaussian family whose samples carry a correctness flag (chapter 11).

Chapter 11's verifier needs to know which synthetic samples are correct;
:class:`LabelledGaussianFamily` is the MLE Gaussian of chapter 01 with samples
of shape (k, 2): the value and the flag, set by
:class:`collapse_utils.exact.verification.AccuracySampler`.
"""

from __future__ import annotations

import numpy as np

from collapse_utils.families.gaussian import GaussianFamily, GaussianModel

__all__ = ["LabelledGaussianFamily"]


class LabelledGaussianFamily:
    """The MLE Gaussian of chapter 01 whose samples carry a correctness flag (chapter 11).

    Samples are arrays of shape (k, 2): the value and a flag (1 = correct,
    0 = drawn from the model). ``fit`` uses the values only.

    Book: {prf:ref}`prop-11-verifier`
    """

    def __init__(self):
        self._base = GaussianFamily("mle")

    def fit(self, data, rng: np.random.Generator | None = None, *, generation: int | None = None) -> GaussianModel:
        data = np.asarray(data, dtype=float)
        if data.ndim != 2 or data.shape[1] != 2:
            raise ValueError(f"data must have shape (n, 2) (value, correct flag); got {data.shape}")
        return self._base.fit(data[:, 0], rng, generation=generation)

    def sample(self, model: GaussianModel, n: int, rng: np.random.Generator) -> np.ndarray:
        x = self._base.sample(model, n, rng)
        return np.column_stack([x, np.zeros(len(x))])

    def __repr__(self) -> str:
        return "LabelledGaussianFamily()"
