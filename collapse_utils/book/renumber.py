"""Renumber chapters across the repository, for inserting or splitting one.

A chapter's number lives in many places: the notebook's file name
(``08_mitigations_sampling.ipynb``) and its figures' (``show(fig, "08_zipf")``), its labels (``fig-08-…``, ``ex-08-…``,
``ans-ex-08-…``), its answers module and their tests (``answers/ch08.py``,
``test_answers_ch08.py``), ``glue_answers("08")`` and the prose ("chapter 08",
"chapters 07–08", a table cell "| 05, 08 |"). This tool rewrites all of them
at once, from a mapping old → new applied simultaneously (so 08 → 09 and
09 → 10 in one call do not chain), and renames the files with ``git mv``::

    python -m collapse_utils.book.renumber 08=09 09=10 10=11 11=12 [--dry-run]

It prints every file it changed with the number of substitutions. What it
cannot know is meaning: a sentence that says "the next chapter" or a reference
to content that moved to another chapter must still be read by a person (grep
the diff). Cell ids such as ``cell-08-b`` are not chapter numbers and are left
alone. (Chapter: none; see CONTRIBUTING.md, "Adding or splitting a chapter".)
"""

from __future__ import annotations

import argparse
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path

#: Label prefixes that carry a chapter number (``fig-08-name``).
LABEL_PREFIXES = ("ans-ex", "fig", "ex", "prop", "thm", "def", "sec", "cor", "tab", "rem", "lem", "eq")

#: Files that record history in the numbering of their time.
EXCLUDED = {"CHANGELOG.md", "renumber.py", "test_renumber.py"}  # history; the tool and its examples

#: File suffixes that are rewritten (everything else tracked is left alone).
TEXT_SUFFIXES = {".py", ".ipynb", ".md", ".yml", ".yaml", ".toml", ".cfg", ".txt", ".bib", ".css", ".js", ".html", ""}

_NUM = r"(?:0[1-9]|[1-9][0-9])"
_SEP = r"(?:\s*(?:–|-|,|and|or|to)\s*)"


def _check_mapping(mapping: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for old, new in mapping.items():
        for name, value in (("old", old), ("new", new)):
            if not re.fullmatch(r"\d\d", value):
                raise ValueError(f"renumber: {name} chapter number {value!r} must be two digits, e.g. '08'")
        out[old] = new
    targets = list(out.values())
    if len(set(targets)) != len(targets):
        raise ValueError(f"renumber: two chapters map to the same new number: {out}")
    return out


def rewrite(text: str, mapping: Mapping[str, str], stems: Mapping[str, str] | None = None) -> tuple[str, int]:
    """Return ``text`` with every chapter number in ``mapping`` replaced, and the count.

    ``stems`` maps whole notebook stems (``08_mitigations_sampling`` →
    ``09_mitigations_sampling``); they are replaced first, as whole words.
    """
    mapping = _check_mapping(mapping)
    count = 0

    def num(n: str) -> str:
        return mapping.get(n, n)

    def counted(repl):
        def inner(m: re.Match) -> str:
            nonlocal count
            new = repl(m)
            if new != m.group(0):
                count += 1
            return new
        return inner

    if stems:
        pattern = re.compile(r"(?<![\w])(" + "|".join(re.escape(s) for s in sorted(stems, key=len, reverse=True)) + r")(?![\w])")
        text = pattern.sub(counted(lambda m: stems[m.group(1)]), text)
    # labels: fig-08-…, ans-ex-08-…
    prefixes = "|".join(sorted(LABEL_PREFIXES, key=len, reverse=True))
    text = re.sub(rf"(?<![\w-])({prefixes})-({_NUM})-", counted(lambda m: f"{m.group(1)}-{num(m.group(2))}-"), text)
    # answers modules: ch08, test_answers_ch08, answers.ch08
    text = re.sub(rf"(?<![A-Za-z0-9])ch({_NUM})(?![0-9])", counted(lambda m: f"ch{num(m.group(1))}"), text)
    # glue_answers("08"), also JSON-escaped inside a notebook: glue_answers(\"08\")
    text = re.sub(rf"glue_answers\((\\?['\"])({_NUM})\1\)",
                  counted(lambda m: f"glue_answers({m.group(1)}{num(m.group(2))}{m.group(1)})"), text)
    # figure files: show(fig, "08_name" ...) and book/figures/08_name.png
    text = re.sub(rf"show\(fig, (\\?['\"])({_NUM})_", counted(lambda m: f"show(fig, {m.group(1)}{num(m.group(2))}_"), text)
    text = re.sub(rf"(?<![\w])figures/({_NUM})_", counted(lambda m: f"figures/{num(m.group(1))}_"), text)
    # prose: chapter 08, Chapters 07–08, chapters 04, 05 and 06
    def prose(m: re.Match) -> str:
        return m.group(1) + re.sub(_NUM, lambda k: num(k.group(0)), m.group(2))
    text = re.sub(rf"(\b[Cc]hapters?:?\s+)({_NUM}(?:{_SEP}{_NUM}(?!\d))*)(?!\d)", counted(prose), text)
    # short links whose text is the number: {doc}`Ch. 8 <../notebooks/08_name>` (stems already renamed)
    text = re.sub(r"\bCh\. (\d+) <((?:\.\./)?notebooks/)(\d\d)_",
                  counted(lambda m: f"Ch. {int(m.group(3))} <{m.group(2)}{m.group(3)}_"), text)
    # table cells holding only chapter numbers: | 05, 08 |
    def cell(m: re.Match) -> str:
        return m.group(1) + re.sub(_NUM, lambda k: num(k.group(0)), m.group(2)) + m.group(3)
    text = re.sub(rf"(\|\s*)({_NUM}(?:{_SEP}{_NUM})*)(\s*\|)", counted(cell), text)
    return text, count


def _tracked(root: Path) -> list[Path]:
    out = subprocess.run(["git", "ls-files"], cwd=root, check=True, capture_output=True, text=True).stdout
    return [root / line for line in out.splitlines() if line]


def renumber(root: Path, mapping: Mapping[str, str], *, dry_run: bool = False) -> dict[str, int]:
    """Rewrite every tracked text file under ``root`` and ``git mv`` the numbered files."""
    mapping = _check_mapping(mapping)
    files = _tracked(root)
    stems = {}
    for path in files:
        m = re.fullmatch(rf"({_NUM})_(\w+)\.ipynb", path.name)
        if path.parent.name == "notebooks" and m and m.group(1) in mapping:
            stems[path.stem] = f"{mapping[m.group(1)]}_{m.group(2)}"
    changed: dict[str, int] = {}
    for path in files:
        if path.suffix not in TEXT_SUFFIXES or path.name in EXCLUDED or not path.is_file():
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        new, count = rewrite(text, mapping, stems)
        if new != text:
            changed[str(path.relative_to(root))] = count
            if not dry_run:
                path.write_text(new)
    moves = []
    for path in files:
        rel = path.relative_to(root)
        name = path.name
        m = re.fullmatch(rf"({_NUM})_(\w+\.ipynb)", name)
        if path.parent.name == "notebooks" and m and m.group(1) in mapping:
            moves.append((rel, rel.with_name(f"{mapping[m.group(1)]}_{m.group(2)}")))
        m = re.fullmatch(rf"(test_answers_)?ch({_NUM})\.py", name)
        if m and m.group(2) in mapping:
            moves.append((rel, rel.with_name(f"{m.group(1) or ''}ch{mapping[m.group(2)]}.py")))
    # move in an order that never overwrites: through temporary names
    if not dry_run:
        for i, (src, _) in enumerate(moves):
            subprocess.run(["git", "mv", str(src), f"{src}.renumber{i}"], cwd=root, check=True)
        for i, (src, dst) in enumerate(moves):
            subprocess.run(["git", "mv", f"{src}.renumber{i}", str(dst)], cwd=root, check=True)
    for src, dst in moves:
        changed.setdefault(f"{src} -> {dst}", 0)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pairs", nargs="+", help="OLD=NEW chapter numbers, e.g. 08=09")
    parser.add_argument("--dry-run", action="store_true", help="print what would change, change nothing")
    parser.add_argument("--root", type=Path, default=Path("."))
    args = parser.parse_args(argv)
    mapping = {}
    for pair in args.pairs:
        if "=" not in pair:
            parser.error(f"pair {pair!r} must be OLD=NEW, e.g. 08=09")
        old, new = pair.split("=", 1)
        mapping[old] = new
    changed = renumber(args.root.resolve(), mapping, dry_run=args.dry_run)
    for name, count in sorted(changed.items()):
        print(f"{count:5d}  {name}")
    print(f"{len(changed)} files{' would change' if args.dry_run else ' changed'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
