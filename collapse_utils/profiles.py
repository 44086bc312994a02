"""The one file that declares every notebook's parameters and the named profiles.

``NOTEBOOKS`` declares, per notebook, each parameter's type and allowed values.
``DEFAULTS`` holds the values of the ``book`` profile, which are also the values
written in each notebook's ``parameters`` cell (a test checks that they agree).
``PROFILES`` lists, per profile, only what differs from those defaults:

- ``smoke``: seconds per notebook, used by the tests;
- ``book``: what the published book shows (the whole book on 2 CPU cores in
  at most 30 minutes);
- ``paper``: the scale of the papers we replicate; meant for a GPU or a patient
  machine.

(Chapter: "How to run this book".)
"""

from __future__ import annotations

from collapse_utils.params import Param

SEED = Param(int, low=0, doc="seed of the random generator")

NOTEBOOKS: dict[str, dict[str, Param]] = {
    "01_retraining_loop": {
        "n": Param(int, low=2, doc="samples drawn from the previous model each generation"),
        "generations": Param(int, low=1, doc="number of retraining generations"),
        "chains": Param(int, low=2, doc="independent chains per policy (for bands)"),
        "real_fraction": Param(float, low=0.0, high=1.0, doc="share of real data under mix"),
        "seed": SEED,
    },
}

DEFAULTS: dict[str, dict] = {
    "01_retraining_loop": {
        "n": 100,
        "generations": 100,
        "chains": 200,
        "real_fraction": 0.1,
        "seed": 2024,
    },
}

PROFILES: dict[str, dict[str, dict]] = {
    "smoke": {
        "01_retraining_loop": {"n": 20, "generations": 8, "chains": 4},
    },
    "book": {},
    "paper": {
        "01_retraining_loop": {"generations": 1000, "chains": 1000},
    },
}
