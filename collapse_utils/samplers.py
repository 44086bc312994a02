"""Temperature, top-k and nucleus (top-p) sampling: one filter for every model (chapter 10).

Chapter 10, "Mitigations: sampling and diversity", puts the decoding rule inside
the retraining loop. The same filter serves the language model of chapter 06
(:func:`filter_logits`, on logits, used by ``collapse_utils.families.lm.sample``) and
the Zipf token distributions of chapters 10 and 12 (:func:`filter_probs`, on a
probability vector, and :func:`sampler`, the ``transform`` hook of
``collapse_utils.exact.zipf.simulate_generations``).

torch is imported inside the functions that need it, so importing this module
(as chapter 10's answers do) works without torch; the filters themselves need it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from collapse_utils.checks import check_int, check_positive

if TYPE_CHECKING:
    import torch

__all__ = ["filter_logits", "filter_probs", "sampler", "Decoding"]


def _check_top_p(top_p):
    if top_p is not None and (isinstance(top_p, bool) or not isinstance(top_p, (int, float)) or not 0 < top_p <= 1):
        raise ValueError(f"top_p must be a number in (0, 1] or None; got {top_p!r}")


def filter_logits(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
                  top_p: float | None = None) -> torch.Tensor:
    """Logits divided by ``temperature``, with every token outside the ``top_k``
    most probable, or outside the smallest set whose probability reaches
    ``top_p``, set to -inf (chapters 06 and 10). Works on the last axis; keeps a
    floating dtype (float32 otherwise). Ties at the k-th logit are all kept.

    Book: {prf:ref}`def-10-sampling`
    """
    import torch

    temperature = check_positive("temperature", temperature)
    if top_k is not None:
        top_k = check_int("top_k", top_k, 1)
    _check_top_p(top_p)
    logits = torch.as_tensor(logits)
    if not logits.is_floating_point():
        logits = logits.to(torch.float32)
    logits = logits / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None:
        ordered, order = torch.sort(logits, dim=-1, descending=True)
        probs = torch.softmax(ordered, dim=-1)
        drop = probs.cumsum(dim=-1) - probs >= top_p  # keep the token that crosses top_p
        logits = logits.masked_fill(torch.zeros_like(drop).scatter(-1, order, drop), float("-inf"))
    return logits


def filter_probs(p, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None) -> np.ndarray:
    """The distribution p^(1/temperature), renormalised and filtered by :func:`filter_logits`
    (same order: temperature first, then top-k, then top-p), as a float64 array (chapter 10).
    Tokens with p = 0 stay at 0.

    Book: {prf:ref}`def-10-sampling`
    """
    import torch

    arr = np.asarray(p, dtype=float)
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0) or arr.sum() <= 0:
        raise ValueError("p must be a non-empty 1-D array of non-negative numbers with a positive sum")
    with np.errstate(divide="ignore"):
        logits = torch.from_numpy(np.log(arr / arr.sum()))
    out = torch.softmax(filter_logits(logits, temperature, top_k, top_p), dim=-1).numpy()
    return out / out.sum()


def sampler(temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None):
    """``q -> filter_probs(q, temperature, top_k, top_p)``, checked now: the
    ``transform`` of ``collapse_utils.exact.zipf.simulate_generations`` (chapter 10).

    Book: {prf:ref}`def-10-sampling`
    """
    check_positive("temperature", temperature)
    if top_k is not None:
        check_int("top_k", top_k, 1)
    _check_top_p(top_p)

    def transform(q):
        return filter_probs(q, temperature, top_k, top_p)

    return transform


class Decoding:
    """A decoding rule as the loop's ``sampler=`` hook: temperature, then top-k, then top-p.

    ``Decoding(temperature=0.9)`` called as ``decoding(family, model, k, rng)``
    draws ``family.sample(model, k, rng, decoding=self)``; the family applies
    :meth:`probs` to a probability vector or :meth:`logits` to logits. A family
    whose ``sample`` takes no ``decoding`` keyword gets a clear error.

    Book: {prf:ref}`def-10-sampling`
    """

    def __init__(self, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None):
        self.temperature = check_positive("temperature", temperature)
        self.top_k = None if top_k is None else check_int("top_k", top_k, 1)
        _check_top_p(top_p)
        self.top_p = top_p

    def probs(self, p) -> np.ndarray:
        """:func:`filter_probs` of ``p`` under this rule."""
        return filter_probs(p, self.temperature, self.top_k, self.top_p)

    def logits(self, logits: torch.Tensor) -> torch.Tensor:
        """:func:`filter_logits` of ``logits`` under this rule."""
        return filter_logits(logits, self.temperature, self.top_k, self.top_p)

    def __call__(self, family, model, k: int, rng: np.random.Generator):
        import inspect

        try:
            takes = "decoding" in inspect.signature(family.sample).parameters
        except (TypeError, ValueError):
            takes = True
        if not takes:
            raise ValueError(
                f"{type(family).__name__}.sample takes no decoding= keyword, so it cannot apply {self!r}; "
                f"use a family that supports decoding rules (families.zipf.ZipfFamily, families.lm.LMFamily)"
            )
        return family.sample(model, k, rng, decoding=self)

    def __repr__(self) -> str:
        return f"Decoding(temperature={self.temperature!r}, top_k={self.top_k!r}, top_p={self.top_p!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Decoding) and repr(self) == repr(other)

    def __hash__(self) -> int:
        return hash(repr(self))
