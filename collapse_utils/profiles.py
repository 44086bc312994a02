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
    "02_variance_decay": {
        "n": Param(int, low=21, doc="samples per generation in the main experiments (> 20 dimensions)"),
        "n_small": Param(int, low=2, doc="a small sample size, where effects show within a few generations"),
        "generations": Param(int, low=10, doc="generations of the Monte-Carlo check"),
        "chains": Param(int, low=100, doc="independent chains of the exact simulator"),
        "loop_chains": Param(int, low=2, doc="chains run through the generic retraining loop"),
        "mvn_chains": Param(int, low=2, doc="chains of the d-dimensional experiment"),
        "mvn_generations": Param(int, low=1, doc="generations of the d-dimensional experiment"),
        "seed": SEED,
    },
    "03_tails_vanish": {
        "n": Param(int, low=10, high=2000, doc="samples per generation (the population size)"),
        "w": Param(float, low=0.0001, high=0.04, doc="true weight of the minority component"),
        "generations": Param(int, low=10, doc="generations of the survival curves"),
        "chains": Param(int, low=100, doc="chains of the exact weight simulator"),
        "loop_chains": Param(int, low=2, doc="chains run through the generic retraining loop"),
        "k_max": Param(int, low=3, high=50, doc="largest number of mixture components"),
        "k_chains": Param(int, low=20, doc="chains per (n, K) for the time until one component is left"),
        "min_count": Param(int, low=2, high=10, doc="filtering drops components with fewer samples"),
        "oversample": Param(float, low=1.0, high=20.0, doc="oversampling factor of rare components"),
        "rare": Param(float, low=0.0, high=0.5, doc="share below which a component is oversampled"),
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
    "02_variance_decay": {
        "n": 100,
        "n_small": 10,
        "generations": 500,
        "chains": 20000,
        "loop_chains": 500,
        "mvn_chains": 300,
        "mvn_generations": 100,
        "seed": 2024,
    },
    "03_tails_vanish": {
        "n": 100,
        "w": 0.01,
        "generations": 400,
        "chains": 10000,
        "loop_chains": 500,
        "k_max": 20,
        "k_chains": 2000,
        "min_count": 3,
        "oversample": 3.0,
        "rare": 0.05,
        "seed": 2024,
    },
}

PROFILES: dict[str, dict[str, dict]] = {
    "smoke": {
        "01_retraining_loop": {"n": 20, "generations": 8, "chains": 4},
        "02_variance_decay": {
            "generations": 20, "chains": 400, "loop_chains": 20, "mvn_chains": 20, "mvn_generations": 5,
        },
        "03_tails_vanish": {
            "n": 20, "w": 0.04, "generations": 30, "chains": 400, "loop_chains": 10, "k_max": 5,
            "k_chains": 50, "min_count": 2, "rare": 0.2,
        },
    },
    "book": {},
    "paper": {
        "01_retraining_loop": {"generations": 1000, "chains": 1000},
        "02_variance_decay": {
            "generations": 1000, "chains": 50000, "loop_chains": 2000, "mvn_chains": 2000,
            "mvn_generations": 200,
        },
        "03_tails_vanish": {"chains": 100000, "loop_chains": 2000, "k_chains": 20000},
    },
}
