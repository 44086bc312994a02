"""Chapter 14's exercise answers, each recomputed by an independent route."""

import math

import numpy as np
from scipy import integrate, stats

from collapse_utils.answers import solve


def test_kde_growth_by_simulation():
    a = solve("ex-14-kde-growth")
    n, t = a["n"], a["t"]
    assert (n, t) == (100, 10)
    rng = np.random.default_rng(10)
    chains = 4000
    x = rng.standard_normal((chains, n))
    for _ in range(t):  # resample points, add Gaussian kernel noise of sd h = n^(-1/5) * sd(ddof=1)
        h = n ** -0.2 * x.std(axis=1, ddof=1, keepdims=True)
        pick = np.take_along_axis(x, rng.integers(0, n, (chains, n)), axis=1)
        x = pick + h * rng.standard_normal((chains, n))
    # the model after generation t: KDE of x, variance = biased var + h^2
    var = x.var(axis=1) + (n ** -0.2 * x.std(axis=1, ddof=1)) ** 2
    # E[var_model_t] = growth^(t+1) (t resampling steps + the final fit, sigma_0^2 = 1); 4 SE
    se = var.std() / math.sqrt(chains)
    assert abs(var.mean() - a["growth"] ** (t + 1)) < 4 * se
    assert a["ratio"] == a["growth"] ** t
    assert math.isclose(a["scott_factor"], stats.gaussian_kde(np.arange(n, dtype=float)).factor)


def test_kde_neutral_factor_keeps_variance():
    a = solve("ex-14-kde-growth")
    n = a["n"]
    rng = np.random.default_rng(11)
    chains, t = 4000, 5
    x = rng.standard_normal((chains, n))
    for _ in range(t):
        h = a["neutral_factor"] * x.std(axis=1, ddof=1, keepdims=True)
        x = np.take_along_axis(x, rng.integers(0, n, (chains, n)), axis=1) + h * rng.standard_normal((chains, n))
    var = x.var(axis=1, ddof=1)  # unbiased estimate of the generation-t model's variance
    se = var.std() / math.sqrt(chains)
    assert abs(var.mean() - 1.0) < 4 * se  # 4 standard errors


def test_signatures():
    a = solve("ex-14-signatures")
    assert (a["delta"], a["n"], a["target"]) == (3.0, 50, 0.5)
    # forgetting: E_{x ~ N(0,1)} log N(x; delta, 1) - E log N(x; 0, 1), by quadrature
    old = integrate.quad(lambda x: stats.norm.pdf(x) * stats.norm.logpdf(x), -12, 12)[0]
    new = integrate.quad(lambda x: stats.norm.pdf(x) * stats.norm.logpdf(x, a["delta"]), -12, 12)[0]
    assert math.isclose(old - new, a["forget_drop"], rel_tol=1e-7)
    # collapse: entropy of N(mu_t, sigma_t^2) falls by -E[log sigma_t^2]/2; simulate chi-square products
    rng = np.random.default_rng(12)
    n, t, chains = a["n"], int(a["t"]), 200_000
    log_var = np.log(rng.chisquare(n - 1, (chains, t)) / n).sum(axis=1)
    drop = -0.5 * log_var
    se = drop.std() / math.sqrt(chains)
    assert abs(drop.mean() - a["drop_at_t"]) < 4 * se  # 4 standard errors
    assert a["drop_at_t"] >= a["target"] > a["drop_at_t"] - a["drift"]


def test_one_shot_by_simulation():
    a = solve("ex-14-one-shot")
    n, lam, t = a["n"], a["lam"], a["t"]
    assert (n, lam, t) == (50, 0.2, 20)
    k = int(round(lam * n))
    rng = np.random.default_rng(13)
    chains = 40_000
    x = rng.standard_normal((chains, n))
    mu, var = x.mean(axis=1), x.var(axis=1)
    history = [var]
    for _ in range(t - 1):
        syn = mu[:, None] + np.sqrt(var)[:, None] * rng.standard_normal((chains, n - k))
        x = np.concatenate([rng.standard_normal((chains, k)), syn], axis=1)
        mu, var = x.mean(axis=1), x.var(axis=1)
        history.append(var)
    for value, sim in ((a["one_shot"], history[1]), (a["iterative"], history[t - 1])):
        assert abs(sim.mean() - value) < 4 * sim.std() / math.sqrt(chains)  # 4 standard errors
    assert abs(a["iterative"] - a["fixed_point"]) < 1e-4
    # replace: n sigma^2 / sigma_prev^2 ~ chi2(n-1), product of t independent factors
    prod = np.prod(rng.chisquare(n - 1, (chains, t)) / n, axis=1)
    assert abs(prod.mean() - a["replace"]) < 4 * prod.std() / math.sqrt(chains)


def _one_shot_fixed_error(n, share, e, chains, rng):
    """Simulated sigma_2^2 of the one-shot model when the generator's variance is
    shrunk by the fixed factor 1 - e (sigma_0 = 1): fit n real points, sample
    share * n points from N(mu_1, (1 - e) sigma_1^2), pool them with fresh real
    points, and fit again (MLE)."""
    m = int(round(share * n))
    x = rng.standard_normal((chains, n))
    mu, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    syn = mu + np.sqrt((1 - e) * var) * rng.standard_normal((chains, m))
    pooled = np.concatenate([rng.standard_normal((chains, n - m)), syn], axis=1)
    return pooled.var(axis=1)


def test_fixed_error_by_simulation():
    """The deficit formula against a simulation of the whole procedure, at the
    exercise's n = 100 and at n = 8 (where the 1/n^2 term is about seven
    standard errors, so the exact finite-n form is tested); tolerance 4 SE."""
    a = solve("ex-14-fixed-error")
    e, share = a["e"], a["share"]
    assert (e, share, a["n_small"], a["n_mid"], a["n_large"]) == (0.02, 0.5, 100, 1000, 10_000)
    rng = np.random.default_rng(14)
    for n, chains in ((a["n_small"], 100_000), (8, 400_000)):
        var = _one_shot_fixed_error(n, share, e, chains, rng)
        deficit = (share * e + (a["lam"] ** 2 + 2 * share * (1 - e)) / n
                   - share * (1 - e) / n**2)
        if n == a["n_small"]:
            assert deficit == a["deficit_small"]
        se = var.std() / math.sqrt(chains)
        assert abs((1 - var.mean()) - deficit) < 4 * se, (n, 1 - var.mean(), deficit, se)


def test_fixed_error_limits():
    """Without the fixed error the formula is chapter 14's one-shot deficit (the
    exact recursion of chapter 08, gaussian_mixing.mix_moments); with it the
    deficit never falls below the floor a e, approached like slope / n."""
    from collapse_utils.exact import gaussian_mixing

    a = solve("ex-14-fixed-error")
    n = a["n_large"]
    s, _ = gaussian_mixing.mix_moments(n, a["lam"], 2)
    assert math.isclose(a["clean_large"], 1 - s[2], rel_tol=1e-6)
    assert math.isclose(a["floor"], a["share"] * a["e"])
    assert math.isclose(a["tau"], 1 - a["e"])
    for name in ("small", "mid", "large"):
        gap = a[f"deficit_{name}"] - a["floor"]
        assert 0 < gap < a["slope"] / a[f"n_{name}"]
    # the 1/n part equals the floor at n_cross: below it the 1/n part dominates
    assert math.isclose(a["slope"] / a["n_cross"], a["floor"])
    assert a["n_small"] < a["n_cross"] < a["n_mid"]
    assert math.isclose(a["ratio_large"], a["deficit_large"] / a["clean_large"])
