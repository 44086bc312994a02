"""Linear regression retrained on its own labels (Gerstgrasser et al. 2024): exact error, simulator.

Under ``replace`` the test error grows linearly in the generations; under ``accumulate``
it stays below pi^2/6 times the one-generation error.
"""

from __future__ import annotations

import numpy as np

from collapse_utils.checks import check_int, check_number

__all__ = ["REGRESSION_POLICIES", "regression_error", "simulate_regression"]


REGRESSION_POLICIES = ("replace", "accumulate")


def _policy(policy):
    if policy not in REGRESSION_POLICIES:
        raise ValueError(f"policy must be one of {', '.join(REGRESSION_POLICIES)}; got {policy!r}")
    return policy


def regression_error(samples: int, dim: int, noise: float, t, policy: str = "replace") -> np.ndarray:
    """Expected excess test error E||w_t - w*||^2 of OLS after t generations (chapter 07).

    Gaussian design (samples x dim, fixed across generations), labels
    y = X w_(t-1) + noise; generation 1 uses the true w*. One generation costs
    E1 = noise^2 dim / (samples - dim - 1). Replace: t E1. Accumulate (OLS on
    all labels so far): E1 sum_(j<=t) 1/j^2 < (pi^2/6) E1 (Gerstgrasser et al. 2024).

    Book: {prf:ref}`prop-07-regression`
    """
    samples = check_int("samples", samples, 3)
    dim = check_int("dim", dim, 1)
    if samples <= dim + 1:
        raise ValueError(f"samples must exceed dim + 1; got samples={samples}, dim={dim}")
    noise = check_number("noise", noise, 0.0, strict=True)
    tt = np.asarray(t)
    if tt.dtype.kind not in "iu" or np.any(tt < 0):
        raise ValueError(f"t must be an integer >= 0 or an array of them; got {t!r}")
    e1 = noise**2 * dim / (samples - dim - 1)
    if _policy(policy) == "replace":
        return e1 * tt.astype(float)
    harmonic2 = np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, int(tt.max(initial=0)) + 1) ** 2)])
    return e1 * harmonic2[tt]


def simulate_regression(samples: int, dim: int, noise: float, generations: int, chains: int,
                        policy: str = "replace", seed=None) -> np.ndarray:
    """Simulated ||w_t - w*||^2 per chain, shape (chains, generations + 1) (chapter 07).

    Real OLS fits, vectorised over chains: each chain draws its own Gaussian
    design X (fixed across generations) and w* ~ N(0, I); generation t draws
    labels X w_(t-1) + noise and fits OLS on them (replace) or on all labels
    drawn so far (accumulate: the stacked design [X; ...; X]). For a standard
    Gaussian test point the excess test error equals ||w_t - w*||^2.

    Book: {prf:ref}`prop-07-regression`
    """
    samples = check_int("samples", samples, 3)
    dim = check_int("dim", dim, 1)
    if samples <= dim:
        raise ValueError(f"samples must exceed dim; got samples={samples}, dim={dim}")
    noise = check_number("noise", noise, 0.0, strict=True)
    generations = check_int("generations", generations, 0)
    chains = check_int("chains", chains, 1)
    policy = _policy(policy)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((chains, samples, dim))
    w_star = rng.standard_normal((chains, dim))
    gram = np.einsum("csi,csj->cij", X, X)
    w = w_star.copy()
    xty_sum = np.zeros((chains, dim))
    err = np.zeros((chains, generations + 1))
    for t in range(1, generations + 1):
        y = np.einsum("csi,ci->cs", X, w) + noise * rng.standard_normal((chains, samples))
        xty = np.einsum("csi,cs->ci", X, y)
        if policy == "replace":
            w = np.linalg.solve(gram, xty[..., None])[..., 0]
        else:
            xty_sum += xty
            w = np.linalg.solve(t * gram, xty_sum[..., None])[..., 0]
        err[:, t] = np.sum((w - w_star) ** 2, axis=1)
    return err


