"""Independent checks of chapter 07's exercise answers (collapse_utils.answers.ch07).

Routes: numerical integration of the tilted density instead of the Gaussian
algebra, bisection on the iterated tilt instead of its closed form, and a
simulation of maximum-likelihood refits (tolerance 4 standard errors of the
mean, a false failure about 6e-5).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from collapse_utils.answers import solve


def test_tilt():
    a = solve("ex-07-tilt")

    def density(x):
        return stats.norm.pdf(x, a["mu"], a["s"]) ** (1 + a["w"]) * stats.norm.pdf(x, a["m"], a["sd_all"]) ** (
            -a["w"]
        )

    z = integrate.quad(density, -10, 10)[0]
    mean = integrate.quad(lambda x: x * density(x), -10, 10)[0] / z
    var = integrate.quad(lambda x: (x - mean) ** 2 * density(x), -10, 10)[0] / z
    assert a["mean"] == pytest.approx(mean, rel=1e-8)
    assert a["sd"] == pytest.approx(var**0.5, rel=1e-8)
    assert a["ratio"] < a["lam"] + 0.1 and a["lam"] == 0.5


def test_halve():
    a = solve("ex-07-halve")

    def sd_after(w):  # refit to the tilted class t times, by the one-step tilt applied again and again
        s2 = a["s"] ** 2
        for _ in range(a["t"]):
            s2 = 1 / ((1 + w) / s2 - w / a["sd_all"] ** 2)
        return s2**0.5

    lo, hi = 0.0, 5.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if sd_after(mid) > a["s"] / 2 else (lo, mid)
    assert a["w"] == pytest.approx(hi, rel=1e-9)
    assert a["w"] == pytest.approx(a["naive"], rel=0.02)  # a narrow mode: lambda^t = 1/4 nearly
    assert a["w1_sd"] == pytest.approx(sd_after(1.0), rel=1e-12)


def test_finite():
    a = solve("ex-07-finite")
    m, t = int(a["m"]), a["t"]
    assert a["m"] == 62.5
    rng = np.random.default_rng(7)
    chains = 200_000
    for mm in (62, 63):  # m = 62.5: the average of 62 and 63 points
        var = np.ones(chains)
        for _ in range(t):
            x = rng.standard_normal((chains, mm)) * np.sqrt(var)[:, None]
            var = x.var(axis=1)
        exact = ((mm - 1) / mm) ** t
        se = var.std(ddof=1) / np.sqrt(chains)
        assert abs(var.mean() - exact) < 4 * se
    assert a["kept"] == pytest.approx(((m + 0.5 - 1) / (m + 0.5)) ** t, rel=1e-12)
