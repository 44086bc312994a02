"""Classifier-free guidance as tilting, for Gaussians: one step and the loop.

A conditional model guided with weight ``w`` samples, in the low-noise limit,
from the tilted density ``p(x | c)^(1 + w) p(x)^(-w)`` (normalised). When the
class density is ``N(mu, s^2)`` and the unconditional one ``N(m, S^2)`` with
``s^2 < S^2 (1 + w) / w``, the tilted density is Gaussian again: precisions
combine linearly, ``1/v = (1 + w)/s^2 - w/S^2``, and so do the precision-weighted
means. Retrained on its own guided samples, generation after generation, with
the unconditional density held fixed, the excess precision ``1/s_t^2 - 1/S^2``
grows by the factor ``1 + w`` at every generation (:func:`iterate_tilt`): the
class variance falls geometrically, by ``lambda = 1/(1 + w)`` per generation
when ``s << S``. This is the stylised model of the diffusion chapter, not what
a sampler does at every noise level (see the chapter).

Book: {prf:ref}`prop-07-tilt`
"""

from __future__ import annotations

import numpy as np

from collapse_utils.checks import check_int, check_number

__all__ = ["tilt_gaussian", "iterate_tilt"]


def tilt_gaussian(mu: float, s2: float, m: float, S2: float, w: float) -> tuple[float, float]:
    """Mean and variance of ``N(mu, s2)^(1 + w) N(m, S2)^(-w)``, normalised.

    ``s2, S2 > 0``, ``w >= 0``; the tilted density must be normalisable:
    ``(1 + w)/s2 > w/S2``, else ``ValueError``.

    Book: {prf:ref}`prop-07-tilt`
    """
    mu = check_number("mu", mu)
    m = check_number("m", m)
    s2 = check_number("s2", s2, low=0.0, strict=True)
    S2 = check_number("S2", S2, low=0.0, strict=True)
    w = check_number("w", w, low=0.0)
    precision = (1 + w) / s2 - w / S2
    if not precision > 0:
        raise ValueError(
            f"the tilted density is not normalisable: (1 + w)/s2 - w/S2 = {precision:g} <= 0 "
            f"(s2 = {s2:g}, S2 = {S2:g}, w = {w:g}); it needs s2 < S2 (1 + w)/w"
        )
    mean = ((1 + w) * mu / s2 - w * m / S2) / precision
    return float(mean), float(1 / precision)


def iterate_tilt(s2: float, S2: float, w: float, generations: int) -> np.ndarray:
    """Class variances ``s_0^2 ... s_T^2`` when every generation is refitted to the
    previous one's guided samples (infinitely many: no sampling error) and the
    unconditional variance ``S2`` stays fixed: ``1/s_t^2 - 1/S2 = (1 + w)^t
    (1/s_0^2 - 1/S2)``. Requires ``s2 <= S2``.

    Book: {prf:ref}`prop-07-tilt`
    """
    s2 = check_number("s2", s2, low=0.0, strict=True)
    S2 = check_number("S2", S2, low=0.0, strict=True)
    w = check_number("w", w, low=0.0)
    generations = check_int("generations", generations, 0, 10**6)
    if s2 > S2:
        raise ValueError(f"s2 must be at most S2 (a class inside the whole); got s2 = {s2:g} > S2 = {S2:g}")
    t = np.arange(generations + 1)
    return 1.0 / (1.0 / S2 + (1.0 + w) ** t * (1.0 / s2 - 1.0 / S2))
