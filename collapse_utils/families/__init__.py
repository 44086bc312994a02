"""Model families: each module holds one concept, a model and the family that fits and samples it.

Every family has ``fit(data, rng, *, generation=None)`` and ``sample(model, n, rng)``
(the loop's :class:`collapse_utils.loop.ModelFamily`); one-dimensional models share
``pdf``, ``logpdf``, ``cdf`` and ``var``. Exact theory for a family lives in
:mod:`collapse_utils.exact`, measurements in :mod:`collapse_utils.measures`.
"""
