"""Tests of collapse_utils.exact.zipf (chapter 12, "A tale of tails").

Monte-Carlo means must lie within Z = 4.5 standard errors of the exact value
(a false alarm has probability below 1e-5 per comparison).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from collapse_utils.exact import zipf

Z = 4.5


def test_zipf_probs():
    p = zipf.zipf_probs(1000, 2.0)
    assert p.sum() == pytest.approx(1.0)
    assert p[0] / p[1] == pytest.approx(4.0)
    assert np.all(np.diff(p) < 0)


def test_english_word_probs():
    words, p = zipf.english_word_probs(5000)
    assert len(words) == 5000 and p.shape == (5000,)
    assert words[0] == "the"
    assert p.sum() == pytest.approx(1.0) and np.all(np.diff(p) <= 0)
    beta = zipf.fit_zipf_exponent(p, 10, 4000)
    assert 0.8 < beta < 1.5  # English is close to Zipf's law with beta near 1


def test_fit_zipf_exponent_recovers_beta():
    assert zipf.fit_zipf_exponent(zipf.zipf_probs(20_000, 1.7), 10, 10_000) == pytest.approx(1.7, abs=1e-3)


def test_cut_tail_and_tail_mass():
    p = zipf.zipf_probs(100, 1.5)
    q = zipf.cut_tail(p, 10)
    assert np.count_nonzero(q) == 10 and q.sum() == pytest.approx(1.0)
    assert np.allclose(q[:10], p[:10] / p[:10].sum())
    assert np.allclose(zipf.cut_tail(p, 500), p)
    assert zipf.tail_mass(p, 10) == pytest.approx(p[10:].sum())
    assert np.allclose(zipf.tail_mass(p, np.array([0, 100])), [1.0, 0.0])


def test_expected_error_matches_simulation():
    p = zipf.zipf_probs(20_000, 1.5)
    rng = np.random.default_rng(3)
    for T, q in [(1000, None), (20_000, None), (20_000, zipf.cut_tail(p, 300))]:
        source = p if q is None else q
        errors = np.array([zipf.test_error(p, zipf.sample_counts(source, T, rng)) for _ in range(400)])
        exact = zipf.expected_error(p, T, q)
        assert abs(errors.mean() - exact) <= Z * errors.std(ddof=1) / math.sqrt(errors.size)


def test_expected_error_exact_small_case():
    p = np.array([0.5, 0.3, 0.2])
    expected = 0.5 * 0.5**4 + 0.3 * 0.7**4 + 0.2 * 0.8**4
    assert zipf.expected_error(p, 4) == pytest.approx(expected)
    assert zipf.expected_error(p, [0, 4]).tolist() == pytest.approx([1.0, expected])


def test_clean_error_asymptotic_and_floor():
    beta = 2.0
    p = zipf.zipf_probs(2_000_000, beta)
    T = np.array([1e3, 1e4, 1e5])
    assert np.allclose(zipf.expected_error(p, T), zipf.clean_error_asymptotic(beta, T), rtol=0.02)
    assert zipf.fit_power_law(T, zipf.expected_error(p, T)) == pytest.approx(-(1 - 1 / beta), abs=0.01)
    k = np.array([100, 1000])
    assert np.allclose(zipf.tail_mass(p, k), zipf.tail_floor_asymptotic(beta, k), rtol=0.01)
    assert zipf.clean_error_asymptotic(beta, 1.0) == pytest.approx(special.gamma(0.5) / (2 * math.sqrt(math.pi**2 / 6)))


def test_tail_cut_error_plateaus_at_tail_mass():
    p = zipf.zipf_probs(100_000, 1.5)
    k = 100
    big = zipf.expected_error(p, 1e7, zipf.cut_tail(p, k))
    assert big == pytest.approx(zipf.tail_mass(p, k), rel=1e-6)


def test_simulate_generations():
    p = zipf.zipf_probs(5000, 1.5)
    errs = zipf.simulate_generations(p, 2000, 6, chains=3, seed=1)
    assert errs.shape == (3, 7) and np.all(errs[:, 0] == 0)
    # without clean data the support can only shrink, so the error never decreases
    assert np.all(np.diff(errs[:, 1:], axis=1) >= -1e-12)
    # generation 1 has the clean error in expectation
    many = zipf.simulate_generations(p, 2000, 1, chains=300, seed=2)[:, 1]
    assert abs(many.mean() - zipf.expected_error(p, 2000)) <= Z * many.std(ddof=1) / math.sqrt(many.size)
    # a tail cut at k leaves at least the tail mass unseen
    cut = zipf.simulate_generations(p, 2000, 3, k=50, chains=2, seed=3)
    assert np.all(cut[:, 1:] >= zipf.tail_mass(p, 50) - 1e-12)
    # reproducible
    assert np.array_equal(errs, zipf.simulate_generations(p, 2000, 6, chains=3, seed=1))


def test_transform_hook():
    p = zipf.zipf_probs(1000, 1.5)
    top = zipf.simulate_generations(p, 500, 2, transform=lambda q: zipf.cut_tail(q, 20), seed=4)
    cut = zipf.simulate_generations(p, 500, 2, k=20, seed=4)
    assert np.array_equal(top, cut)
    assert np.array_equal(zipf.apply_transform(p, None), p)
    with pytest.raises(ValueError, match="sum to 1"):
        zipf.apply_transform(p, lambda q: 2 * q)
    with pytest.raises(ValueError, match="shape"):
        zipf.apply_transform(p, lambda q: q[:10])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: zipf.zipf_probs(0, 1.5), "vocab"),
        (lambda: zipf.zipf_probs(10, 1.0), "beta"),
        (lambda: zipf.cut_tail([0.5, 0.5], 0), "k must"),
        (lambda: zipf.cut_tail([0.5, 0.6], 1), "sum to 1"),
        (lambda: zipf.expected_error([0.5, 0.5], -1), "tokens"),
        (lambda: zipf.simulate_generations([0.5, 0.5], 10, 2, clean_fraction=2.0), "clean_fraction"),
        (lambda: zipf.simulate_generations([0.5, 0.5], 10, 2, transform=3), "transform"),
        (lambda: zipf.english_word_probs(wordlist="huge"), "wordlist"),
        (lambda: zipf.fit_zipf_exponent(zipf.zipf_probs(100, 2.0), 10, 1000), "last"),
        (lambda: zipf.tail_mass([0.5, 0.5], -1), "k must"),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_cut_tail_ties_broken_by_rank():
    q = np.array([0.1, 0.2, 0.2, 0.2, 0.3])
    out = zipf.cut_tail(q, 3)
    assert np.count_nonzero(out) == 3
    assert out[4] > 0 and out[1] > 0 and out[2] > 0 and out[3] == 0 and out[0] == 0
