"""Bad input gets one clear ValueError naming the parameter, before any computation (issue 19).

Each case was a traceback, a NaN result, a silent acceptance or a multi-GiB allocation
before: the message must name the parameter and what is allowed (or, for memory,
how much the call would need)."""

from __future__ import annotations

import numpy as np
import pytest

from collapse_utils import checks, loop
from collapse_utils.exact import categorical, filtering, gaussian, zipf
from collapse_utils.families import nonparametric
from collapse_utils.families.gaussian import GaussianFamily, GaussianModel

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("call, message", [
    (lambda: GaussianModel(0.0, -1.0), "var must be a finite number >= 0.0; got -1.0"),
    (lambda: GaussianModel(float("nan"), 1.0), "mean must be a finite number; got nan"),
    (lambda: GaussianFamily().fit(np.array([1.0, np.nan, 2.0]), RNG), "data must be finite numbers"),
    (lambda: GaussianFamily().fit(np.array([1.0, np.inf, 2.0]), RNG), "data must be finite numbers"),
    (lambda: gaussian.simulate(10, 2, 5, seed="abc"), "seed must be None, a non-negative integer"),
    (lambda: gaussian.simulate(10, 2, 5, seed=-1), "seed must be None, a non-negative integer"),
    (lambda: zipf.simulate_generations(zipf.zipf_probs(100, 1.5), 1000, 2, seed="abc"), "seed must be None"),
    (lambda: loop.run(None, initial_model=GaussianModel(0, 1), n=10, generations=2, progress=False),
     "family must have fit"),
    (lambda: filtering.kept_fraction("0.5", 0.5, 0.1), "synthetic_share must be a number or an array of numbers"),
    (lambda: filtering.effective_real_fraction(0.5, [0.5, "x"], 0.1), "recall must be a number"),
    (lambda: nonparametric.HistogramFamily(bins=10**9), r"bins must be an integer in \[1, 10000000\]"),
])
def test_bad_values_are_named_before_anything_runs(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("call, what", [
    (lambda: zipf.zipf_probs(10**10, 1.5), r"zipf_probs\(vocab=10,000,000,000\) would need 149.0 GiB"),
    (lambda: gaussian.simulate(10, 10**5, 10**6, seed=0),
     r"simulate\(n=10, generations=100000, chains=1000000\) would need 2,980.3 GiB"),
])
def test_huge_arrays_are_refused_with_their_size_before_allocating(call, what, monkeypatch):
    monkeypatch.setenv(checks.MEMORY_ENV, "4")
    with pytest.raises(ValueError, match=what + r" of memory, more than the 4.0 GiB allowed"):
        call()


def test_the_memory_limit_follows_the_environment(monkeypatch):
    monkeypatch.setenv(checks.MEMORY_ENV, "0.5")
    assert checks.memory_limit() == 2**29
    checks.check_memory("x", 2**29)  # at the limit: allowed
    with pytest.raises(ValueError, match="x would need 0.5 GiB"):
        checks.check_memory("x", 2**29 + 1)
    monkeypatch.setenv(checks.MEMORY_ENV, "lots")
    with pytest.raises(ValueError, match="COLLAPSE_MAX_MEMORY_GB must be a number of GiB"):
        checks.memory_limit()
    monkeypatch.delenv(checks.MEMORY_ENV)
    assert checks.memory_limit() > 2**30  # half of any machine that runs the book


def test_valid_numpy_scalars_and_seeds_are_accepted():
    assert categorical.check_pipeline(100, 4, 1, np.int64(3), np.int64(0)) == (1, 3.0, 0.0)
    assert filtering.kept_fraction(np.float32(0.5), 1, 0) == pytest.approx(0.5)
    for seed in (None, 3, np.int64(3), [1, 2], np.random.SeedSequence(3), np.random.default_rng(3)):
        checks.check_seed("seed", seed)
    means, variances = gaussian.simulate(10, 2, 5, seed=np.int64(3))
    assert means.shape == variances.shape == (5, 3)
    assert GaussianModel(np.float64(0.5), 0.0).var == 0.0  # a collapsed model is a model


@pytest.mark.parametrize("kwargs, message", [
    ({"generations": 10**8}, r"generations must be an integer in \[0, 1000000\]"),
    ({"n": 10**30}, r"n must be an integer in \[1, 1000000000\]"),
])
def test_the_loop_refuses_runs_it_cannot_honour_before_spawning_seeds(kwargs, message):
    """loop.run(generations=10**8) used to hang in SeedSequence.spawn before the first generation."""
    args = {"initial_model": GaussianModel(0, 1), "n": 10, "generations": 2, "progress": False} | kwargs
    with pytest.raises(ValueError, match=message):
        loop.run(GaussianFamily(), **args)
    with pytest.raises(ValueError, match=r"chains must be an integer in \[1, 10000000\]"):
        loop.run_chains(10**8, family=GaussianFamily(), initial_model=GaussianModel(0, 1), n=10, generations=1)
