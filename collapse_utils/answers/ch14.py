"""Numeric answers of chapter 14's exercises ("Common confusions")."""

from __future__ import annotations

import math

from collapse_utils.answers import answer
from collapse_utils.exact import gaussian, gaussian_mixing


@answer("ex-14-kde-growth")
def kde_growth() -> dict[str, float]:
    """Chapter 14: expected variance growth of an iterated Gaussian KDE (Scott's rule).

    Book: {ref}`ex-14-kde-growth`
    """
    n, t = 100, 10
    scott = n ** -0.2
    growth = (n - 1) / n + scott**2
    return {"n": n, "t": t, "scott_factor": scott, "growth": growth, "ratio": growth**t,
            "neutral_factor": n ** -0.5}


@answer("ex-14-signatures")
def signatures() -> dict[str, float]:
    """Chapter 14: forgetting (old-task log-likelihood drop) vs collapse (entropy drift).

    Book: {ref}`ex-14-signatures`
    """
    delta, n, target = 3.0, 50, 0.5
    drift = -0.5 * gaussian.log_variance_drift(n)  # entropy lost per generation
    t = math.ceil(target / drift)
    return {"delta": delta, "n": n, "target": target, "forget_drop": delta**2 / 2,
            "drift": drift, "t": t, "drop_at_t": t * drift}


@answer("ex-14-one-shot")
def one_shot() -> dict[str, float]:
    """Chapter 14: one-shot augmentation vs iterative mixing vs replacement (Gaussian, MLE).

    Book: {ref}`ex-14-one-shot`
    """
    n, lam, t = 50, 0.2, 20
    s, _ = gaussian_mixing.mix_moments(n, lam, t)
    star, _ = gaussian_mixing.mix_fixed_point(n, lam)
    return {"n": n, "lam": lam, "share": 1 - lam, "t": t, "one_shot": float(s[2]), "iterative": float(s[t]),
            "fixed_point": star, "replace": (1 - 1 / n) ** t}


@answer("ex-14-fixed-error")
def fixed_error() -> dict[str, float]:
    """Chapter 14: one-shot deficit when the generator's variance error is a fixed factor.

    The generator is the MLE fit to n real points sampled with its variance
    multiplied by 1 - e (a temperature tau = 1 - e, chapter 10), an error that
    does not shrink with n; the final model is the MLE fit to lam * n fresh
    real points and a * n generated ones (a = 1 - lam). Its variance deficit is
    a e + (lam^2 + 2 a (1 - e)) / n - a (1 - e) / n^2, never below a e.

    Book: {ref}`ex-14-fixed-error`
    """
    e, share = 0.02, 0.5
    lam = 1 - share
    slope = lam**2 + 2 * share * (1 - e)

    def deficit(n: int, error: float = e) -> float:
        return (share * error + (lam**2 + 2 * share * (1 - error)) / n
                - share * (1 - error) / n**2)

    sizes = {"small": 100, "mid": 1000, "large": 10_000}
    values = {"e": e, "share": share, "lam": lam, "tau": 1 - e,
              "floor": share * e, "slope": slope,
              "n_cross": slope / (share * e)}
    for name, n in sizes.items():
        values[f"n_{name}"] = n
        values[f"deficit_{name}"] = deficit(n)
    values["clean_large"] = deficit(sizes["large"], 0.0)
    values["ratio_large"] = values["deficit_large"] / values["clean_large"]
    return values
