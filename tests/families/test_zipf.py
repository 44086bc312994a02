"""The Zipf family of chapter 10 in the loop: the same chain as the exact module's
fast simulator, and decoding rules applied through the loop's sampler hook."""

from __future__ import annotations

import numpy as np
import pytest

from collapse_utils import loop, samplers
from collapse_utils.exact import zipf
from collapse_utils.families.zipf import Oversample, ZipfFamily, zipf_metrics

P = zipf.zipf_probs(200, 1.5)
TOKENS, GENERATIONS, CHAINS = 500, 6, 200


def loop_missing_mass(rule, chains=CHAINS, seed=1):
    family = ZipfFamily(len(P))
    histories = loop.run_chains(chains, family=family, initial_model=P, real=family.real(P, rule), sampler=rule,
                                n=TOKENS, generations=GENERATIONS, metrics=zipf_metrics(P), seed=seed)
    return loop.stack(histories, "missing")


@pytest.mark.parametrize("rule", [None, samplers.Decoding(temperature=0.9), samplers.Decoding(top_p=0.95)])
def test_loop_matches_exact_simulator(rule):
    """Same model, independent streams: the mean missing mass of every generation agrees
    within 5 standard errors of the difference of the two means (sd over chains / sqrt(chains))."""
    ours = loop_missing_mass(rule)
    exact = zipf.simulate_generations(P, TOKENS, GENERATIONS, transform=None if rule is None else rule.probs,
                                      chains=CHAINS, seed=2)
    assert ours.shape == exact.shape == (CHAINS, GENERATIONS + 1)
    se = np.sqrt(ours.var(axis=0, ddof=1) / CHAINS + exact.var(axis=0, ddof=1) / CHAINS)
    assert np.all(np.abs(ours.mean(axis=0) - exact.mean(axis=0)) <= 5 * se + 1e-12)
    # and generation 1 against its exact expectation sum_i p_i (1 - s_i)^T, s the filtered truth
    s = P if rule is None else samplers.filter_probs(P, rule.temperature, rule.top_k, rule.top_p)
    assert abs(ours[:, 1].mean() - zipf.expected_error(P, TOKENS, s)) <= 5 * ours[:, 1].std(ddof=1) / np.sqrt(CHAINS)


@pytest.mark.parametrize("rule", [samplers.Decoding(temperature=1.3), samplers.Decoding(top_k=7),
                                  samplers.Decoding(temperature=0.8, top_p=0.9)])
def test_decoding_in_the_loop_is_filter_probs(rule):
    family = ZipfFamily(len(P))
    q = family.fit(family.sample(P, 3000, np.random.default_rng(0)), None)
    expected = samplers.filter_probs(q, rule.temperature, rule.top_k, rule.top_p)
    assert np.array_equal(family.source(q, rule), expected)
    # the sampler hook draws exactly what sampling filter_probs(q) with the same stream draws
    drawn = rule(family, q, 1000, np.random.default_rng(5))
    plain = family.sample(expected, 1000, np.random.default_rng(5))
    assert np.array_equal(drawn["token"], plain["token"])
    assert np.allclose(drawn["weight"], q[drawn["token"]] / expected[drawn["token"]])


def test_fit_reweighting_and_metrics():
    family = ZipfFamily(4)
    tokens = np.array([0, 0, 1, 3])
    assert np.allclose(family.fit(tokens, None), [0.5, 0.25, 0, 0.25])
    q = np.array([0.7, 0.2, 0.1, 0.0])
    rule = Oversample(0.5)
    assert np.allclose(rule.probs(q), 0.5 * q + 0.5 * np.array([1, 1, 1, 0]) / 3)
    data = rule(family, q, 200_000, np.random.default_rng(0))
    assert np.allclose(ZipfFamily(4, reweight=True).fit(data, None), q, atol=0.01)  # unbiased
    assert ZipfFamily(4).fit(data, None)[2] > 0.2  # naive: the oversampled share stays
    with pytest.raises(ValueError, match="reweight"):
        ZipfFamily(4, reweight=True).fit(tokens, None)
    metrics = zipf_metrics(np.full(4, 0.25))
    step = loop.Step(generation=1, model=family.fit(tokens, None), data=tokens, n_real=4)
    assert metrics["present"](step) == 0.75 and metrics["missing"](step) == pytest.approx(0.25)
    assert metrics["quality"](step) == pytest.approx(0.0)  # uniform truth: every token is as typical
    truth = loop.Step(generation=0, model=np.full(4, 0.25), data=None, n_real=0)
    assert [metrics[k](truth) for k in ("present", "missing", "quality")] == [1.0, 0.0, 0.0]


def test_bad_arguments():
    with pytest.raises(ValueError, match="vocab"):
        ZipfFamily(0)
    family = ZipfFamily(3)
    with pytest.raises(ValueError, match="tokens must lie"):
        family.fit(np.array([0, 3]), None)
    with pytest.raises(ValueError, match="integer tokens"):
        family.fit(np.array([0.5]), None)
    with pytest.raises(ValueError, match="length 3"):
        family.sample(np.full(4, 0.25), 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="rho"):
        Oversample(1.5)
