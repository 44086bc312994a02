"""collapse_utils: the helper package of the book "Model Collapse, a reproducible book".

A map in five minutes. One idea organises the package: **iterative retraining**
(a model is fitted, sampled, and the next generation is fitted to those samples),
run on many model families. The code sits in three layers, plus the exercises'
numbers, the build machinery and a few shared utilities.

1. The loop and the model families (what every experiment runs)
   - ``loop``: :func:`collapse_utils.loop.run` and ``run_chains``, the
     ``History`` / ``Step`` records, and the hooks for a ``sampler`` (how
     samples are drawn) and a ``filter`` (which samples are kept).
   - ``policies``: the data policies (the ``Policy`` protocol, ``Replace``,
     ``Mix``, ``Accumulate``, ``AccumulateSubsample``), re-exported by ``loop``.
   - ``families/``: one module per model family, each with ``fit(data, rng, *,
     generation=None)`` and ``sample(model, k, rng)``: ``gaussian``,
     ``categorical``, ``gmm``, ``nonparametric`` (KDE, histogram), ``cycle`` (a
     different family every generation), ``regression`` (linear regression on
     its own labels), ``zipf`` (Zipf tokens), ``ngram``, ``vae``, ``lm`` (the language-model family)
     and ``transformer`` (its tiny GPT and decoding).
   - ``samplers``: temperature, top-k and top-p decoding, shared by every model.
2. Exact theory and fast simulators, per model (``exact/``): closed forms and
   simulators that draw only the sufficient statistics, checked by tests (against
   ``loop.run`` with the matching family where there is one): ``gaussian``,
   ``gaussian_mixing`` (mix, accumulate), ``categorical`` (Wright–Fisher),
   ``categorical_mixing``, ``filtering`` (detectors), ``regression``, ``zipf``.
3. Measures (``measures/``): what a metric of the loop computes from a model or
   its samples: ``distributions`` (distances, spreads, modes, 1-D summaries),
   ``lexical`` (distinct-n, self-BLEU, n-gram survival), ``lm`` (the language
   model's metrics per generation), ``digits`` (latent spread, digit classifier).

Beside the layers:

- ``answers/``: the numbers of the exercises only, one module per chapter
  (``answers/chNN.py``), glued into the solutions and checked by
  ``tests/answers/test_answers_chNN.py``.
- ``book/``: the build machinery, never the science: ``build`` (papermill +
  Jupyter Book), ``params`` and ``profiles`` (every notebook's parameters,
  declared once, with the smoke / book / paper values), ``glue`` (``glue_many``,
  ``show``, ``setup`` for notebooks), ``plotting`` (house style, ``save_figure``).
- ``cache`` (checksummed on-disk cache of expensive generations), ``data``
  (MNIST and text corpora), ``checks`` (argument validation with errors that
  name the parameter and its allowed values).

Where code goes: a new model family in ``families/``; its closed form or fast
simulator in ``exact/`` (with a test against ``loop.run``); a mitigation as a
policy (``policies``), a sampler (``samplers``) or a filter; a metric in
``measures/``; an exercise's numbers in ``answers/``; a parameter in
``book/profiles.py``. CONTRIBUTING.md has the details.

Public helpers' docstrings end with a ``Book:`` line naming the section,
theorem or chapter that explains them (``tests/book/test_docs.py`` checks the
modules it covers).
"""

__version__ = "0.1.0"
