"""Scores of word sequences under an n-gram model, and a perplexity verifier (chapter 11).

:func:`sequence_logprob` gives the log-probability of every sequence under an
:class:`collapse_utils.families.ngram.NGramModel` at once (vectorised, the same
probabilities as ``NGramModel.probabilities``); :func:`sequence_perplexity`
divides by the number of predicted tokens (words and the end token).
:class:`PerplexityVerifier` is a ``filter=`` hook of the retraining loop: it
accepts a generated sequence when its perplexity under a reference model fitted
to real text is at most a threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from collapse_utils.checks import check_positive
from collapse_utils.families.ngram import NGramModel

__all__ = ["sequence_logprob", "sequence_perplexity", "PerplexityVerifier"]


def _lookup(sorted_keys: np.ndarray, values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    if len(sorted_keys) == 0:
        return np.zeros(len(queries), dtype=float)
    i = np.minimum(np.searchsorted(sorted_keys, queries), len(sorted_keys) - 1)
    return np.where(sorted_keys[i] == queries, values[i], 0).astype(float)


def sequence_logprob(model: NGramModel, sequences) -> tuple[np.ndarray, np.ndarray]:
    """Natural-log probability of each sequence (with its end token) and its number of predicted tokens.

    Book: {doc}`notebooks/11_verification_curation`
    """
    if not isinstance(model, NGramModel):
        raise ValueError(f"model must be an NGramModel; got {type(model).__name__}")
    seqs = [np.asarray(s, dtype=np.int64).ravel() for s in sequences]
    if not seqs:
        return np.empty(0), np.empty(0, dtype=np.int64)
    base, order, m = model.base, model.order, model.vocab_size + 1
    padded = [np.concatenate([np.full(order - 1, model.bos), s, [model.eos]]) for s in seqs]
    lengths = np.array([len(s) + 1 for s in seqs], dtype=np.int64)  # predicted tokens
    flat = np.concatenate(padded)
    owner = np.repeat(np.arange(len(seqs)), [len(p) for p in padded])
    windows = np.lib.stride_tricks.sliding_window_view(flat, order)
    keys = windows @ (base ** np.arange(order - 1, -1, -1, dtype=np.int64))
    same = owner[: len(windows)] == owner[order - 1:]
    keys, who = keys[same], owner[: len(windows)][same]
    count = _lookup(model.keys, model.counts, keys)
    total = _lookup(model.contexts, model.totals, keys // base)
    denom = total + model.k * m
    p = np.where(denom > 0, (count + model.k) / np.where(denom > 0, denom, 1.0), 1.0 / m)
    with np.errstate(divide="ignore"):
        logp = np.log(p)
    return np.bincount(who, weights=logp, minlength=len(seqs)), lengths


def sequence_perplexity(model: NGramModel, sequences) -> np.ndarray:
    """Per-token perplexity exp(-log p / tokens) of each sequence (``inf`` if impossible).

    Book: {doc}`notebooks/11_verification_curation`
    """
    logp, lengths = sequence_logprob(model, sequences)
    with np.errstate(over="ignore"):
        return np.exp(-logp / np.maximum(lengths, 1))


@dataclass(frozen=True)
class PerplexityVerifier:
    """``filter=`` hook: accepts the sequences whose perplexity under ``reference`` is at most ``threshold``.

    Book: {doc}`notebooks/11_verification_curation`
    """

    reference: NGramModel
    threshold: float

    def __post_init__(self):
        if not isinstance(self.reference, NGramModel):
            raise ValueError(f"reference must be an NGramModel; got {type(self.reference).__name__}")
        check_positive("threshold", self.threshold)

    def __call__(self, samples, step, rng: np.random.Generator) -> np.ndarray:
        return sequence_perplexity(self.reference, samples) <= self.threshold
