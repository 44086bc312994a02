"""Sequence scores under an n-gram model and the perplexity verifier (chapter 11)."""

import numpy as np
import pytest

from collapse_utils import loop
from collapse_utils.families import ngram
from collapse_utils.measures import ngram_score as S


def _data(seed=0, count=60):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 6, size=rng.integers(1, 7)) for _ in range(count)]


@pytest.mark.parametrize("order, k", [(1, 0.0), (2, 0.3), (3, 1.0), (3, 0.0)])
def test_logprob_matches_the_models_own_probabilities(order, k):
    data = _data()
    model = ngram.NGramFamily(6, order=order, k=k).fit(data)
    logp, lengths = S.sequence_logprob(model, data[:8])
    for seq, value, length in zip(data[:8], logp, lengths):
        ctx, total = [model.bos] * (order - 1), 0.0
        for tok in list(seq) + [model.eos]:
            p = model.probabilities(ctx)
            total += np.log(p[model.vocab_size if tok == model.eos else tok])
            ctx = (ctx + [tok])[1:] if order > 1 else []
        assert value == pytest.approx(total) and length == len(seq) + 1


def test_perplexity_verifier_in_the_loop_keeps_n_and_rejects_high_perplexity():
    data = _data(1, 200)
    reference = ngram.NGramFamily(6, order=2, k=0.5).fit(data)
    threshold = float(np.quantile(S.sequence_perplexity(reference, data), 0.7))
    verifier = S.PerplexityVerifier(reference, threshold)
    h = loop.run(ngram.NGramFamily(6, order=2), real=data, n=100, generations=3, filter=verifier, seed=0,
                 progress=False, metrics={"worst": lambda step: float(S.sequence_perplexity(reference, step.data).max())})
    assert np.all(h["n_train"] == 100)
    assert np.all(h["worst"][2:] <= threshold)
    with pytest.raises(ValueError, match="threshold"):
        S.PerplexityVerifier(reference, 0.0)
    with pytest.raises(ValueError, match="NGramModel"):
        S.sequence_logprob("model", data)
