"""Independent checks of chapter 01's exercise answers (collapse_utils.answers.ch01).

Monte-Carlo checks use fixed seeds and allow Z = 4 standard errors (a false alarm
has probability about 6e-5 per comparison).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from collapse_utils import loop
from collapse_utils.answers import solve
from collapse_utils.families.gaussian import GaussianFamily, GaussianModel

Z = 4.0  # standard errors allowed for Monte-Carlo means


def test_accumulate_size_by_running_the_loop():
    ans = solve("ex-01-accumulate-size")
    assert (ans["n"], ans["generations"]) == (100, 100)
    history = loop.run(GaussianFamily(), initial_model=GaussianModel(0.0, 1.0), n=ans["n"],
                       generations=ans["generations"], policy="accumulate", seed=1)
    sizes = history["n_train"]
    assert sizes[-1] == ans["size_last"]
    assert sizes[1:].sum() == ans["total"]  # generation 0 is the truth, fitted to nothing


class _Tagged:
    """A toy family whose samples are unique tags: real points are negative, synthetic positive."""

    def fit(self, data, rng, *, generation=None):
        return "fitted"

    def sample(self, model, n, rng):
        low, high = (-2.0, -1.0) if model == "truth" else (1.0, 2.0)
        return rng.uniform(low, high, size=n)


def test_real_share_by_running_the_loop():
    ans = solve("ex-01-real-share")
    n, m, generations = ans["n"], ans["m"], ans["generations"]
    assert (n, m, generations) == (100, 50, 20)
    # accumulate: deterministic share
    acc = loop.run(_Tagged(), initial_model="truth", n=n, generations=generations,
                   policy="accumulate", seed=0)
    assert acc["n_real"][-1] / acc["n_train"][-1] == ans["share_accumulate"]
    # accumulate-subsample: simulate the loop and count real points per chain
    chains = 400
    real_last, never = np.empty(chains), np.empty(chains)
    for c in range(chains):
        seen: list[np.ndarray] = []
        history = loop.run(
            _Tagged(), initial_model="truth", n=n, generations=generations,
            policy=loop.AccumulateSubsample(size=m), seed=1000 + c,
            metrics={"real": lambda step: None if step.data is None else step.data[step.data < 0]},
        )
        real0 = history.rows[1]["real"]
        for row in history.rows[2:]:
            seen.append(row["real"])
        used = np.unique(np.concatenate(seen))
        real_last[c] = history["n_real"][-1]
        never[c] = len(real0) - np.isin(real0, used).sum()
    for values, exact in ((real_last, ans["real_subsample"]), (never, ans["never_reused"])):
        se = values.std(ddof=1) / math.sqrt(chains)
        assert abs(values.mean() - exact) <= Z * se, (values.mean(), exact, se)
    assert math.isclose(ans["share_subsample"], ans["real_subsample"] / m)
    # the product telescopes into Gamma functions: prod_(t=2..T) (1 - 1/(2t)) for m = n / 2
    gamma_form = math.gamma(generations + 0.5) / (math.gamma(1.5) * math.gamma(generations + 1))
    assert math.isclose(ans["p_never"], gamma_form, rel_tol=1e-12)


def test_by_hand_loop_matches_the_theorem():
    ans = solve("ex-01-by-hand")
    n, generations, chains = ans["n"], ans["generations"], ans["chains"]
    assert (n, generations, chains) == (10, 10, 10_000)
    exact = (stats.chi2(n - 1).mean() / n) ** generations  # E[chi2_(n-1)/n] per generation
    assert math.isclose(ans["exact"], exact, rel_tol=1e-12)
    assert abs(ans["mean"] - exact) <= Z * ans["se"]
    assert math.isclose(ans["z"], (ans["mean"] - exact) / ans["se"])
    # the median, against the same loop run through collapse_utils.loop: the number of
    # chains below the true median is Binomial(k, 1/2), standard deviation sqrt(k)/2, so
    # the order statistics k/2 -+ Z sqrt(k)/2 bracket it (a 4-SE band, wide enough to
    # absorb the answer's own, smaller, sampling error)
    histories = loop.run_chains(2000, seed=7, family=GaussianFamily("mle"),
                                initial_model=GaussianModel(0.0, 1.0), n=n, generations=generations,
                                metrics={"var": lambda step: step.model.var})
    final = np.sort(loop.stack(histories, "var")[:, -1])
    k = len(final)
    half_width = int(math.ceil(Z * math.sqrt(k) / 2))
    assert final[k // 2 - half_width] <= ans["median"] <= final[k // 2 + half_width]
