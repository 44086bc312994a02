"""A word n-gram language model as a family of the retraining loop (chapter 06).

Chapter 06, "Language models trained on their own text", runs the loop of
chapter 01 with a model cheap enough for dozens of generations: an n-gram model
of order ``order`` over a fixed vocabulary of word ids, with add-k smoothing
(``k = 0`` is the maximum-likelihood model). Sequences (lines of text) are padded
with ``order - 1`` begin-of-sequence tokens and end with an end-of-sequence token.
N-grams are stored as sorted int64 keys (the n token ids as digits in base
``vocab_size + 2``), so fitting is one ``np.unique`` and sampling draws the next
token of every sequence at once with ``np.searchsorted``.

Under ``k = 0`` a sampled sequence only ever contains n-grams the model was
fitted on, so under ``replace`` the set of distinct n-grams (and the vocabulary)
can only shrink; ``k > 0`` gives every word some probability in every context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from collapse_utils.checks import check_int

__all__ = ["words", "NGramModel", "count_ngrams", "NGramFamily", "encode_lines"]


def _check_sequences(data, vocab_size: int) -> list[np.ndarray]:
    if isinstance(data, np.ndarray) and data.ndim == 2:
        data = list(data)
    if not isinstance(data, (list, tuple)):
        raise ValueError(f"data must be a list of integer arrays (one per sequence); got {type(data).__name__}")
    out = []
    for seq in data:
        seq = np.asarray(seq, dtype=np.int64).ravel()
        if seq.size and (seq.min() < 0 or seq.max() >= vocab_size):
            raise ValueError(f"token ids must be in 0..{vocab_size - 1}")
        out.append(seq)
    return out


@dataclass
class NGramModel:
    """A fitted n-gram model (chapter 06): sorted n-gram ``keys`` with their
    ``counts``, the distinct contexts ``contexts`` with the range
    ``starts[i]:ends[i]`` of their n-grams and their ``totals``.

    Book: {prf:ref}`thm-06-ngram-support`
    """

    order: int
    vocab_size: int  # words; ids vocab_size and vocab_size + 1 are BOS and EOS
    k: float
    keys: np.ndarray
    counts: np.ndarray
    contexts: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    totals: np.ndarray

    @property
    def base(self) -> int:
        return self.vocab_size + 2

    @property
    def bos(self) -> int:
        return self.vocab_size

    @property
    def eos(self) -> int:
        return self.vocab_size + 1

    def probabilities(self, context) -> np.ndarray:
        """The next-token distribution after ``context`` (the last ``order - 1``
        tokens, BOS-padded), over the words and EOS: an array of
        ``vocab_size + 1`` probabilities summing to 1. Add-k smoothing; with
        ``k = 0`` an unseen context gets the uniform distribution."""
        context = np.asarray(context, dtype=np.int64).ravel()
        if context.size != self.order - 1:
            raise ValueError(f"context must hold order - 1 = {self.order - 1} tokens; got {context.size}")
        if context.size and (context.min() < 0 or context.max() > self.bos):
            raise ValueError(f"context tokens must be in 0..{self.bos} (words or BOS)")
        key = 0
        for tok in context:
            key = key * self.base + int(tok)
        m = self.vocab_size + 1  # the predictable tokens: words and EOS
        i = np.searchsorted(self.contexts, key)
        counts = np.zeros(m)
        total = 0.0
        if i < len(self.contexts) and self.contexts[i] == key:
            s, e = self.starts[i], self.ends[i]
            tokens = self.keys[s:e] % self.base
            counts[np.where(tokens == self.eos, m - 1, tokens)] = self.counts[s:e]
            total = float(self.totals[i])
        if total + self.k * m == 0:
            return np.full(m, 1.0 / m)
        return (counts + self.k) / (total + self.k * m)


def count_ngrams(data, n: int, vocab_size: int, pad: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Distinct n-grams of ``data`` (a list of word-id arrays) as sorted int64 keys
    and their counts (chapter 06). ``pad=True`` adds ``n - 1`` BOS tokens in front
    and one EOS at the end of each sequence (the model's n-grams); otherwise only
    the n-grams inside each sequence are counted.

    Book: {prf:ref}`thm-06-ngram-support`
    """
    n = check_int("n", n, 1)
    vocab_size = check_int("vocab_size", vocab_size, 1)
    base = vocab_size + 2
    if float(base) ** n >= 2.0**62:
        raise ValueError(f"(vocab_size + 2) ** n must stay below 2**62 for int64 keys; got n={n}, "
                         f"vocab_size={vocab_size}")
    seqs = _check_sequences(data, vocab_size)
    if pad:
        seqs = [np.concatenate([np.full(n - 1, vocab_size), s, [vocab_size + 1]]) for s in seqs]
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    if not seqs or lengths.max(initial=0) < n:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    flat = np.concatenate(seqs)
    windows = np.lib.stride_tricks.sliding_window_view(flat, n) @ (base ** np.arange(n - 1, -1, -1, dtype=np.int64))
    # keep the windows that start at least n - 1 tokens before the end of their sequence
    ends = np.cumsum(lengths)
    owner_end = np.repeat(ends, lengths)[: len(windows)]
    valid = np.arange(len(windows)) + n <= owner_end
    return np.unique(windows[valid], return_counts=True)


@dataclass(frozen=True)
class NGramFamily:
    """The n-gram model as a family of :func:`collapse_utils.loop.run` (chapter 06).

    vocab_size: number of word ids (data hold ids ``0..vocab_size-1``).
    order: n (1 = unigram).
    k: add-k smoothing constant (0 = maximum likelihood).
    max_len: longest sampled sequence (a sequence that reaches it is cut).

    Book: {prf:ref}`thm-06-ngram-support`
    """

    vocab_size: int
    order: int = 3
    k: float = 0.0
    max_len: int = 60

    def __post_init__(self):
        check_int("vocab_size", self.vocab_size, 1)
        check_int("order", self.order, 1)
        check_int("max_len", self.max_len, 1)
        k = self.k
        if isinstance(k, bool) or not isinstance(k, (int, float)) or not np.isfinite(k) or k < 0:
            raise ValueError(f"k must be a finite number >= 0; got {k!r}")

    def fit(self, data, rng: np.random.Generator | None = None, *, generation: int | None = None) -> NGramModel:
        keys, counts = count_ngrams(data, self.order, self.vocab_size, pad=True)
        base = self.vocab_size + 2
        ctx = keys // base
        contexts, starts = np.unique(ctx, return_index=True)
        ends = np.append(starts[1:], len(keys))
        totals = np.add.reduceat(counts, starts) if len(keys) else np.empty(0, dtype=np.int64)
        return NGramModel(self.order, self.vocab_size, float(self.k), keys, counts, contexts,
                          starts, ends, totals)

    def sample(self, model: NGramModel, n: int, rng: np.random.Generator) -> list[np.ndarray]:
        n = check_int("n", n, 0)
        base, m = model.base, model.vocab_size + 1
        modulus = base ** (model.order - 1)
        ctx = np.full(n, 0, dtype=np.int64)
        for _ in range(model.order - 1):
            ctx = ctx * base + model.bos
        cum = np.cumsum(model.counts)
        before = np.concatenate([[0], cum])
        out = np.full((n, self.max_len), -1, dtype=np.int64)
        active = np.arange(n)
        for step in range(self.max_len):
            if active.size == 0:
                break
            c = ctx[active]
            i = np.minimum(np.searchsorted(model.contexts, c), max(len(model.contexts) - 1, 0))
            found = (model.contexts[i] == c) if len(model.contexts) else np.zeros(len(c), bool)
            total = np.where(found, model.totals[i] if len(model.totals) else 0, 0).astype(float)
            uniform_p = np.where(total + model.k * m > 0, model.k * m / np.maximum(total + model.k * m, 1e-300), 1.0)
            uniform = rng.random(len(c)) < uniform_p
            token = rng.integers(m, size=len(c))
            token = np.where(token == m - 1, model.eos, token)
            seen = ~uniform & found
            if seen.any():
                s = model.starts[i[seen]]
                target = before[s] + rng.random(seen.sum()) * total[seen]
                j = np.searchsorted(cum, target, side="right")
                token[seen] = model.keys[j] % base
            out[active, step] = token
            ctx[active] = (c * base + token) % modulus if model.order > 1 else 0
            active = active[token != model.eos]
        seqs = []
        for row in out:
            row = row[row >= 0]
            seqs.append(row[row != model.eos])
        return seqs


_WORD = re.compile(r"[a-z0-9']+|[^\sa-z0-9']")


def words(text: str) -> list[str]:
    """Lower-cased words (letters, digits, apostrophes) and single punctuation marks.

    Book: {doc}`notebooks/06_language_models`
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a string; got {type(text).__name__}")
    return _WORD.findall(text.lower())


def encode_lines(text: str, vocab: dict | None = None) -> tuple[list[np.ndarray], dict]:
    """The non-empty lines of ``text`` as arrays of word ids (words as in
    :func:`words`), and the vocabulary ``{word: id}``
    (chapter 06). A new vocabulary, in order of first occurrence, is built unless
    ``vocab`` is given; then unknown words are dropped.

    Book: {doc}`notebooks/06_language_models`
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a string; got {type(text).__name__}")
    build = vocab is None
    vocab = {} if build else dict(vocab)
    lines = []
    for line in text.splitlines():
        ws = words(line)
        if not ws:
            continue
        if build:
            for w in ws:
                vocab.setdefault(w, len(vocab))
        lines.append(np.array([vocab[w] for w in ws if w in vocab], dtype=np.int64))
    return lines, vocab


