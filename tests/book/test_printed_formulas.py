"""Formulas as printed in the book, evaluated against the code that computes them.

A theorem's statement is read from the source notebook and its LaTeX translated
to Python by a small recursive translator for the subset the statements use
(``\\frac{..}{..}``, ``\\bigl( \\bigr)``, ``^``, ``{ }`` groups, products
written by juxtaposition or thin spaces ``\\,``, and a table of symbols); the
result is compared with the package's exact code. A typo in a printed formula
(issue 13: a factor (n-1)/n too many in the fixed-pool clause of chapter 08's
mixing theorem, while the proof and ``mix_moments`` were right) then fails a
test. LaTeX outside the subset fails loudly, naming the piece.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from collapse_utils.exact import gaussian_mixing

ROOT = Path(__file__).resolve().parents[2]

TOKEN = re.compile(r"\\frac|\\bigl\(|\\bigr\)|\\,|\\mathbb\{E\}\[v\]|\\sigma_0\^2|\\lambda|[a-z]_[a-z]"
                   r"|[a-z]|\d+(?:\.\d+)?|[-+/^(){}]|\s+")
# printed symbol -> Python name
SYMBOLS = {r"\mathbb{E}[v]": "ev", r"\sigma_0^2": "s0", r"\lambda": "lam"}
CLOSING = {"(": ")", r"\bigl(": r"\bigr)", "{": "}"}


def tokenize(tex: str) -> list[str]:
    tokens, pos = [], 0
    while pos < len(tex):
        match = TOKEN.match(tex, pos)
        if not match:
            raise ValueError(f"untranslatable LaTeX at {tex[pos:pos + 20]!r} in {tex!r}")
        if not match.group().isspace() and match.group() != r"\,":
            tokens.append(match.group())
        pos = match.end()
    return tokens


def latex_to_python(tex: str) -> str:
    """Translate one printed right-hand side to a Python expression."""
    tokens = tokenize(tex.strip().rstrip(",."))
    pos = 0

    def operand() -> str:
        nonlocal pos
        token = tokens[pos]
        pos += 1
        if token == r"\frac":
            numerator, denominator = operand(), operand()
            return f"({numerator})/({denominator})"
        if token in CLOSING:
            return f"({sequence(CLOSING[token])})"
        if token in SYMBOLS:
            return SYMBOLS[token]
        if re.fullmatch(r"[a-z](_[a-z])?|\d+(\.\d+)?", token):
            return token.replace("_", "")
        raise ValueError(f"untranslatable LaTeX {token!r} in {tex!r}")

    def sequence(stop: str | None) -> str:
        nonlocal pos
        out, last_was_operand = [], False
        while pos < len(tokens) and tokens[pos] != stop:
            token = tokens[pos]
            if token in "+-/":
                out.append(token)
                pos += 1
                last_was_operand = False
            elif token == "^":
                pos += 1
                out.append(f"**({operand()})")
            else:
                if last_was_operand:
                    out.append("*")
                out.append(operand())
                last_was_operand = True
        if stop is not None:
            if pos == len(tokens):
                raise ValueError(f"unclosed group (expected {stop!r}) in {tex!r}")
            pos += 1
        return "".join(out)

    return sequence(None)


def evaluate(tex: str, **values) -> float:
    """The printed expression ``tex`` at ``values`` (names: s0, lam, ev, n, k, a, st, qt, dt, t)."""
    return eval(latex_to_python(tex), {"__builtins__": {}}, values)  # noqa: S307 (the book's own text)


def statement(notebook: str, label: str) -> str:
    """The text of the directive labelled ``label`` in ``notebook``."""
    nb = nbformat.read(ROOT / "notebooks" / notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and f":label: {label}" in cell.source:
            start = cell.source.index(f":label: {label}")
            return cell.source[start:cell.source.index("\n:::", start)]
    raise LookupError(f"no {label} in {notebook}")


def display_equations(text: str) -> list[dict[str, str]]:
    """Per display block of ``text``: ``{left-hand side: right-hand side}`` (equations split at ``\\qquad``)."""
    blocks = []
    for block in re.findall(r"\$\$(.*?)\$\$", text, flags=re.S):
        blocks.append(dict((side.strip() for side in eq.split("=", 1)) for eq in block.split(r"\qquad")))
    return blocks


def inline_equation(text: str, left: str) -> str:
    """The right-hand side of the inline equation ``$left = ...$`` in ``text``."""
    return re.search(rf"\${re.escape(left)} = (.*?)\$", text, flags=re.S).group(1)


def test_translator_reads_products_fractions_groups_and_powers():
    tex = r"\frac{n-1}{n}\bigl(\lambda\,\sigma_0^2 + a\,s_t\bigr) + a^2\,q_t - 2\,a^{t-1}"
    values = dict(n=4, lam=0.5, s0=2.0, a=0.5, st=3.0, qt=1.0, t=3)
    assert evaluate(tex, **values) == pytest.approx(0.75 * (1.0 + 1.5) + 0.25 - 2 * 0.25)
    for bad in (r"\sqrt{n}", r"\bigl(n", r"x \cdot y"):
        with pytest.raises(ValueError, match="untranslatable|unclosed"):
            latex_to_python(bad)


@pytest.mark.parametrize("n, lam", [(10, 0.3), (100, 0.1), (50, 0.5)])
def test_chapter_07_mixing_theorem_as_printed_matches_mix_moments(n, lam):
    """Both printed recursions (fresh, fixed pool), iterated from their printed starts,
    reproduce ``gaussian_mixing.mix_moments`` to rounding (rel 1e-12)."""
    text = statement("08_mixing_accumulation.ipynb", "thm-08-mix")
    blocks = display_equations(text)
    assert len(blocks) == 2, "the statement prints the fresh and the fixed-pool recursion"
    fresh, fixed = blocks
    generations, s0, a, k = 12, 1.0, 1.0 - lam, round(lam * n)

    exact_s, exact_q = gaussian_mixing.mix_moments(n, lam, generations)
    s, q = evaluate(inline_equation(text, "s_1"), n=n, s0=s0), evaluate(inline_equation(text, "q_1"), n=n, s0=s0)
    for t in range(1, generations + 1):
        assert (s, q) == pytest.approx((exact_s[t], exact_q[t]), rel=1e-12), f"fresh, generation {t}"
        values = dict(n=n, lam=lam, s0=s0, a=a, st=s, qt=q)
        s, q = evaluate(fresh["s_{t+1}"], **values), evaluate(fresh["q_{t+1}"], **values)

    exact_s, exact_q = gaussian_mixing.mix_moments(n, lam, generations, fresh=False)
    ev = s0 * (k - 1) / k
    s, d = evaluate(inline_equation(text, "s_1"), n=n, s0=s0), evaluate(inline_equation(text, "d_1"), n=n, k=k, s0=s0)
    for t in range(1, generations + 1):
        q = evaluate(inline_equation(text, "q_t"), dt=d, s0=s0, k=k, n=n, a=a, t=t)
        assert (s, q) == pytest.approx((exact_s[t], exact_q[t]), rel=1e-12), f"fixed pool, generation {t}"
        values = dict(n=n, lam=lam, ev=ev, a=a, st=s, dt=d)
        s, d = evaluate(fixed["s_{t+1}"], **values), evaluate(fixed["d_{t+1}"], **values)
