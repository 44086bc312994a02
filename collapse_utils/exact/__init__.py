"""Exact theory and fast simulators, one module per model (and per policy where it is long).

Each simulator here is tested against :func:`collapse_utils.loop.run` with the same
model family from :mod:`collapse_utils.families`, so the fast path and the generic
loop cannot drift apart.
"""
