"""Detectors that filter synthetic data, and a stability bound.

- :func:`kept_fraction` and :func:`effective_real_fraction`: what a detector with a given
  recall and false-positive rate leaves of a training set with a given synthetic share.
- :func:`bertrand_max_ratio`: Bertrand et al.'s sufficient condition for stable retraining.
"""

from __future__ import annotations

import numpy as np

from collapse_utils.checks import check_fractions, check_number

__all__ = ["kept_fraction", "effective_real_fraction", "bertrand_max_ratio"]


def _rates(synthetic_share, recall, false_positive_rate):
    out = []
    for name, v in (("synthetic_share", synthetic_share), ("recall", recall),
                    ("false_positive_rate", false_positive_rate)):
        out.append(check_fractions(name, v))
    return np.broadcast_arrays(*out)


def kept_fraction(synthetic_share, recall, false_positive_rate) -> np.ndarray:
    """Share of a crawl that a detector keeps: (1-s)(1-f) + s(1-r) (chapter 09).

    s: share of synthetic documents; recall r: probability that a synthetic
    document is flagged (and removed); f: probability that a human one is.
    Arrays broadcast.

    Book: {prf:ref}`prop-09-detector`
    """
    s, r, f = _rates(synthetic_share, recall, false_positive_rate)
    return (1 - s) * (1 - f) + s * (1 - r)


def effective_real_fraction(synthetic_share, recall, false_positive_rate) -> np.ndarray:
    """Share of human data after filtering: (1-s)(1-f) / ((1-s)(1-f) + s(1-r)) (chapter 09).

    Watermarking is the corner r -> 1, f -> 0 (the fraction tends to 1). ``nan``
    where nothing is kept. Arrays broadcast.

    Book: {prf:ref}`prop-09-detector`
    """
    s, r, f = _rates(synthetic_share, recall, false_positive_rate)
    human = (1 - s) * (1 - f)
    kept = human + s * (1 - r)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(kept > 0, human / np.where(kept > 0, kept, 1), np.nan)


def bertrand_max_ratio(lipschitz_eps_over_alpha: float = 0.0) -> float:
    """Largest synthetic-to-real ratio allowed by Bertrand et al.'s sufficient condition (chapter 09).

    Retraining on real data plus lambda times as much synthetic data is locally
    stable if lambda (1 + L eps / alpha) < 1/2, i.e. lambda < 1 / (2 (1 + L eps / alpha)).

    Book: {doc}`notebooks/09_filtering_provenance`
    """
    x = check_number("lipschitz_eps_over_alpha", lipschitz_eps_over_alpha, 0.0)
    return 1.0 / (2.0 * (1.0 + x))


