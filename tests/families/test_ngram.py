"""The n-gram family of chapter 06: counting, normalisation, sampling, and the support
property (under replace without smoothing, distinct n-grams never grow)."""

from __future__ import annotations

import numpy as np
import pytest

from collapse_utils import loop
from collapse_utils.families import ngram


def random_corpus(rng, vocab=12, lines=40, max_len=9):
    # a Zipf-like vocabulary so that some words are rare
    p = 1 / np.arange(1, vocab + 1)
    p /= p.sum()
    return [rng.choice(vocab, size=rng.integers(0, max_len), p=p) for _ in range(lines)]


def test_count_ngrams_by_hand():
    keys, counts = ngram.count_ngrams([np.array([0, 1, 0, 1]), np.array([1])], 2, vocab_size=2)
    base = 4
    assert dict(zip(keys.tolist(), counts.tolist())) == {0 * base + 1: 2, 1 * base + 0: 1}
    keys, counts = ngram.count_ngrams([np.array([1])], 2, vocab_size=2, pad=True)
    assert keys.tolist() == [1 * base + 3, 2 * base + 1]  # (1, EOS) and (BOS, 1), sorted


@pytest.mark.parametrize("k", [0.0, 0.5])
@pytest.mark.parametrize("order", [1, 2, 3])
def test_probabilities_sum_to_one(order, k):
    rng = np.random.default_rng(order)
    data = random_corpus(rng)
    model = ngram.NGramFamily(12, order=order, k=k).fit(data)
    contexts = [np.full(order - 1, model.bos)] + [d[:order - 1] for d in data if len(d) >= order - 1][:10]
    contexts.append(np.full(order - 1, 11))  # possibly unseen
    for ctx in contexts:
        p = model.probabilities(ctx)
        assert p.shape == (13,) and np.all(p >= 0)
        assert p.sum() == pytest.approx(1.0, abs=1e-12)


def test_mle_probabilities_are_relative_counts():
    data = [np.array([0, 1]), np.array([0, 2]), np.array([0, 1])]
    model = ngram.NGramFamily(3, order=2).fit(data)
    assert model.probabilities([0]).tolist() == pytest.approx([0, 2 / 3, 1 / 3, 0])
    assert model.probabilities([model.bos]).tolist() == pytest.approx([1, 0, 0, 0])
    smoothed = ngram.NGramFamily(3, order=2, k=1.0).fit(data)
    assert smoothed.probabilities([0]).tolist() == pytest.approx([1 / 7, 3 / 7, 2 / 7, 1 / 7])


def test_sampling_frequencies_match_the_model():
    # a unigram model: word frequencies of a large sample against the fitted probabilities
    rng = np.random.default_rng(0)
    data = random_corpus(rng, lines=200)
    family = ngram.NGramFamily(12, order=2)
    model = family.fit(data)
    sample = family.sample(model, 20000, np.random.default_rng(1))
    first = np.array([s[0] if len(s) else 12 for s in sample])  # first word, 12 = empty line
    observed = np.bincount(first, minlength=13) / len(first)
    expected = model.probabilities([model.bos])
    se = np.sqrt(expected * (1 - expected) / len(first))
    assert np.all(np.abs(observed - expected) <= 5 * se + 1e-12)  # 5 standard errors per cell


@pytest.mark.parametrize("case", range(30))
def test_distinct_ngrams_never_grow_under_replace(case):
    """Property (chapter 06's theorem), on 30 random corpora, orders and seeds."""
    rng = np.random.default_rng(100 + case)
    order = int(rng.integers(1, 4))
    data = random_corpus(rng, vocab=int(rng.integers(3, 15)), lines=int(rng.integers(5, 60)))
    vocab = 15
    family = ngram.NGramFamily(vocab, order=order, max_len=200)
    history = loop.run(family, real=data, generations=8, policy="replace", seed=case, progress=False, metrics={
        "padded": lambda s: set(ngram.count_ngrams(s.data, order, vocab, pad=True)[0].tolist()),
        "words": lambda s: set(np.concatenate([np.asarray(x) for x in s.data] + [np.empty(0, int)]).tolist()),
    })
    padded, words = history["padded"], history["words"]
    for t in range(1, len(history)):
        assert padded[t] <= padded[t - 1]
        assert words[t] <= words[t - 1]


def test_smoothing_can_bring_back_lost_words():
    data = [np.array([0, 1])] * 50
    family = ngram.NGramFamily(5, order=2, k=1.0)
    sample = family.sample(family.fit(data), 200, np.random.default_rng(0))
    assert set(np.concatenate(sample).tolist()) - {0, 1}  # words 2..4 were never in the data


def test_encode_lines():
    lines, vocab = ngram.encode_lines("To be, or not\n\nto be.")
    assert list(vocab) == ["to", "be", ",", "or", "not", "."]
    assert [x.tolist() for x in lines] == [[0, 1, 2, 3, 4], [0, 1, 5]]
    again, _ = ngram.encode_lines("to see or", vocab)
    assert again[0].tolist() == [0, 3]  # unknown words dropped


@pytest.mark.parametrize("kwargs, match", [
    ({"vocab_size": 0}, "vocab_size"), ({"vocab_size": 5, "order": 0}, "order"),
    ({"vocab_size": 5, "k": -1}, "k must"), ({"vocab_size": 5, "max_len": 0}, "max_len"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ngram.NGramFamily(**kwargs)


def test_bad_data():
    family = ngram.NGramFamily(3)
    with pytest.raises(ValueError, match="token ids"):
        family.fit([np.array([0, 5])])
    with pytest.raises(ValueError, match="data must"):
        family.fit("abc")
    with pytest.raises(ValueError, match="context"):
        family.fit([np.array([0, 1])]).probabilities([0])
