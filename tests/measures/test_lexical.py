"""Tests of collapse_utils.measures.lexical: distinct-n, self-BLEU (against sacrebleu), repeated
n-grams and the survival of real words by frequency, on cases worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from collapse_utils.measures import lexical


def test_text_metrics_on_known_cases():
    same = ["the cat sat on the mat"] * 4
    varied = ["the cat sat on the mat", "a dog ran in a park", "birds fly over blue seas", "one two three four"]
    assert lexical.distinct_n(same, 1) == pytest.approx(5 / 24)
    assert lexical.distinct_n(varied, 2) == 1.0
    assert lexical.self_bleu(same) == pytest.approx(100.0)
    assert lexical.self_bleu(varied) < 20
    assert lexical.repeated_ngram_share(["a b a b a b"], 2) == pytest.approx(1 - 2 / 5)
    assert lexical.repeated_ngram_share(varied, 2) == 0.0
    with pytest.raises(ValueError, match="texts"):
        lexical.distinct_n("a single string", 1)
    with pytest.raises(ValueError, match="n must"):
        lexical.distinct_n(same, 0)


def test_self_bleu_matches_sacrebleu_directly():
    from sacrebleu.metrics import BLEU

    texts = ["the cat sat on the mat", "the cat lay on a mat", "a dog sat on the mat"]
    bleu = BLEU(effective_order=True)
    expected = np.mean([bleu.sentence_score(t, [u for u in texts if u is not t]).score for t in texts])
    assert lexical.self_bleu(texts) == pytest.approx(expected)


def test_survival_by_frequency():
    keys, counts = np.array([1, 2, 3, 4]), np.array([1, 1, 5, 9])
    out = lexical.survival_by_frequency(keys, counts, [2, 3, 4], [1, 2, 6, 100, 200])
    assert out[:3].tolist() == [0.5, 1.0, 1.0] and np.isnan(out[3])
