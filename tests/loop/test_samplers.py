"""Tests of the shared temperature / top-k / top-p filter (chapter 10)."""

import numpy as np
import pytest
import torch

from collapse_utils import samplers
from collapse_utils.exact import zipf


def test_lm_uses_the_shared_filter():
    assert samplers.filter_logits is samplers.filter_logits


def test_temperature_one_leaves_the_distribution_unchanged():
    p = zipf.zipf_probs(500, 1.3)
    np.testing.assert_allclose(samplers.filter_probs(p), p, rtol=1e-12)
    logits = torch.randn(3, 50, generator=torch.Generator().manual_seed(0))
    assert torch.equal(samplers.filter_logits(logits), logits)


def test_temperature_is_a_power_of_the_distribution():
    p = np.array([0.5, 0.3, 0.15, 0.05])
    for t in (0.5, 2.0):
        expected = p ** (1 / t) / np.sum(p ** (1 / t))
        np.testing.assert_allclose(samplers.filter_probs(p, temperature=t), expected, rtol=1e-12)


@pytest.mark.parametrize("k", [1, 2, 7, 99, 100, 150])
def test_top_k_keeps_exactly_k_tokens(k):
    rng = np.random.default_rng(k)
    p = rng.dirichlet(np.ones(100))  # distinct values almost surely
    q = samplers.filter_probs(p, top_k=k)
    kept = np.flatnonzero(q > 0)
    assert kept.size == min(k, 100)
    np.testing.assert_array_equal(np.sort(kept), np.sort(np.argsort(p)[::-1][: min(k, 100)]))
    np.testing.assert_allclose(q[kept], p[kept] / p[kept].sum(), rtol=1e-12)


@pytest.mark.parametrize("top_p", [0.05, 0.3, 0.5, 0.9, 0.99, 1.0])
def test_top_p_keeps_the_smallest_set_reaching_p(top_p):
    rng = np.random.default_rng(int(top_p * 100))
    p = rng.dirichlet(np.ones(60))
    q = samplers.filter_probs(p, top_p=top_p)
    kept = np.flatnonzero(q > 0)
    ordered = np.sort(p)[::-1]
    # the smallest m with cumulative mass >= top_p, computed independently of the filter
    m = int(np.searchsorted(np.cumsum(ordered), top_p - 1e-12) + 1)
    assert kept.size == min(m, 60)
    assert p[kept].sum() >= top_p - 1e-9
    if kept.size > 1:  # dropping the least probable kept token falls below top_p
        assert p[kept].sum() - p[kept].min() < top_p
    np.testing.assert_array_equal(np.sort(kept), np.sort(np.argsort(p)[::-1][: kept.size]))


def test_zero_probabilities_stay_zero_and_sampler_plugs_into_zipf():
    p = np.array([0.6, 0.0, 0.3, 0.1, 0.0])
    q = samplers.filter_probs(p, temperature=3.0)
    assert q[1] == 0 and q[4] == 0 and np.isclose(q.sum(), 1)
    out = zipf.simulate_generations(zipf.zipf_probs(50, 1.5), 200, 3, transform=samplers.sampler(top_k=5), seed=0)
    # after a top-5 generation only the 5 head tokens are ever drawn: the error is at least the truth's tail mass
    assert np.all(out[:, 1:] >= zipf.tail_mass(zipf.zipf_probs(50, 1.5), 5) - 1e-12)


@pytest.mark.parametrize("kwargs", [{"temperature": 0}, {"temperature": -1.0}, {"top_k": 0}, {"top_k": 2.5},
                                    {"top_p": 0.0}, {"top_p": 1.5}, {"top_p": True}])
def test_bad_arguments(kwargs):
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=name):
        samplers.filter_probs([0.5, 0.5], **kwargs)
    with pytest.raises(ValueError, match=name):
        samplers.sampler(**kwargs)
    with pytest.raises(ValueError, match="p must"):
        samplers.filter_probs([[0.5, 0.5]])
