"""Numeric answers of the exercises of chapter 06, "Language models trained on their own text"."""

from __future__ import annotations

import math
from collections import Counter

from collapse_utils.answers import answer

HAMLET = "to be or not to be that is the question"  # the text of ex-06-distinct


def _bleu(candidate: list[str], references: list[list[str]], max_order: int = 4) -> float:
    # sentence BLEU (0-100) by its definition: the geometric mean of the clipped n-gram
    # precisions, n = 1..max_order, times the brevity penalty against the closest length
    precisions = []
    for n in range(1, max_order + 1):
        grams = Counter(tuple(candidate[i: i + n]) for i in range(len(candidate) - n + 1))
        most = Counter()
        for reference in references:
            for g, c in Counter(tuple(reference[i: i + n]) for i in range(len(reference) - n + 1)).items():
                most[g] = max(most[g], c)
        precisions.append(sum(min(c, most[g]) for g, c in grams.items()) / sum(grams.values()))
    closest = min((len(r) for r in references), key=lambda r: (abs(r - len(candidate)), r))
    brevity = math.exp(min(0.0, 1 - closest / len(candidate)))
    return 100 * brevity * math.exp(sum(math.log(p) for p in precisions) / max_order)


@answer("ex-06-distinct")
def distinct() -> dict[str, float]:
    """Chapter 06: distinct-1, distinct-2 and rep-2 of one line, and the self-BLEU of
    three identical copies of it.

    Book: {ref}`ex-06-distinct`
    """
    tokens = HAMLET.split()
    unigrams = tokens
    bigrams = list(zip(tokens, tokens[1:]))
    copies = 3
    return {"words": len(unigrams), "distinct_words": len(set(unigrams)),
            "distinct1": len(set(unigrams)) / len(unigrams), "bigrams": len(bigrams),
            "distinct_bigrams": len(set(bigrams)), "distinct2": len(set(bigrams)) / len(bigrams),
            "rep2": 1 - len(set(bigrams)) / len(bigrams), "copies": copies,
            "self_bleu": _bleu(tokens, [tokens] * (copies - 1))}
