"""Chapter 11's exercise answers, each checked by an independent route."""

import math

import numpy as np
import pytest
from scipy import optimize

from collapse_utils.answers import solve
from collapse_utils.exact import verification


def test_threshold_by_bisection_on_the_simulated_fixed_point():
    a = solve("ex-11-threshold")
    w = verification.correct_share(a["accuracy"], a["true_accept"], a["false_accept"])
    # independent route: iterate the recursion to its fixed point and compare with 1 - tolerance
    s, _ = verification.verified_recursion(a["n"], w, 4000)
    assert s[-1] == pytest.approx(1 - a["tolerance"], rel=1e-9)
    # and by counting: a q / (a q + f (1 - q)) = w_star
    assert w == pytest.approx(a["w_star"])
    assert a["candidates"] == pytest.approx(1 / (a["true_accept"] * a["accuracy"]
                                                 + a["false_accept"] * (1 - a["accuracy"])))


def test_biased_verifier_by_simulation():
    a = solve("ex-11-biased-verifier")
    rng = np.random.default_rng(0)
    chains, n = 20_000, 50
    mu, var = np.zeros(chains), np.ones(chains)
    for t in range(1, a["t"] + 1):
        k = np.full(chains, n) if t == 1 else rng.binomial(n, a["w"], size=chains)
        centre = 0.0 if t == 1 else a["delta"]
        correct = centre + rng.standard_normal(chains) / np.sqrt(np.maximum(k, 1))
        errors = mu + np.sqrt(var) * rng.standard_normal(chains) / np.sqrt(np.maximum(n - k, 1))
        mu = (k * correct + (n - k) * errors) / n
    assert abs(mu.mean() - a["mean_t"]) < 4 * mu.std() / math.sqrt(chains)  # 4 standard errors
    assert (1 - a["w"]) ** (a["half"] - 1) == pytest.approx(0.5)


def test_kl_optimum_by_numerical_optimisation():
    a = solve("ex-11-kl")

    def objective(p):
        m, log_s = p
        s2 = math.exp(2 * log_s)
        reward = -a["beta"] / 2 * ((m - a["c"]) ** 2 + s2)
        kl = math.log(a["s0"] / math.sqrt(s2)) + (s2 + (m - a["m0"]) ** 2) / (2 * a["s0"] ** 2) - 0.5
        return -(reward - a["eta"] * kl)

    best = optimize.minimize(objective, [0.0, 0.0], method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-14})
    assert best.x[0] == pytest.approx(a["mean"], abs=1e-5)
    assert math.exp(2 * best.x[1]) == pytest.approx(a["var"], abs=1e-5)
