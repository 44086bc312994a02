"""collapse_utils: the helper package of the book "Model Collapse, a reproducible book".

One idea organises it: iterative retraining (:mod:`collapse_utils.loop`), run on
many model families. Each public helper's docstring names the chapter that
explains it.
"""

__version__ = "0.1.0"
