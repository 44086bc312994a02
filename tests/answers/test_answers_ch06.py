"""Independent checks of the numeric answers of chapter 06's exercises."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from collapse_utils.answers import ch06, solve
from collapse_utils.families import lm
from collapse_utils.measures import lexical


def test_parameters_of_the_chapter_transformer():
    a = solve("ex-06-params")
    assert (a["vocab"], a["context"], a["d"], a["layers"]) == (1024, 128, 128, 2)
    model = lm.GPT(a["vocab"], context=a["context"], d=a["d"], layers=a["layers"], heads=4)
    assert a["total"] == sum(p.numel() for p in model.parameters())
    assert a["block"] == sum(p.numel() for p in model.blocks[0].parameters())
    assert a["embeddings"] == model.tok.weight.numel() + model.pos.weight.numel()
    block = model.blocks[0]
    assert a["attention"] == sum(p.numel() for m in (block.qkv, block.proj) for p in m.parameters())
    assert a["mlp"] == sum(p.numel() for p in block.mlp.parameters())
    # the output layer is tied: an untied one would add a vocab x d matrix
    logits, _ = model(torch.zeros(1, 3, dtype=torch.long))
    assert logits.shape[-1] == a["vocab"] and a["untied_extra"] == model.tok.weight.numel()
    assert a["embedding_share"] == pytest.approx(a["embeddings"] / a["total"])


def test_perplexities():
    a = solve("ex-06-perplexity")
    assert a["vocab"] == 1024 and a["loss"] == 3.5
    # a transformer whose token embedding is zero puts logit 0 on every token: uniform
    model = lm.GPT(a["vocab"], context=16, d=8, layers=1, heads=1)
    with torch.no_grad():
        model.tok.weight.zero_()
    blocks = torch.as_tensor(np.random.default_rng(6).integers(0, a["vocab"], size=(4, 16)))
    assert lm.perplexity(model, blocks) == pytest.approx(a["uniform"], rel=1e-5)
    # probabilities 1/2, 1/4, 1/8, 1/16 of the next tokens, through torch's cross-entropy
    logits = torch.log(torch.tensor([[1 / 2, 1 / 2], [1 / 4, 3 / 4], [1 / 8, 7 / 8], [1 / 16, 15 / 16]],
                                    dtype=torch.float64))
    nll = F.cross_entropy(logits, torch.zeros(4, dtype=torch.long))
    assert a["nll"] == pytest.approx(float(nll), rel=1e-12)
    assert a["ppl"] == pytest.approx(2 ** 2.5, rel=1e-12)  # the geometric mean of 2, 4, 8, 16
    # a mean loss of 3.5 nats: uniform over exp(3.5) tokens has that cross-entropy; in bits, log2
    assert a["loss_ppl"] == pytest.approx(10 ** (a["loss"] / math.log(10)), rel=1e-12)
    assert a["loss_bits"] == pytest.approx(math.log2(a["loss_ppl"]), rel=1e-12)


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
