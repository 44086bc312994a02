"""Diversity of a set of texts (chapter 06, "Language models trained on their own text").

- :func:`words`: a text split into lower-cased words and punctuation marks;
- :func:`distinct_n`: distinct-n of Li et al. (2016), the number of distinct word
  n-grams in the whole set divided by the number of n-grams;
- :func:`self_bleu`: self-BLEU of Zhu et al. (2018), the mean sentence BLEU of each
  text against all the others as references, computed with ``sacrebleu``
  (high: the texts resemble one another);
- :func:`repeated_ngram_share`: rep-n of Welleck et al. (2020), the share of
  n-grams of a text that repeat an earlier n-gram of the same text, averaged
  over texts.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from collapse_utils.checks import check_seed
from collapse_utils.families.ngram import words

__all__ = ["ngrams", "distinct_n", "self_bleu", "repeated_ngram_share", "survival_by_frequency"]


def _check_texts(texts) -> list[str]:
    items = None if isinstance(texts, str) or not isinstance(texts, Iterable) else list(texts)
    if items is None or not all(isinstance(t, str) for t in items):
        raise ValueError(f"texts must be a sequence of strings (not a single string); got {type(texts).__name__}")
    return items


def _check_n(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an integer >= 1; got {n!r}")
    return int(n)


def ngrams(tokens, n: int) -> list[tuple]:
    """The n-grams of a token list, in order.

    Book: {doc}`notebooks/06_language_models`
    """
    n = _check_n(n)
    tokens = list(tokens)
    return [tuple(tokens[i: i + n]) for i in range(len(tokens) - n + 1)]


def distinct_n(texts, n: int = 1) -> float:
    """Distinct word n-grams of all ``texts`` over the total number of word n-grams
    (0 if there is none) (chapter 06).

    Book: {doc}`notebooks/06_language_models`
    """
    texts, n = _check_texts(texts), _check_n(n)
    grams = [g for t in texts for g in ngrams(words(t), n)]
    return len(set(grams)) / len(grams) if grams else 0.0


def self_bleu(texts, max_texts: int | None = 100, seed: int = 0) -> float:
    """Mean sentence BLEU (sacrebleu, 0-100, exponential smoothing, effective order)
    of each text against all the others (chapter 06). With more than ``max_texts``
    texts, a random subset of that many (seeded) is scored.

    Book: {doc}`notebooks/06_language_models`
    """
    from sacrebleu.metrics import BLEU

    texts = _check_texts(texts)
    if len(texts) < 2:
        raise ValueError(f"texts must hold at least 2 texts; got {len(texts)}")
    seed = check_seed("seed", seed)
    if max_texts is not None:
        if isinstance(max_texts, bool) or not isinstance(max_texts, (int, np.integer)) or max_texts < 2:
            raise ValueError(f"max_texts must be an integer >= 2 or None; got {max_texts!r}")
        if len(texts) > max_texts:
            keep = np.sort(np.random.default_rng(seed).choice(len(texts), size=max_texts, replace=False))
            texts = [texts[i] for i in keep]
    bleu = BLEU(effective_order=True)
    scores = [bleu.sentence_score(t, texts[:i] + texts[i + 1:]).score for i, t in enumerate(texts)]
    return float(np.mean(scores))


def repeated_ngram_share(texts, n: int = 2) -> float:
    """rep-n (chapter 06): per text, 1 - distinct n-grams / n-grams (the share of
    n-grams that repeat an earlier one of the same text), averaged over the texts
    that have at least one n-gram.

    Book: {doc}`notebooks/06_language_models`
    """
    texts, n = _check_texts(texts), _check_n(n)
    shares = []
    for t in texts:
        grams = ngrams(words(t), n)
        if grams:
            shares.append(1 - len(set(grams)) / len(grams))
    return float(np.mean(shares)) if shares else 0.0


def survival_by_frequency(real_keys, real_counts, keys, edges) -> np.ndarray:
    """Share of the real n-grams (``real_keys`` with ``real_counts``) that still occur
    among ``keys``, per bin of real frequency ``edges[i] <= count < edges[i + 1]``
    (NaN for an empty bin) (chapter 06).

    Book: {prf:ref}`thm-06-ngram-support`
    """
    real_keys = np.asarray(real_keys)
    real_counts = np.asarray(real_counts)
    edges = np.asarray(edges, dtype=float)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError("edges must be an increasing 1-D array of at least 2 bin edges")
    present = np.isin(real_keys, np.asarray(keys))
    out = np.full(len(edges) - 1, np.nan)
    for b in range(len(edges) - 1):
        in_bin = (real_counts >= edges[b]) & (real_counts < edges[b + 1])
        if in_bin.any():
            out[b] = present[in_bin].mean()
    return out


