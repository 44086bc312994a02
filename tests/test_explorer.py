"""The collapse calculator's grid (collapse_utils/book/explorer.py): every stored value
is the exact library function at its grid point, rounded; the replace curves agree
with the chapters' closed forms; the page's assets are there and pinned; bad input
is refused with the parameter's name.

Everything here is exact (no sampling): tolerances are the grid's rounding to
``DIGITS`` significant digits, or equality."""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from collapse_utils.book import explorer, sphinx_ext
from collapse_utils.exact import categorical, categorical_mixing, filtering, gaussian, gaussian_mixing

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "explorer.md"
SCRIPT = sphinx_ext.STATIC / "explorer.js"


def rounded(x: float) -> float:
    return float(f"{float(x):.{explorer.DIGITS}g}")


def within_rounding(stored: float, exact: float) -> bool:
    """|stored - exact| is at most half a unit of the last kept digit (plus rounding of the
    last bits of two computations of the same number)."""
    if exact == 0:
        return abs(stored) < 1e-300
    unit = 10.0 ** (math.floor(math.log10(abs(exact))) - explorer.DIGITS + 1)
    return abs(stored - exact) <= 0.5 * unit * (1 + 1e-9) + 1e-15 * abs(exact)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """The grid, written as the page's script and read back (a few seconds)."""
    path = explorer.write_grid(tmp_path_factory.mktemp("explorer") / "explorer-data.js")
    return explorer.read_grid(path)


def full(data, n, k, curve, fresh, w=None):
    return np.array(
        [explorer.lookup(data, n, k, t, curve, fresh=fresh, w=w) for t in range(data["generations"] + 1)]
    )


def test_the_grid_is_the_one_the_module_states(data):
    assert data["n"] == list(explorer.N_GRID) and data["w"] == list(explorer.W_GRID)
    assert data["generations"] == explorer.GENERATIONS and data["digits"] == explorer.DIGITS
    for n, ks in zip(data["n"], data["k"]):
        assert ks == list(explorer.real_points_grid(n))
        for source in ("fresh", "fixed"):
            i = data["n"].index(n)
            assert len(data[source]["variance"][i]) == len(ks) == len(data[source]["presence"][i])
            assert all(len(row) == len(data["w"]) for row in data[source]["presence"][i])


def test_every_stored_value_is_the_library_s_exact_value_rounded(data):
    """All n, k, w, both sources, every generation: gaussian_mixing.mix_moments and
    categorical_mixing.minority_presence, called directly, rounded to DIGITS digits."""
    T = data["generations"]
    for n, ks in zip(data["n"], data["k"]):
        for k in ks:
            for fresh in (True, False):
                s, q = gaussian_mixing.mix_moments(n, k / n, T, fresh=fresh)
                assert np.array_equal(full(data, n, k, "variance", fresh), [rounded(v) for v in s]), (
                    n,
                    k,
                    fresh,
                )
                assert np.array_equal(
                    full(data, n, k, "mean_error", fresh), [rounded(v) for v in np.sqrt(q)]
                ), (n, k, fresh)
                for w in data["w"]:
                    p = categorical_mixing.minority_presence(w, n, k / n, T, fresh=fresh)
                    assert np.array_equal(full(data, n, k, "presence", fresh, w), [rounded(v) for v in p]), (
                        n,
                        k,
                        fresh,
                        w,
                    )


def test_without_real_data_the_curves_are_the_closed_forms_of_the_theory_chapters(data):
    """k = 0 against gaussian.expected_variance, gaussian.mean_variance and
    categorical.survival_probability (other code paths than the grid's)."""
    t = np.arange(data["generations"] + 1)
    for n in data["n"]:
        for fresh in (True, False):
            checks = [
                (full(data, n, 0, "variance", fresh), gaussian.expected_variance(n, t)),
                (full(data, n, 0, "mean_error", fresh), np.sqrt(gaussian.mean_variance(n, t))),
            ]
            checks += [
                (full(data, n, 0, "presence", fresh, w), categorical.survival_probability(w, n, t))
                for w in data["w"]
            ]
            for stored, exact in checks:
                assert all(within_rounding(a, b) for a, b in zip(stored, exact)), (n, fresh)


def test_all_real_data_keep_one_generation_s_loss(data):
    """k = n fresh: every generation is fitted to n real points, E[sigma_t^2] = (n-1)/n;
    a fixed pool of all n points: the same fit every generation."""
    for n in data["n"]:
        for fresh in (True, False):
            v = full(data, n, n, "variance", fresh)
            assert v[0] == 1 and np.all(v[1:] == rounded((n - 1) / n)), (n, fresh)


def test_real_points_grid_is_dense_at_the_bottom_and_geometric_above():
    for n in (2, 7, 10, 20, 50, 100, 200, 1000):
        ks = explorer.real_points_grid(n)
        assert list(ks) == sorted(set(ks)) and ks[0] == 0 and ks[-1] == n
        assert set(range(min(n, 10) + 1)) <= set(ks)
        big = [k for k in ks if k >= 10]
        assert all(b / a <= 1.25 for a, b in zip(big, big[1:])), (n, big)


def test_grid_point_is_the_nearest_on_a_log_scale():
    for n in explorer.N_GRID:
        ks = explorer.real_points_grid(n)
        assert [explorer.grid_point(n, k) for k in ks] == list(ks)
        xs = np.linspace(0, n, 997)
        picked = [explorer.grid_point(n, float(x)) for x in xs]
        assert picked == sorted(picked)  # monotone
        for x, k in zip(xs, picked):
            assert abs(math.log1p(k) - math.log1p(x)) == min(abs(math.log1p(j) - math.log1p(x)) for j in ks)
    assert explorer.grid_point(200, 60) == 56 and explorer.grid_point(10, 2.4) == 2


def test_setting_is_the_detector_formula_and_the_nearest_grid_point():
    for s, r, f in [(0.9, 0.9, 0.05), (0.5, 0.0, 0.0), (0.0, 0.3, 0.2), (1.0, 0.5, 0.1), (0.3, 1.0, 0.0)]:
        out = explorer.setting(100, s, r, f, fresh=False, w=0.05, generations=20)
        lam = float(filtering.effective_real_fraction(s, r, f))
        assert out["effective_real_fraction"] == lam
        assert out["kept_fraction"] == float(filtering.kept_fraction(s, r, f))
        assert out["real_points"] == lam * 100 and out["k"] == explorer.grid_point(100, lam * 100)
        expected = explorer.curves(100, out["k"], fresh=False, w=0.05, generations=20)
        for name in explorer.CURVES:
            assert np.array_equal(out["curves"][name], expected[name])
    # no detector: the real share is 1 - s
    assert explorer.setting(50, 0.8, 0, 0)["effective_real_fraction"] == pytest.approx(0.2, rel=1e-12)


def test_write_grid_writes_json_or_a_script(tmp_path, data):
    small = {**data, "n": data["n"][:1]}
    as_json = explorer.write_grid(tmp_path / "g.json", small)
    assert json.loads(as_json.read_text()) == small == explorer.read_grid(as_json)
    as_js = explorer.write_grid(tmp_path / "g.js", small)
    text = as_js.read_text()
    assert text.startswith(f"window.{explorer.SCRIPT_VARIABLE} = {{") and text.endswith("};\n")
    assert "NaN" not in text and " " not in text[len(f"window.{explorer.SCRIPT_VARIABLE} = ") :].strip()
    assert explorer.read_grid(as_js) == small


def test_the_sphinx_hook_writes_the_data_only_for_a_book_with_the_page(tmp_path, data, monkeypatch):
    monkeypatch.setattr(explorer, "grid", lambda: data)
    app = SimpleNamespace(
        builder=SimpleNamespace(format="html"),
        outdir=str(tmp_path),
        env=SimpleNamespace(all_docs={"book/intro": 0}),
    )
    sphinx_ext._write_explorer_data(app, None)
    target = tmp_path / "_static" / sphinx_ext.EXPLORER_DATA
    assert not target.exists()
    app.env.all_docs[sphinx_ext.EXPLORER_DOC] = 0
    sphinx_ext._write_explorer_data(app, RuntimeError("the build failed"))
    assert not target.exists()
    sphinx_ext._write_explorer_data(app, None)
    assert explorer.read_grid(target) == data


def test_the_vendored_plotly_is_the_pinned_file(tmp_path):
    entry = sphinx_ext.PLOTLY
    content = Path(entry["file"]).read_bytes()
    assert hashlib.sha256(content).hexdigest() == entry["sha256"]
    assert f"plotly.js (basic - minified) v{entry['version']}".encode() in content[:200]
    assert (Path(entry["file"]).parent / "plotly.js-LICENSE.txt").read_text().startswith("MIT License")
    sphinx_ext.check_vendored(entry)
    from sphinx.errors import ExtensionError

    changed = tmp_path / "plotly.js"
    changed.write_bytes(content + b"\n")
    with pytest.raises(ExtensionError, match="not the pinned"):
        sphinx_ext.check_vendored({**entry, "file": changed})
    with pytest.raises(ExtensionError, match="missing"):
        sphinx_ext.check_vendored({**entry, "file": tmp_path / "absent.js"})


def test_the_page_has_every_element_its_script_uses_and_loads_what_the_build_ships():
    page, script = PAGE.read_text(), SCRIPT.read_text()
    ids = set(re.findall(r'id="([\w-]+)"', page))
    used = set(re.findall(r'\$\("([\w-]+)"\)', script))
    used |= {
        f"explorer-{name.replace('_', '-')}-{part}"
        for name in explorer.CURVES
        for part in ("value", "replace")
    }
    used |= {f"explorer-plot-{name}" for name in explorer.CURVES}
    assert used <= ids, f"elements the script needs but the page lacks: {sorted(used - ids)}"
    sources = re.findall(r'<script src="\.\./_static/([^"]+)"', page)
    assert sources == ["vendor/plotly-basic.min.js", sphinx_ext.EXPLORER_DATA, "explorer.js"]
    for name in sources[::2] + re.findall(r'href="\.\./_static/([^"]+)"', page):
        assert (sphinx_ext.STATIC / name).is_file(), name
    assert explorer.SCRIPT_VARIABLE in script
    # the grid in words is the module's
    for key in explorer.substitutions():
        assert "{{ " + key + " }}" in page, key


def test_substitutions_state_the_grid():
    words = explorer.substitutions()
    assert words["explorer_n"] == "10, 20, 50, 100 and 200"
    assert words["explorer_k"].split(", ")[0] == "12" and words["explorer_k"].endswith("180")
    assert words["explorer_generations"] == str(explorer.GENERATIONS)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: explorer.curves(1, 0), "n must be"),
        (lambda: explorer.curves(100, 101), "real_points must be an integer in \\[0, 100\\]"),
        (lambda: explorer.curves(100, 5.5), "real_points must be"),
        (lambda: explorer.curves(100, 5, fresh="yes"), "fresh must be True or False"),
        (lambda: explorer.curves(100, 5, w=0), "w must be"),
        (lambda: explorer.curves(100, 5, w=1), "w must be a number in \\(0, 1\\)"),
        (lambda: explorer.curves(100, 5, generations=-1), "generations must be"),
        (lambda: explorer.setting(100, 1.5, 0.5, 0.1), "synthetic_share must be"),
        (lambda: explorer.setting(100, 0.5, "high", 0.1), "recall must be"),
        (lambda: explorer.setting(100, 0.5, 0.5, -0.1), "false_positive_rate must be"),
        (lambda: explorer.setting(100, 1.0, 1.0, 0.0), "keeps nothing"),
        (lambda: explorer.setting(100, 0.5, 1.0, 1.0), "keeps nothing"),
        (lambda: explorer.grid_point(10, 11), "real_points must be"),
        (lambda: explorer.grid_point(10, float("nan")), "real_points must be"),
        (lambda: explorer.real_points_grid(0), "n must be"),
        (lambda: explorer.write_grid("grid.txt", {}), "path's suffix must be one of .json, .js"),
    ],
)
def test_bad_input_names_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_lookup_refuses_points_off_the_grid(data):
    with pytest.raises(ValueError, match="n must be one of 10, 20"):
        explorer.lookup(data, 30, 0, 0, "variance")
    with pytest.raises(ValueError, match="real_points must be one of"):
        explorer.lookup(data, 200, 11, 0, "variance")
    with pytest.raises(ValueError, match="curve must be one of"):
        explorer.lookup(data, 200, 10, 0, "bias")
    with pytest.raises(ValueError, match="w must be one of"):
        explorer.lookup(data, 200, 10, 0, "presence", w=0.03)
    with pytest.raises(ValueError, match="t must be an integer in \\[0, 100\\]"):
        explorer.lookup(data, 200, 10, 101, "variance")


def test_read_grid_refuses_another_file(tmp_path):
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ValueError, match="not a calculator grid"):
        explorer.read_grid(other)
