"""Shared fixtures: one smoke build of the whole book per test session; two 2-D Gaussian mixtures.

Reseeding: with ``COLLAPSE_TEST_SEED_OFFSET=k`` every integer seed given to
``np.random.default_rng``, to the retraining loop (``loop.run``, ``run_chains``)
or to ``torch.manual_seed`` is shifted by ``k * 1_000_003``, so a statistical
test runs on other random numbers with the same code. ``make test-reseed`` runs
the statistical tests over 20 offsets and counts the failures
(``tests/reseed.py``), against the number expected from the rates that the
tests state with ``@pytest.mark.false_failure_rate(rate)``. Seeds built as
``SeedSequence(...)`` by hand, and lists of integers, are not shifted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEED_OFFSET_ENV = "COLLAPSE_TEST_SEED_OFFSET"
SEED_STRIDE = 1_000_003


def _shift(seed, offset):
    import numpy as np

    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return int(seed) + offset * SEED_STRIDE
    return seed


def pytest_configure(config):
    if config is not None:  # None when tests/loop/test_hooks.py calls this hook by hand
        config.addinivalue_line(
            "markers",
            "false_failure_rate(rate): the probability that this statistical test fails when the code is "
            "right, derived in its docstring; tests/reseed.py adds the rates up into the expected number "
            "of failures",
        )
        config.addinivalue_line(
            "markers",
            "pinned_seed(why): a scenario test whose seed was picked to show a case (a chain that keeps a "
            "mode, one that loses it earlier); other seeds do not show it, so tests/reseed.py leaves it out",
        )
    offset = os.environ.get(SEED_OFFSET_ENV)
    if not offset:
        return
    try:
        offset = int(offset)
    except ValueError:
        raise pytest.UsageError(f"{SEED_OFFSET_ENV} must be an integer; got {offset!r}") from None
    import numpy as np

    from collapse_utils import loop

    default_rng, seed_sequence = np.random.default_rng, loop._seed_sequence
    np.random.default_rng = lambda seed=None: default_rng(_shift(seed, offset))
    loop._seed_sequence = lambda seed: seed_sequence(_shift(seed, offset))
    try:
        import torch
    except ImportError:
        return
    manual_seed = torch.manual_seed
    torch.manual_seed = lambda seed: manual_seed(_shift(seed, offset))


@pytest.fixture(autouse=True)
def _false_failure_rate(request):
    """Record a test's ``false_failure_rate`` marker in the JUnit report (``tests/reseed.py`` reads it)."""
    marker = request.node.get_closest_marker("false_failure_rate")
    if marker is not None:
        rate = float(marker.args[0])
        if not 0 <= rate < 1:
            raise pytest.UsageError(f"false_failure_rate must be a probability in [0, 1); got {rate!r}")
        request.node.user_properties.append(("false_failure_rate", rate))


@pytest.fixture(scope="session")
def smoke_build(tmp_path_factory):
    """Execute every notebook under the ``smoke`` profile and build the HTML (once).

    Two notebooks run side by side (``--jobs 2``); the byte-for-byte test of
    ``test_build_hygiene.py`` compares it with a serial build.

    Returns the ``_build`` folder (``html/``, ``figures/``, ``source/``,
    ``build-report.json``). Fails the dependent tests with the build's output if
    the build fails.
    """
    output = tmp_path_factory.mktemp("smoke")
    env = os.environ | {
        "COLLAPSE_FIGURES_DIR": str(output / "_build" / "figures"),
        "COLLAPSE_CACHE_DIR": str(output / "_build" / "cache"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "collapse_utils.book.build", "--profile", "smoke", "--output", str(output),
         "--jobs", "2"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800,
    )
    if done.returncode != 0:
        pytest.fail(f"smoke build failed (exit {done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-8000:]}")
    build_dir = output / "_build"
    build_dir.joinpath("smoke-build.log").write_text(done.stdout + done.stderr)
    report = json.loads((build_dir / "build-report.json").read_text())
    assert report["profile"] == "smoke"
    return build_dir


@pytest.fixture
def two_d_mixture():
    """A 2-D mixture of two correlated Gaussians (families/test_gmm, measures/test_distributions)."""
    from collapse_utils.families.gmm import GMMModel

    return GMMModel(
        weights=[0.3, 0.7],
        means=[[0.0, 0.5], [1.5, -1.0]],
        covariances=[[[1.0, 0.3], [0.3, 0.5]], [[0.4, -0.1], [-0.1, 0.8]]],
    )


@pytest.fixture
def other_2d_mixture():
    """A second 2-D mixture, of three components, to compare with :func:`two_d_mixture`."""
    import numpy as np

    from collapse_utils.families.gmm import GMMModel

    return GMMModel(
        weights=[0.5, 0.2, 0.3],
        means=[[-1.0, 0.0], [0.5, 1.0], [2.0, -0.5]],
        covariances=[np.eye(2) * 0.6, [[0.9, 0.2], [0.2, 0.3]], [[0.5, 0.0], [0.0, 1.2]]],
    )
