"""The tilted Gaussian of classifier-free guidance, against numerical integration."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from collapse_utils.exact import guidance


def moments_by_quadrature(mu, s2, m, S2, w):
    def density(x):
        return stats.norm.pdf(x, mu, np.sqrt(s2)) ** (1 + w) * stats.norm.pdf(x, m, np.sqrt(S2)) ** (-w)

    lo, hi = mu - 20 * np.sqrt(s2), mu + 20 * np.sqrt(s2)
    z = integrate.quad(density, lo, hi, limit=200)[0]
    mean = integrate.quad(lambda x: x * density(x), lo, hi, limit=200)[0] / z
    var = integrate.quad(lambda x: (x - mean) ** 2 * density(x), lo, hi, limit=200)[0] / z
    return mean, var


@pytest.mark.parametrize(
    "mu, s2, m, S2, w", [(1.0, 0.25, 0.0, 2.25, 1.0), (-0.5, 0.04, 0.3, 1.0, 3.0), (2.0, 1.0, 0.0, 4.0, 0.0)]
)
def test_the_tilt_matches_quadrature(mu, s2, m, S2, w):
    mean, var = guidance.tilt_gaussian(mu, s2, m, S2, w)
    q_mean, q_var = moments_by_quadrature(mu, s2, m, S2, w)
    assert mean == pytest.approx(q_mean, rel=1e-7, abs=1e-9)
    assert var == pytest.approx(q_var, rel=1e-7)


def test_the_iteration_is_the_tilt_applied_again_and_again():
    s2, S2, w = 0.09, 1.0, 1.0
    direct = [s2]
    for _ in range(6):
        direct.append(guidance.tilt_gaussian(0.0, direct[-1], 0.0, S2, w)[1])
    assert guidance.iterate_tilt(s2, S2, w, 6) == pytest.approx(direct, rel=1e-12)
    # a narrow class: the variance falls by lambda = 1/(1 + w) per generation, nearly
    narrow = guidance.iterate_tilt(1e-4, 1.0, 1.0, 5)
    assert narrow[1:] / narrow[:-1] == pytest.approx(0.5, rel=1e-3)
    assert np.all(guidance.iterate_tilt(0.5, 1.0, 0.0, 4) == 0.5)  # no guidance: nothing moves


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: guidance.tilt_gaussian(0, 1.0, 0, 0.1, 1.0), "not normalisable"),
        (lambda: guidance.tilt_gaussian(0, -1.0, 0, 1.0, 1.0), "s2"),
        (lambda: guidance.tilt_gaussian(0, 1.0, 0, 1.0, -1.0), "w"),
        (lambda: guidance.tilt_gaussian(float("nan"), 1.0, 0, 1.0, 1.0), "mu"),
        (lambda: guidance.iterate_tilt(2.0, 1.0, 1.0, 3), "at most S2"),
        (lambda: guidance.iterate_tilt(0.5, 1.0, 1.0, -1), "generations"),
    ],
)
def test_bad_input_is_refused_with_the_parameter_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
