"""Zipf tokens as a family of the loop: the model is a probability vector over ranks (chapter 10).

Chapter 10 retrains the Zipf token distribution of chapter 12 on its own samples
under a sampling rule: :class:`ZipfFamily` fits the empirical frequencies of its
tokens, and samples through a decoding rule (the loop's ``sampler=``,
:class:`collapse_utils.samplers.Decoding`, or :class:`Oversample`), whose
``.probs`` gives the distribution the tokens are drawn from. :func:`zipf_metrics`
records the share of the vocabulary present, the missing mass and the quality.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from collapse_utils.checks import check_int, check_number
from collapse_utils.exact import zipf

__all__ = ["TOKEN_DTYPE", "ZipfFamily", "Oversample", "zipf_metrics"]

#: Tokens with the importance weight of their draw (``model / source`` at the token).
TOKEN_DTYPE = np.dtype([("token", np.int64), ("weight", np.float64)])


@dataclass(frozen=True)
class ZipfFamily:
    """Distributions over ``vocab`` ranks, fitted by their empirical frequencies (chapter 10).

    ``sample(model, n, rng, decoding=None)`` draws ``n`` tokens from
    ``decoding.probs(model)`` (from ``model`` without a rule) as an array of
    :data:`TOKEN_DTYPE`: each token with its importance weight
    ``model[token] / source[token]``. ``fit(tokens, rng, *, generation=None)``
    returns the empirical frequencies of the tokens (plain int tokens work too)
    or, with ``reweight=True``, the importance-weighted frequencies, which undo
    the rule in expectation on the tokens it keeps.

    Book: {ref}`sec-10-zipf`
    """

    vocab: int
    reweight: bool = False

    def __post_init__(self):
        check_int("vocab", self.vocab, 1)
        if not isinstance(self.reweight, bool):
            raise ValueError(f"reweight must be True or False; got {self.reweight!r}")

    def counts(self, data) -> np.ndarray:
        """How often each rank occurs in ``data`` (tokens, plain or with weights)."""
        tokens = self._tokens(data)
        return np.bincount(tokens, minlength=self.vocab)

    def _tokens(self, data) -> np.ndarray:
        arr = np.asarray(data)
        tokens = arr["token"] if arr.dtype.names else arr
        if tokens.ndim != 1 or not np.issubdtype(tokens.dtype, np.integer):
            raise ValueError(f"data must be a 1-D array of integer tokens; got dtype {tokens.dtype}, "
                             f"shape {tokens.shape}")
        if len(tokens) and (tokens.min() < 0 or tokens.max() >= self.vocab):
            raise ValueError(f"tokens must lie in 0..{self.vocab - 1}")
        return tokens

    def fit(self, data, rng: np.random.Generator, *, generation: int | None = None) -> np.ndarray:
        tokens = self._tokens(data)
        if len(tokens) == 0:
            raise ValueError("data must hold at least one token")
        arr = np.asarray(data)
        if self.reweight:
            if not arr.dtype.names:
                raise ValueError("reweight=True needs tokens with their weights (ZipfFamily.sample's output)")
            w = np.bincount(tokens, weights=arr["weight"], minlength=self.vocab)
            return w / w.sum()
        return np.bincount(tokens, minlength=self.vocab) / len(tokens)

    def source(self, model, decoding=None) -> np.ndarray:
        """The distribution ``model`` draws its tokens from under ``decoding`` (a ``.probs`` rule)."""
        q = np.asarray(model, dtype=float)
        if q.shape != (self.vocab,):
            raise ValueError(f"model must be a probability vector of length {self.vocab}; got shape {q.shape}")
        return zipf.apply_transform(q, None if decoding is None else decoding.probs)

    def sample(self, model, n: int, rng: np.random.Generator, decoding=None) -> np.ndarray:
        n = check_int("n", n, 0)
        q = np.asarray(model, dtype=float)
        s = self.source(q, decoding)
        counts = rng.multinomial(n, s)
        out = np.empty(n, dtype=TOKEN_DTYPE)
        out["token"] = rng.permutation(np.repeat(np.arange(self.vocab), counts))
        out["weight"] = q[out["token"]] / s[out["token"]]
        return out

    def real(self, p, decoding=None):
        """``real(k, rng)`` for :func:`collapse_utils.loop.run`: k tokens the truth ``p``
        writes under ``decoding``, so that generation 1 learns from ``decoding.probs(p)``
        as every later generation learns from its predecessor's rule."""
        def draw(k: int, rng: np.random.Generator) -> np.ndarray:
            return self.sample(p, k, rng, decoding)

        return draw


class Oversample:
    """A decoding rule that mixes the model with the uniform distribution over the
    tokens it knows: ``(1 - rho) q + rho 1[q > 0] / #{q > 0}`` (chapter 10). A
    ``sampler=`` of the loop, like :class:`collapse_utils.samplers.Decoding`.

    Book: {ref}`sec-10-oversampling`
    """

    def __init__(self, rho: float):
        self.rho = check_number("rho", rho, 0, 1)

    def probs(self, q) -> np.ndarray:
        """The oversampled distribution of ``q``."""
        q = np.asarray(q, dtype=float)
        known = (q > 0).astype(float)
        return (1 - self.rho) * q + self.rho * known / known.sum()

    def __call__(self, family, model, k: int, rng: np.random.Generator):
        return family.sample(model, k, rng, decoding=self)

    def __repr__(self) -> str:
        return f"Oversample(rho={self.rho!r})"


def zipf_metrics(p) -> dict:
    """Chapter 10's measurements of a Zipf chain against the truth ``p``, as loop metrics.

    ``present``: the share of the vocabulary in the generation's training tokens;
    ``missing``: the missing mass :func:`collapse_utils.exact.zipf.test_error`
    of those tokens; ``quality``: the mean log p of the model's tokens plus the
    entropy H(p), ``sum_i q_i log p_i + H(p)`` (0 for the truth). Generation 0,
    the truth itself (``data`` is ``None``), has 1, 0 and 0.

    Book: {ref}`sec-10-zipf`
    """
    p = zipf.apply_transform(p, None)
    log_p = np.log(np.where(p > 0, p, 1.0))
    entropy = float(-(p * log_p).sum())

    family = ZipfFamily(len(p))

    def counts(step):
        return family.counts(step.data)

    return {
        "present": lambda step: 1.0 if step.data is None else float((counts(step) > 0).mean()),
        "missing": lambda step: 0.0 if step.data is None else float(zipf.test_error(p, counts(step))),
        "quality": lambda step: 0.0 if step.data is None else float(np.asarray(step.model) @ log_p + entropy),
    }
