"""The loop's hooks: generation passed to every fit, the reference model on every step,
sampler= and filter=, the public Policy protocol, and run_chains' per-chain cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from collapse_utils import cache as cache_module
from collapse_utils import loop, samplers
from collapse_utils.cache import Cache
from collapse_utils.families.gaussian import GaussianFamily, GaussianModel

TRUTH = GaussianModel(0.0, 1.0)


class Recording(GaussianFamily):
    """A Gaussian family that records the generation of every fit."""

    def __init__(self):
        super().__init__("mle")
        self.generations = []

    def fit(self, data, rng=None, *, generation=None):
        self.generations.append(generation)
        return super().fit(data, rng)


def test_every_fit_receives_its_generation():
    fam = Recording()
    loop.run(fam, initial_model=TRUTH, n=10, generations=4, seed=0, progress=False)
    assert fam.generations == [1, 2, 3, 4]
    fam = Recording()
    loop.run(fam, real=np.arange(10.0), generations=3, seed=0, progress=False)
    assert fam.generations == [0, 1, 2, 3]


def test_a_fit_without_generation_is_refused_before_running():
    class Old:
        def fit(self, data, rng):
            raise AssertionError("must not be called")

        def sample(self, model, n, rng):
            raise AssertionError("must not be called")

    with pytest.raises(ValueError, match=r"Old.fit must accept the keyword generation="):
        loop.run(Old(), initial_model=TRUTH, n=5, generations=2)


@pytest.mark.parametrize("family", [None, object()])
def test_a_non_family_is_refused(family):
    with pytest.raises(ValueError, match="family must have fit"):
        loop.run(family, initial_model=TRUTH, n=5, generations=2)


def test_reference_is_generation_zero_also_after_a_resume(tmp_path):
    seen = []
    metrics = {"ref_var": lambda step: seen.append(step.reference) or step.reference.var}
    kwargs = dict(real=np.random.default_rng(1).normal(size=50), generations=4, seed=3, progress=False)
    first = loop.run(GaussianFamily(), metrics=metrics, cache=Cache("hooks", {}, root=tmp_path), **kwargs)
    gen0 = seen[0]
    assert all(r is gen0 for r in seen)  # the model fitted at generation 0
    assert np.all(first["ref_var"] == gen0.var)
    # drop generations 2.. from the cache: the resumed run recomputes them with generation 0 from the cache
    cache = Cache("hooks", {}, root=tmp_path)
    for step in (2, 3, 4):
        for suffix in ("pkl", "sig"):
            (cache.path / f"{step:06d}.{suffix}").unlink()
    seen.clear()
    resumed = loop.run(GaussianFamily(), metrics=metrics, cache=cache, **kwargs)
    assert resumed == first
    assert len(seen) == 3 and all(r == gen0 for r in seen)
    # with an initial model the reference is the truth itself
    seen.clear()
    loop.run(GaussianFamily(), initial_model=TRUTH, n=10, generations=2, metrics=metrics, progress=False)
    assert all(r is TRUTH for r in seen)


def test_sampler_replaces_family_sample():
    calls = []

    def shifted(family, model, k, rng):
        calls.append(k)
        return family.sample(model, k, rng) + 100.0

    h = loop.run(GaussianFamily(), initial_model=TRUTH, n=20, generations=3, sampler=shifted, progress=False,
                 metrics={"mean": lambda step: step.model.mean}, seed=0)
    assert calls == [20, 20]  # generations 2 and 3 are fitted to synthetic data
    assert h["mean"][2] > 90 and h["mean"][3] > 190


def test_decoding_needs_a_family_that_supports_it():
    with pytest.raises(ValueError, match=r"GaussianFamily.sample takes no decoding= keyword"):
        loop.run(GaussianFamily(), initial_model=TRUTH, n=10, generations=3, sampler=samplers.Decoding(0.5),
                 progress=False)
    with pytest.raises(ValueError, match="temperature must be"):
        samplers.Decoding(temperature=0.0)


def test_filter_keeps_only_accepted_samples_and_reports_what_it_saw():
    previous_generations = []

    def positive_only(samples, step, rng):
        previous_generations.append(step.generation)
        return samples > 0

    h = loop.run(GaussianFamily(), initial_model=TRUTH, n=50, generations=3, filter=positive_only, seed=0,
                 progress=False, metrics={"min": lambda step: -1 if step.data is None else float(np.min(step.data))})
    assert np.all(h["min"][2:] > 0)  # synthetic training sets hold only accepted samples
    assert h["min"][1] < 0  # generation 1 trains on real draws, which are not filtered
    assert set(previous_generations) == {1, 2}


@pytest.mark.parametrize(
    "bad, match",
    [
        (lambda s, step, rng: np.ones(len(s)), "boolean mask"),
        (lambda s, step, rng: np.zeros(len(s), dtype=bool), "acceptance rate below"),
    ],
)
def test_a_bad_filter_gets_a_clear_error(bad, match):
    with pytest.raises(ValueError, match=match):
        loop.run(GaussianFamily(), initial_model=TRUTH, n=5, generations=2, filter=bad, progress=False)


def test_a_custom_policy_through_the_public_protocol():
    class KeepFirstReal:
        """Trains on the first real point plus the synthetic batch."""

        name = "keep_first"

        def n_synthetic(self, n):
            return n - 1

        def assemble(self, synthetic, state: loop.PolicyState, draw_real, rng):
            return np.concatenate([state.real0[:1], synthetic]), 1

    assert isinstance(KeepFirstReal(), loop.Policy)
    h = loop.run(GaussianFamily(), initial_model=TRUTH, n=10, generations=3, policy=KeepFirstReal(),
                 progress=False)
    assert list(h["n_real"]) == [0, 10, 1, 1]
    with pytest.raises(ValueError, match="Policy protocol"):
        loop.run(GaussianFamily(), initial_model=TRUTH, n=10, generations=3, policy=object())


def test_run_chains_cache_is_per_chain_with_the_loop_seeding(tmp_path, monkeypatch):
    kwargs = dict(family=GaussianFamily(), initial_model=TRUTH, n=15, generations=5,
                  policy=loop.Mix(0.2), metrics={"var": lambda step: step.model.var})
    plain = loop.run_chains(3, seed=11, **kwargs)
    cached = loop.run_chains(3, seed=11, cache="chains", cache_params={"n": 15}, cache_root=tmp_path, **kwargs)
    assert all(a == b for a, b in zip(plain, cached))
    folders = sorted(p for p in (tmp_path / "chains").iterdir())
    assert len(folders) == 3  # one cache per chain
    # a second call fits nothing: every generation comes from the cache
    def no_fit(*args, **kwargs):
        raise AssertionError("fitted although every generation is cached")

    monkeypatch.setattr(GaussianFamily, "fit", no_fit)  # the source, hence the key, is unchanged
    again = loop.run_chains(3, seed=11, cache="chains", cache_params={"n": 15}, cache_root=tmp_path, **kwargs)
    assert all(a == b for a, b in zip(plain, again))
    with pytest.raises(ValueError, match="cache_params and cache_root need cache"):
        loop.run_chains(2, cache_params={"n": 1}, **kwargs)


def test_code_version_follows_the_modules_actually_used():
    used = {m.__name__ for m in cache_module.modules_used([GaussianFamily(), loop.Mix(0.1), loop.run])}
    assert {"collapse_utils.families.gaussian", "collapse_utils.policies", "collapse_utils.loop",
            "collapse_utils.checks"} <= used
    assert not any(name.startswith(("collapse_utils.families.vae", "collapse_utils.families.lm")) for name in used)
    assert cache_module.modules_used([lambda x: x, np.mean]) == []
    a = Cache("k", {}, uses=[GaussianFamily()]).key
    assert a == Cache("k", {}, uses=[GaussianFamily("unbiased")]).key  # same code, same key
    assert a != Cache("k", {}, uses=[loop.Mix(0.1)]).key


def test_the_reseeding_mode_shifts_every_integer_seed(monkeypatch):
    """tests/conftest.py: COLLAPSE_TEST_SEED_OFFSET moves default_rng, the loop's seeds and torch's."""
    import importlib.util
    import os

    if os.environ.get("COLLAPSE_TEST_SEED_OFFSET"):
        pytest.skip("tests the reseeding mode itself, which is already active in this session")

    from collapse_utils import loop as loop_module

    spec = importlib.util.spec_from_file_location("reseed_conftest", Path(__file__).parents[1] / "conftest.py")
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    before = np.random.default_rng(5).random()
    var = {"var": lambda step: step.model.var}
    loop_before = loop.run(GaussianFamily(), initial_model=TRUTH, n=10, generations=2, seed=5, metrics=var,
                           progress=False)
    monkeypatch.setattr(np.random, "default_rng", np.random.default_rng)  # restored after the test
    monkeypatch.setattr(loop_module, "_seed_sequence", loop_module._seed_sequence)
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch, "manual_seed", torch.manual_seed)
    monkeypatch.setenv(conftest.SEED_OFFSET_ENV, "1")
    conftest.pytest_configure(None)
    assert np.random.default_rng(5).random() == np.random.Generator(np.random.PCG64(5 + conftest.SEED_STRIDE)).random()
    assert np.random.default_rng(5).random() != before
    assert np.random.default_rng(None) is not None  # entropy from the OS: untouched
    shifted = loop.run(GaussianFamily(), initial_model=TRUTH, n=10, generations=2, seed=5, metrics=var,
                       progress=False)
    assert shifted != loop_before
    monkeypatch.setenv(conftest.SEED_OFFSET_ENV, "x")
    with pytest.raises(pytest.UsageError, match="must be an integer"):
        conftest.pytest_configure(None)
