"""The long-run fate of the Gaussian loop: when does it collapse? (chapter 01)

One function, :func:`long_run_fate`, answers for a one-dimensional Gaussian
refitted generation after generation: under a data policy, with an estimator,
and with a sampler that draws from N(mu_t, tau sigma_t^2) (a temperature
tau: tau < 1 favours typical samples, tau > 1 spreads them), does the fitted
variance collapse to 0, settle at a positive level, or explode? Each answer
comes from an exact result of a later chapter:

- ``replace``: log sigma_t^2 is a random walk with drift log tau + delta_n
  (:func:`collapse_utils.exact.gaussian.log_variance_drift`); its sign decides,
  almost surely (chapter 02).
- ``mix`` / ``mix_fixed``: the exact moment recursion contracts or not
  (:func:`collapse_utils.exact.gaussian_mixing.mix_contraction`); where it does,
  the expected variance settles at the fixed point, and the pathwise floor keeps
  it from 0 (chapter 08).
- ``accumulate``: the exact expected-variance recursion
  (:func:`collapse_utils.exact.gaussian_mixing.accumulate_moments`) converges
  for tau = 1 and drifts like t^(tau - 1) otherwise (chapter 08).
- ``growing``: a sample size n_t = n t^growth with growth > 1; at tau = 1 the
  variance settles (sum 1/n_t converges, chapter 02); otherwise the drift
  log tau per generation decides.
"""

from __future__ import annotations

import math

import numpy as np

from collapse_utils.checks import check_choice, check_int, check_number
from collapse_utils.exact import gaussian, gaussian_mixing

__all__ = ["POLICIES", "FATES", "long_run_fate"]

#: The policies :func:`long_run_fate` knows, in the order chapter 01 shows them.
POLICIES = ("replace", "mix", "mix_fixed", "accumulate", "growing")

#: The three fates.
FATES = ("collapses", "settles", "explodes")

# generations over which the accumulate and growing recursions are carried to their limit
_HORIZON = 100_000


def long_run_fate(policy: str, *, estimator: str = "mle", temperature: float = 1.0, n: int = 100,
                  real_fraction: float = 0.1, growth: float = 2.0) -> dict:
    """Where the fitted variance of the Gaussian loop goes as t -> infinity (chapter 01).

    Returns ``{"fate": one of FATES, "limit": lim E[sigma_t^2] / sigma0^2 when
    the fate is "settles" (else None), "rate": the per-generation drift of
    log sigma_t^2 (replace, growing) or the exponent of t^(tau - 1)
    (accumulate) when the fate is not "settles" (else None)}``.
    ``real_fraction`` is lambda of the mix policies (fresh or a fixed pool of
    round(lambda n) points); ``growth`` the exponent of n_t = n t^growth
    (must exceed 1: the criterion of chapter 02 needs sum 1/n_t finite).

    Book: {ref}`sec-01-fates`
    """
    policy = check_choice("policy", policy, POLICIES)
    estimator = check_choice("estimator", estimator, gaussian.ESTIMATORS)
    tau = check_number("temperature", temperature, 0.0, strict=True)
    n = check_int("n", n, 2)
    lam = check_number("real_fraction", real_fraction, 0.0, 1.0, strict=True)
    growth = check_number("growth", growth, 1.0, strict=True)

    if policy == "replace":
        drift = math.log(tau) + gaussian.log_variance_drift(n, estimator)
        return {"fate": "collapses" if drift < 0 else "explodes", "limit": None, "rate": drift}
    if policy in ("mix", "mix_fixed"):
        fresh = policy == "mix"
        radius = float(gaussian_mixing.mix_contraction(n, lam, estimator=estimator, sampling_scale=tau))
        if radius >= 1:
            return {"fate": "explodes", "limit": None, "rate": math.log(radius)}
        limit = gaussian_mixing.mix_fixed_point(n, lam, fresh=fresh, estimator=estimator, sampling_scale=tau)[0]
        return {"fate": "settles", "limit": limit, "rate": None}
    if policy == "accumulate":
        if tau == 1.0:
            s, _ = gaussian_mixing.accumulate_moments(n, _HORIZON, estimator=estimator)
            return {"fate": "settles", "limit": float(s[-1]), "rate": None}
        return {"fate": "collapses" if tau < 1 else "explodes", "limit": None, "rate": tau - 1.0}
    # growing: n_t = n t^growth
    if tau == 1.0:
        sizes = np.maximum(2, np.round(n * np.arange(1, _HORIZON + 1, dtype=float) ** growth))
        limit = float(gaussian.schedule_expected_variance(sizes, estimator=estimator)[-1])
        return {"fate": "settles", "limit": limit, "rate": None}
    return {"fate": "collapses" if tau < 1 else "explodes", "limit": None, "rate": math.log(tau)}
