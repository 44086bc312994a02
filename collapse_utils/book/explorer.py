"""The collapse calculator's numbers: the book's exact curves on a grid, for a static page.

The page ``book/explorer.md`` lets a reader set a data pipeline and shows three
curves over the generations; it runs no Python and loads nothing from the
network. Its numbers come from here, computed when the book is built:
:func:`grid` evaluates the exact library functions on the grid below, and the
book's Sphinx extension (:mod:`collapse_utils.book.sphinx_ext`) writes the result
into the HTML's ``_static`` folder as ``explorer-data.js`` (:func:`write_grid`;
a script, not a JSON file, because a page opened from disk may load a script but
not ``fetch`` a file). The page's own script (``static/explorer.js``) does only
what :func:`setting` does: the detector's effective real fraction, the grid
point nearest to the reader's number of real points, and a look-up.

The model is the book's. A Gaussian N(0, sigma_0^2) and a mixture component of
true weight w are refitted by maximum likelihood every generation to ``n``
points; generation 1 sees only real data; every later generation gets ``k`` real
points (fresh draws each generation, or one fixed pool reused) and ``n - k``
points from the previous generation's model
(:func:`collapse_utils.exact.gaussian_mixing.mix_moments`,
:func:`collapse_utils.exact.categorical_mixing.minority_presence`). A crawl of
which a share s is synthetic, filtered by a detector of recall r and
false-positive rate f, is human with probability lambda_eff
(:func:`collapse_utils.exact.filtering.effective_real_fraction`), so
``k = lambda_eff * n``, moved to the nearest point of :func:`real_points_grid`.

The grid (also stated on the page, from :func:`substitutions`): n in
:data:`N_GRID`; k every integer up to 10, then the E12 series (12, 15, 18, 22,
27, 33, 39, 47, 56, 68, 82, 100, ...) below n, and n; w in :data:`W_GRID`;
generations 0 to :data:`GENERATIONS`; values rounded to :data:`DIGITS`
significant digits. The exact chain of the minority component has n + 1 states,
so its cost grows like n^2 per generation and n^3 per real-point count: the
grid stops at n = 200 to keep the build of the page to a few seconds.
(Chapter: the calculator page, ``book/explorer.md``.)
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from collapse_utils.checks import check_bool, check_choice, check_int, check_number
from collapse_utils.exact import categorical_mixing, filtering, gaussian_mixing

__all__ = [
    "N_GRID",
    "W_GRID",
    "GENERATIONS",
    "DIGITS",
    "CURVES",
    "real_points_grid",
    "grid_point",
    "curves",
    "setting",
    "grid",
    "write_grid",
    "read_grid",
    "lookup",
    "substitutions",
]

#: Points per generation on the grid.
N_GRID = (10, 20, 50, 100, 200)

#: True weights of the minority component on the grid.
W_GRID = (0.005, 0.01, 0.02, 0.05, 0.1)

#: Generations computed: 0 (the truth) to this.
GENERATIONS = 100

#: Significant digits kept in the grid.
DIGITS = 4

#: The three curves: the expected variance kept E[sigma_t^2] / sigma_0^2, the
#: root-mean-square error of the fitted mean sqrt(E[mu_t^2]) / sigma_0, and the
#: probability that the minority component is present at generation t.
CURVES = ("variance", "mean_error", "presence")

#: The E12 preferred numbers of one decade.
_E12 = (10, 12, 15, 18, 22, 27, 33, 39, 47, 56, 68, 82)

#: The largest n of the exact minority chain (categorical_mixing's limit).
_MAX_N = 3000

#: What the page script's variable is called (explorer.js reads it).
SCRIPT_VARIABLE = "COLLAPSE_EXPLORER"

_FORMAT = "collapse-explorer/1"


def real_points_grid(n: int) -> tuple[int, ...]:
    """The numbers of real points per generation stored for ``n`` points per generation.

    Every k from 0 to 10, then the E12 series 12, 15, 18, 22, 27, 33, 39, 47,
    56, 68, 82 times powers of ten below ``n``, and ``n`` itself (all real):
    above k = 10 neighbours differ by at most 25%.

    Book: {prf:ref}`def-08-mix`
    """
    n = check_int("n", n, 2, _MAX_N)
    found = set(range(min(n, 10) + 1)) | {n}
    scale = 1
    while 10 * scale < n:
        found |= {e * scale for e in _E12 if e * scale < n}
        scale *= 10
    return tuple(sorted(found))


def grid_point(n: int, real_points: float) -> int:
    """The stored number of real points nearest to ``real_points`` (any number in [0, n]).

    Nearest on the scale log(1 + k), ties to the smaller k; the page's script
    makes the same choice.

    Book: {prf:ref}`def-08-mix`
    """
    ks = real_points_grid(n)
    x = check_number("real_points", real_points, 0.0, float(n))
    target = math.log1p(x)
    return min(ks, key=lambda k: (abs(math.log1p(k) - target), k))


def curves(
    n: int, real_points: int, *, fresh: bool = True, w: float = 0.02, generations: int = GENERATIONS
) -> dict[str, np.ndarray]:
    """The three exact curves, t = 0..generations, for ``real_points`` real points among ``n``.

    ``variance``: E[sigma_t^2] / sigma_0^2 and ``mean_error``:
    sqrt(E[mu_t^2]) / sigma_0, from the recursion of
    :func:`collapse_utils.exact.gaussian_mixing.mix_moments` (maximum
    likelihood); ``presence``: the probability that a component of true weight
    ``w`` is present, :func:`collapse_utils.exact.categorical_mixing.minority_presence`.
    ``fresh``: new real points each generation, or one fixed pool. With no real
    points this is the loop without real data (``replace``).

    Book: {prf:ref}`thm-08-mix`
    """
    n = check_int("n", n, 2, _MAX_N)
    k = check_int("real_points", real_points, 0, n)
    fresh = check_bool("fresh", fresh)
    w = check_number("w", w, 0.0, 1.0, strict=True)
    if w >= 1:
        raise ValueError(f"w must be a number in (0, 1); got {w!r}")
    generations = check_int("generations", generations, 0, 10_000)
    s, q = gaussian_mixing.mix_moments(n, k / n, generations, fresh=fresh)
    presence = categorical_mixing.minority_presence(w, n, k / n, generations, fresh=fresh)
    return {"variance": s, "mean_error": np.sqrt(q), "presence": presence}


def setting(
    n: int,
    synthetic_share: float,
    recall: float,
    false_positive_rate: float,
    *,
    fresh: bool = True,
    w: float = 0.02,
    generations: int = GENERATIONS,
) -> dict:
    """What the page shows for one setting of its controls.

    A crawl with ``synthetic_share`` s synthetic documents, filtered by a
    detector of recall r and false-positive rate f, keeps a share
    ``kept_fraction`` of the crawl, human with probability
    ``effective_real_fraction``; ``real_points`` = that fraction times ``n``, and
    ``k`` its nearest grid point (:func:`grid_point`), whose exact
    :func:`curves` are ``curves``. Raises ``ValueError`` when the detector keeps
    nothing (s = 1 and r = 1, or r = 1 and f = 1).

    Book: {prf:ref}`prop-09-detector`
    """
    n = check_int("n", n, 2, _MAX_N)
    values = {}
    for name, value in (
        ("synthetic_share", synthetic_share),
        ("recall", recall),
        ("false_positive_rate", false_positive_rate),
    ):
        values[name] = check_number(name, value, 0.0, 1.0)
    s, r, f = values["synthetic_share"], values["recall"], values["false_positive_rate"]
    kept = float(filtering.kept_fraction(s, r, f))
    if kept == 0:
        raise ValueError(
            f"the detector keeps nothing of the crawl (synthetic_share={s!r}, recall={r!r}, "
            f"false_positive_rate={f!r}): nothing is left to train on; lower the recall or the false-positive rate"
        )
    lam = float(filtering.effective_real_fraction(s, r, f))
    k = grid_point(n, lam * n)
    return {
        "kept_fraction": kept,
        "effective_real_fraction": lam,
        "real_points": lam * n,
        "k": k,
        "curves": curves(n, k, fresh=fresh, w=w, generations=generations),
    }


def _compact(values) -> list[float]:
    """``values`` to :data:`DIGITS` significant digits, trailing repeats dropped (the page
    reads a curve's last value for every later generation)."""
    out = [float(f"{float(v):.{DIGITS}g}") for v in values]
    while len(out) > 1 and out[-1] == out[-2]:
        out.pop()
    return out


def grid() -> dict:
    """Every curve of the page on its grid, as a JSON-ready dict.

    ``data[source][curve][i][j]`` (``source`` ``"fresh"`` or ``"fixed"``;
    ``curve`` ``"variance"`` or ``"mean_error"``) is the curve for
    ``n = data["n"][i]`` and ``k = data["k"][i][j]`` real points;
    ``data[source]["presence"][i][j][m]`` the presence curve for
    ``w = data["w"][m]``. Values are rounded to ``data["digits"]`` significant
    digits; a curve that has settled stops early, its last value holding for
    every later generation up to ``data["generations"]`` (:func:`lookup`).
    A few seconds on one core.

    Book: {prf:ref}`thm-08-mix`
    """
    data = {
        "format": _FORMAT,
        "generations": GENERATIONS,
        "digits": DIGITS,
        "n": list(N_GRID),
        "w": list(W_GRID),
        "k": [list(real_points_grid(n)) for n in N_GRID],
    }
    for source, fresh in (("fresh", True), ("fixed", False)):
        tables = {"variance": [], "mean_error": [], "presence": []}
        for n, ks in zip(N_GRID, data["k"]):
            rows = {name: [] for name in tables}
            for k in ks:
                per_w = [curves(n, k, fresh=fresh, w=w) for w in W_GRID]
                rows["variance"].append(_compact(per_w[0]["variance"]))
                rows["mean_error"].append(_compact(per_w[0]["mean_error"]))
                rows["presence"].append([_compact(c["presence"]) for c in per_w])
            for name in tables:
                tables[name].append(rows[name])
        data[source] = tables
    return data


def write_grid(path, data: dict | None = None) -> Path:
    """Write the grid (:func:`grid` unless ``data`` is given) compactly to ``path``.

    A ``.json`` file holds the JSON; a ``.js`` file a script that assigns it to
    ``window.COLLAPSE_EXPLORER`` (what the page loads). Returns the path.

    Book: {prf:ref}`thm-08-mix`
    """
    path = Path(path)
    check_choice("path's suffix", path.suffix, (".json", ".js"))
    text = json.dumps(grid() if data is None else data, separators=(",", ":"), allow_nan=False)
    if path.suffix == ".js":
        text = f"window.{SCRIPT_VARIABLE} = {text};"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")
    return path


def read_grid(path) -> dict:
    """The grid written by :func:`write_grid` (either form).

    Book: {prf:ref}`thm-08-mix`
    """
    text = Path(path).read_text().strip()
    prefix = f"window.{SCRIPT_VARIABLE} = "
    if text.startswith(prefix):
        text = text[len(prefix) :].rstrip(";")
    data = json.loads(text)
    if data.get("format") != _FORMAT:
        raise ValueError(f"{path} is not a calculator grid of format {_FORMAT}; got {data.get('format')!r}")
    return data


def lookup(
    data: dict, n: int, real_points: int, t: int, curve: str, *, fresh: bool = True, w: float | None = None
) -> float:
    """The value the page shows: ``curve`` at generation ``t`` for a grid point of ``data``.

    ``n``, ``real_points`` and (for ``"presence"``) ``w`` must be grid values.

    Book: {prf:ref}`thm-08-mix`
    """
    curve = check_choice("curve", curve, CURVES)
    n = check_choice("n", n, data["n"])
    i = data["n"].index(n)
    k = check_choice("real_points", real_points, data["k"][i])
    t = check_int("t", t, 0, data["generations"])
    table = data["fresh" if check_bool("fresh", fresh) else "fixed"][curve][i][data["k"][i].index(k)]
    if curve == "presence":
        table = table[data["w"].index(check_choice("w", w, data["w"]))]
    return table[min(t, len(table) - 1)]


def _words(values) -> str:
    text = [f"{v:g}" for v in values]
    return ", ".join(text[:-1]) + " and " + text[-1]


def substitutions() -> dict[str, str]:
    """The grid in words, for the page's MyST substitutions (``{{ explorer_n }}`` ...).

    Book: {prf:ref}`thm-08-mix`
    """
    above_ten = [k for k in real_points_grid(max(N_GRID)) if 10 < k < max(N_GRID)]
    return {
        "explorer_n": _words(N_GRID),
        "explorer_k": ", ".join(map(str, above_ten)),
        "explorer_w": _words(W_GRID),
        "explorer_generations": str(GENERATIONS),
        "explorer_digits": str(DIGITS),
        "explorer_max_n": str(max(N_GRID)),
    }
