"""Independent checks of the numeric answers of chapter 06's exercises."""

from __future__ import annotations

import pytest

from collapse_utils.answers import ch06, solve
from collapse_utils.measures import lexical


def test_distinct_n_rep_2_and_self_bleu_of_one_line():
    a = solve("ex-06-distinct")
    text = ch06.HAMLET
    assert text == "to be or not to be that is the question"
    assert a["distinct1"] == pytest.approx(lexical.distinct_n([text], 1))
    assert a["distinct2"] == pytest.approx(lexical.distinct_n([text], 2))
    assert a["rep2"] == pytest.approx(lexical.repeated_ngram_share([text], 2))
    # brute force: count by hand-listing the n-grams
    words = text.split()
    pairs = [f"{u} {v}" for u, v in zip(words, words[1:])]
    assert (a["words"], a["distinct_words"]) == (len(words), len(dict.fromkeys(words)))
    assert (a["bigrams"], a["distinct_bigrams"]) == (len(pairs), len(dict.fromkeys(pairs)))
    # sacrebleu's self-BLEU of identical copies
    assert a["copies"] == 3
    assert a["self_bleu"] == pytest.approx(lexical.self_bleu([text] * a["copies"]), rel=1e-9)
