"""The filter hook never changes the number of training points silently (chapter 11)."""

import pytest

from collapse_utils import loop
from collapse_utils.exact import verification as V
from collapse_utils.families.gaussian import GaussianModel
from collapse_utils.families.labelled import LabelledGaussianFamily

TRUTH = GaussianModel(0.0, 1.0)


@pytest.mark.parametrize("policy", [loop.Replace(), loop.Mix(0.3, fresh=True), loop.Accumulate()])
def test_a_shrinking_filter_is_topped_up_to_n(policy):
    seen = []

    def verifier(samples, step, rng):
        mask = V.Verifier(0.9, 0.1)(samples, step, rng)
        seen.append((len(samples), int(mask.sum())))
        return mask

    h = loop.run(LabelledGaussianFamily(), initial_model=TRUTH, n=40, generations=4, policy=policy,
                 sampler=V.AccuracySampler(TRUTH, 0.2), filter=verifier, seed=0, progress=False)
    expected = {"replace": [40] * 4, "mix": [40] * 4, "accumulate": [40, 80, 120, 160]}[policy.name]
    assert list(h["n_train"][1:]) == expected  # the loop draws until n samples are accepted
    assert any(kept < drawn for drawn, kept in seen)  # the filter did reject samples
    assert all(drawn == policy.n_synthetic(40) for drawn, _ in seen)  # each round asks for the batch size


def test_a_filter_that_accepts_too_little_is_refused_not_shrunk():
    with pytest.raises(ValueError, match="acceptance rate below"):
        loop.run(LabelledGaussianFamily(), initial_model=TRUTH, n=40, generations=3,
                 sampler=V.AccuracySampler(TRUTH, 0.0), filter=V.Verifier(1.0, 0.001), seed=0, progress=False)
