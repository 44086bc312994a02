"""The tiny language model of chapter 06: tokenizer, training, perplexity, decoding,
the loop family, the shared setup and the text metrics (smoke sizes, CPU, seconds)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from collapse_utils import loop, samplers
from collapse_utils.cache import Cache
from collapse_utils.families import lm
from collapse_utils.measures import lexical
from collapse_utils.measures import lm as lm_measures

TEXT = "\n\n".join(
    f"To be, or not to be, that is the question number {i}:\nWhether 'tis nobler in the mind to suffer "
    f"the slings and arrows of outrageous fortune, or to take arms against a sea of troubles {i % 7}."
    for i in range(60)
)


@pytest.fixture(scope="module")
def tokenizer():
    return lm.train_tokenizer(TEXT, vocab_size=300)


@pytest.fixture(scope="module")
def blocks(tokenizer):
    return lm.make_blocks(tokenizer.encode(TEXT), 16)


def small_model(vocab_size, seed=0):
    torch.manual_seed(seed)
    return lm.GPT(vocab_size, context=32, d=32, layers=1, heads=2)


def test_tokenizer_round_trips_any_text(tokenizer):
    for text in (TEXT[:500], "Unseen wörds, ümlauts & emoji 🙂 survive\n\ttabs too.", ""):
        ids = tokenizer.encode(text)
        assert ids.dtype == np.int64 and (len(ids) == 0 or ids.max() < tokenizer.vocab_size)
        assert tokenizer.decode(ids) == text
    assert tokenizer.vocab_size == 300
    assert len(tokenizer.encode(TEXT)) < 0.75 * len(TEXT)  # 44 merges of frequent pairs: far fewer tokens
    import pickle

    again = pickle.loads(pickle.dumps(tokenizer))
    assert np.array_equal(again.encode(TEXT[:200]), tokenizer.encode(TEXT[:200]))


def test_make_blocks(blocks):
    assert blocks.dtype == torch.int64 and blocks.shape[1] == 16
    assert lm.make_blocks(np.arange(50), 10, max_blocks=3).tolist()[2] == list(range(20, 30))
    with pytest.raises(ValueError, match="block"):
        lm.make_blocks(np.arange(5), 10)


def test_loss_falls_and_perplexity_beats_an_untrained_model(tokenizer, blocks):
    model = small_model(tokenizer.vocab_size)
    untrained = lm.perplexity(model, blocks)
    losses = lm.train_lm(model, blocks, epochs=4, batch_size=8, lr=3e-3)
    assert losses[-1] < losses[0]
    trained = lm.perplexity(model, blocks)
    assert trained < untrained
    # an untrained model's perplexity is near the vocabulary size (near-uniform predictions)
    assert 0.5 * tokenizer.vocab_size < untrained < 2 * tokenizer.vocab_size
    nll = lm.sequence_nll(model, blocks)
    assert nll.shape == (len(blocks),) and np.isclose(np.exp(nll.mean()), trained, rtol=1e-5)


def test_kv_cache_gives_the_same_logits_as_a_full_forward(tokenizer, blocks):
    model = small_model(tokenizer.vocab_size).eval()
    x = blocks[:3]
    with torch.no_grad():
        full, _ = model(x)
        first, cache = model(x[:, :10])
        rest, _ = model(x[:, 10:12], cache)  # several new tokens at once
        _, cache = model(x[:, 10:12], cache)
        last, _ = model(x[:, 12:13], cache)
    assert torch.allclose(full[:, :10], first, atol=1e-5)
    assert torch.allclose(full[:, 10:12], rest, atol=1e-5)
    assert torch.allclose(full[:, 12:13], last, atol=1e-5)


@pytest.mark.parametrize("decoding", lm.DECODINGS)
def test_sample_returns_the_requested_lengths(tokenizer, blocks, decoding):
    model = small_model(tokenizer.vocab_size)
    torch.manual_seed(1)
    out = lm.sample(model, blocks[:5, :8], 12, decoding=decoding, beams=3, repetition_penalty=3.0, batch=2)
    assert out.shape == (5, 12) and out.dtype == torch.int64
    assert int(out.min()) >= 0 and int(out.max()) < tokenizer.vocab_size


def test_beam_search_with_one_beam_is_greedy(tokenizer, blocks):
    model = small_model(tokenizer.vocab_size)
    lm.train_lm(model, blocks, epochs=2, batch_size=8, lr=3e-3)
    prompts = blocks[:4, :6]
    out = lm.sample(model, prompts, 5, decoding="beam", beams=1)
    seq = prompts.clone()
    with torch.no_grad():
        for _ in range(5):
            seq = torch.cat([seq, model(seq)[0][:, -1].argmax(dim=1, keepdim=True)], dim=1)
    assert torch.equal(out, seq[:, 6:])


def test_beam_search_is_at_least_as_likely_as_greedy(tokenizer, blocks):
    model = small_model(tokenizer.vocab_size)
    lm.train_lm(model, blocks, epochs=2, batch_size=8, lr=3e-3)
    prompts = blocks[:6, :6]

    def loglik(cont):
        seq = torch.cat([prompts, cont], dim=1)
        with torch.no_grad():
            logp = torch.log_softmax(model(seq[:, :-1])[0], dim=-1)
        return logp[:, 5:].gather(2, seq[:, 6:, None]).squeeze(2).sum(dim=1)

    greedy = lm.sample(model, prompts, 6, decoding="beam", beams=1)
    beam = lm.sample(model, prompts, 6, decoding="beam", beams=4)
    assert torch.all(loglik(beam) >= loglik(greedy) - 1e-4)


def test_repetition_penalty_reduces_repeats(tokenizer, blocks):
    model = small_model(tokenizer.vocab_size)
    lm.train_lm(model, blocks, epochs=3, batch_size=8, lr=3e-3)
    prompts = blocks[:8, :4]
    plain = lm.sample(model, prompts, 20, decoding="beam", beams=2, repetition_penalty=1.0)
    penalised = lm.sample(model, prompts, 20, decoding="beam", beams=2, repetition_penalty=3.0)

    def repeats(out):
        return sum(len(row) - len(set(row.tolist())) for row in out)

    assert repeats(penalised) < repeats(plain)


def test_filter_logits_against_explicit_sets():
    logits = torch.tensor([[2.0, 1.0, 0.5, -1.0]])
    probs = torch.softmax(logits, dim=-1)[0]
    assert torch.allclose(samplers.filter_logits(logits, temperature=2.0), logits / 2)
    top2 = samplers.filter_logits(logits, top_k=2)
    assert torch.isinf(top2[0, 2:]).all() and torch.equal(top2[0, :2], logits[0, :2])
    # top-p: the smallest set of most probable tokens whose mass reaches p
    p = float(probs[0] + probs[1]) - 1e-6
    kept = torch.isfinite(samplers.filter_logits(logits, top_p=p))[0].tolist()
    assert kept == [True, True, False, False]
    assert torch.isfinite(samplers.filter_logits(logits, top_p=1.0)).all()
    for kwargs, match in (({"temperature": 0}, "temperature"), ({"top_k": 0}, "top_k"), ({"top_p": 1.5}, "top_p")):
        with pytest.raises(ValueError, match=match):
            samplers.filter_logits(logits, **kwargs)


def test_repetition_penalty_formula():
    logits = torch.tensor([[2.0, -2.0, 1.0]])
    seen = torch.tensor([[True, True, False]])
    out = lm.apply_repetition_penalty(logits, seen, 2.0)
    assert out.tolist() == [[1.0, -4.0, 1.0]]


def test_family_in_the_loop_with_cache_and_metrics(tokenizer, blocks, tmp_path):
    base = small_model(tokenizer.vocab_size)
    lm.train_lm(base, blocks, epochs=1, batch_size=8, lr=3e-3)
    real = blocks[:12, :8]
    family = lm.LMFamily(base=base, prompts=real, new_tokens=8, epochs=1, batch_size=4, beams=2)
    metrics = lm_measures.lm_metrics(family, tokenizer, blocks[12:20, :8], examples=blocks[:1, :8], n_texts=6)

    def go():
        return loop.run(family, real=real, generations=2, metrics=metrics, policy=loop.Mix(0.25), seed=3,
                        cache=Cache("t06", {"x": 1}, root=tmp_path, uses=[family, loop.run, lm_measures]))

    first = go()
    assert len(first) == 3 and list(first["n_real"]) == [12, 3, 3]
    assert [len(row["data_ppl"]) for row in first.rows] == [12, 9, 9]  # the generated part only
    assert np.all(first["test_ppl"] > 1) and first["example"].shape == (3, 1)
    assert torch.equal(base.tok.weight, family.base.tok.weight)  # fit works on a copy
    assert first["distinct1"][0] == lexical.distinct_n(tokenizer.decode_batch(real[:6].numpy()), 1)
    again = go()  # from the cache: identical, nothing retrained
    assert again == first
    with pytest.raises(ValueError, match="decoding"):
        lm.LMFamily(base=base, prompts=real, decoding="greedy")
    with pytest.raises(ValueError, match="LMFamily"):
        lm_measures.lm_metrics(base, tokenizer, real)


def test_decoding_sampler_equals_the_family_temperature(tokenizer, blocks):
    base = small_model(tokenizer.vocab_size)
    family = lm.LMFamily(base=base, prompts=blocks[:6, :8], new_tokens=5, decoding="ancestral",
                         repetition_penalty=1.0)
    hot = dataclasses.replace(family, temperature=1.7)
    via_rule = samplers.Decoding(temperature=1.7)(family, base, 4, np.random.default_rng(9))
    assert torch.equal(via_rule, hot.sample(base, 4, np.random.default_rng(9)))
    with pytest.raises(ValueError, match="ancestral"):
        dataclasses.replace(family, decoding="beam").sample(base, 2, np.random.default_rng(0), decoding=samplers.Decoding())


def test_pretrained_setup_is_cached_and_seeded(tmp_path):
    args = dict(source="pydoc", vocab_size=300, block=8, d_model=16, layers=1, pretrain_tokens=800, n_train=10,
                n_test=6, seed=4)
    one = lm.pretrained(**args, cache_root=tmp_path)
    assert one.train.shape == (10, 8) and one.test.shape == (6, 8) and one.pretrain.shape == (50, 16)
    assert one.source == "pydoc" and one.key["seed"] == 4
    two = lm.pretrained(**args, cache_root=tmp_path)  # from the cache: the same tokenizer, split and model
    assert torch.equal(one.train, two.train) and torch.equal(one.test, two.test)
    assert torch.equal(one.base.tok.weight, two.base.tok.weight)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["06_base", "06_tokenizer"]
    with pytest.raises(ValueError, match="asked for"):
        lm.pretrained(**{**args, "n_test": 10**6}, cache_root=tmp_path)


def test_bad_arguments(tokenizer, blocks):
    model = small_model(tokenizer.vocab_size)
    with pytest.raises(ValueError, match="decoding"):
        lm.sample(model, blocks[:2, :4], 3, decoding="nucleus")
    with pytest.raises(ValueError, match="context"):
        lm.sample(model, blocks[:2, :16], 20)
    with pytest.raises(ValueError, match="blocks"):
        lm.perplexity(model, blocks[0])
    with pytest.raises(ValueError, match="vocab_size"):
        lm.train_tokenizer(TEXT, vocab_size=10)


def naive_beam_search(model, prompts, new_tokens, beams, penalty):
    """Beam search without any cache: the full sequence through the model at every step."""
    outs = []
    with torch.no_grad():
        for prompt in prompts:
            hyps = [(0.0, prompt.tolist())]
            for _ in range(new_tokens):
                candidates = []
                for score, seq in hyps:
                    logits = model(torch.tensor([seq]))[0][0, -1]
                    seen = torch.zeros_like(logits, dtype=torch.bool)
                    seen[seq] = True
                    logp = torch.log_softmax(lm.apply_repetition_penalty(logits, seen, penalty), dim=-1)
                    top = torch.topk(logp, beams)
                    candidates += [(score + float(v), seq + [int(i)]) for v, i in zip(top.values, top.indices)]
                hyps = sorted(candidates, key=lambda c: -c[0])[:beams]
            outs.append(hyps[0][1][len(prompt):])
    return torch.tensor(outs)


def test_beam_search_matches_a_cache_free_reference(tokenizer, blocks):
    model = small_model(tokenizer.vocab_size)
    lm.train_lm(model, blocks, epochs=2, batch_size=8, lr=3e-3)
    prompts = blocks[:3, :5]
    fast = lm.sample(model, prompts, 6, decoding="beam", beams=3, repetition_penalty=3.0)
    assert torch.equal(fast, naive_beam_search(model, prompts, 6, 3, 3.0))
