"""A family that changes every generation: generation t is fitted with ``families[t % K]``.

Its models are :class:`CycleModel` records (the family's index and the fitted model), so
``sample`` dispatches to the family that fitted them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from collapse_utils.checks import check_int

__all__ = ["CycleModel", "CycleFamily"]


@dataclass(frozen=True)
class CycleModel:
    """A model fitted by family ``index`` of a :class:`CycleFamily` (chapter 14).

    When the wrapped ``model`` is one-dimensional, the cycle model has its methods:
    ``pdf``, ``logpdf``, ``cdf``, ``mean`` and ``var`` delegate to it.

    Book: {ref}`prop-14-families`
    """

    index: int
    model: Any

    def pdf(self, x) -> np.ndarray:
        return self.model.pdf(x)

    def logpdf(self, x) -> np.ndarray:
        return self.model.logpdf(x)

    def cdf(self, x) -> np.ndarray:
        return self.model.cdf(x)

    @property
    def mean(self) -> float:
        return self.model.mean

    @property
    def var(self) -> float:
        return self.model.var


class CycleFamily:
    """Use another model family at each generation, in turn (chapter 14).

    Generation t is fitted with ``families[t % len(families)]``. The
    families must accept each other's samples (for example 1-D ``GMMFamily``,
    ``KDEFamily`` and ``HistogramFamily``, which all sample arrays of shape (n, 1)).
    ``fit`` needs the generation, which :func:`collapse_utils.loop.run` passes to every fit.

    Book: {ref}`prop-14-families`
    """

    def __init__(self, families):
        families = list(families) if not isinstance(families, (str, bytes)) else []
        if len(families) < 1 or not all(hasattr(f, "fit") and hasattr(f, "sample") for f in families):
            raise ValueError(f"families must be a non-empty list of model families (fit and sample); got {families!r}")
        self.families = families

    def index(self, generation: int) -> int:
        """Which family fits generation ``generation``.

        Book: {ref}`prop-14-families`
        """
        generation = check_int("generation", generation, 0)
        return generation % len(self.families)

    def fit(self, data, rng: np.random.Generator, *, generation: int | None = None) -> CycleModel:
        if generation is None:
            raise ValueError(
                "generation is required: CycleFamily.fit(data, rng, generation=t) fits generation t "
                "with families[t % K] (loop.run passes generation= to every fit)"
            )
        i = self.index(generation)
        return CycleModel(i, self.families[i].fit(data, rng, generation=generation))

    def sample(self, model: CycleModel, n: int, rng: np.random.Generator):
        if not isinstance(model, CycleModel):
            raise ValueError(f"model must be a CycleModel; got {type(model).__name__}")
        return self.families[model.index].sample(model.model, n, rng)

    def __repr__(self) -> str:
        return f"CycleFamily({self.families!r})"


