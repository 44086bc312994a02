"""The whole book as one PDF, from an executed build (``make pdf``).

``python -m collapse_utils.book.pdf [--output DIR]`` reuses what
``python -m collapse_utils.book.build`` left under ``DIR/_build`` (default: the
book root) and executes nothing:

1. checks that TeX Live can build the book (:data:`TEX_COMMANDS`,
   :data:`TEX_FILES`); if not, one message names what to install (Debian:
   :data:`DEBIAN_PACKAGES`) and the exit code is 2, before anything is written;
2. checks that ``DIR/_build/source`` holds every chapter of its own
   ``_toc.yml`` (the one its HTML was built from), executed under one profile;
3. copies that stage to ``DIR/_build/pdf-source`` and gives every pandas table
   (``text/html``) a ``text/markdown`` twin, a grid table
   (:func:`collapse_utils.book.pdf_tables.grid_table`),
   so that the PDF shows a table where it would show the table's plain text;
4. runs ``jupyter-book build --builder latex`` on the copy (execution off,
   warnings as errors) into ``DIR/_build/pdf-work/_build/latex``: the LaTeX of
   ``_config.yml`` (``latex:``, ``sphinx.config.latex_elements``, the layout in
   ``collapse_utils/book/latex/``);
5. runs ``latexmk`` (xelatex) on it and stops on a LaTeX error, an undefined
   reference or a character missing from the fonts, with the log's lines;
6. writes ``DIR/_build/pdf/model-collapse.pdf`` (whole, or not at all) and, when
   the HTML is there, a copy at ``DIR/_build/html/model-collapse.pdf`` with a
   link to it in the footer of every page (:func:`offer_in_html`).

(Chapter: "How to run this book".)
"""

from __future__ import annotations

import argparse
import html as html_module
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from collapse_utils.book.params import ParameterError
from collapse_utils.book.pdf_tables import add_table_markdown
from collapse_utils.book.preflight import check_folders, read_stamp

PDF_NAME = "model-collapse.pdf"
TEX_NAME = "model-collapse.tex"  # _config.yml: latex.latex_documents.targetname

#: Commands the PDF needs, with the Debian package that provides each.
TEX_COMMANDS = {
    "xelatex": "texlive-xetex",
    "latexmk": "latexmk",
    "kpsewhich": "texlive-binaries",
}
#: Files TeX must find (``kpsewhich``), with the Debian package that provides each:
#: one package of each TeX Live collection the book uses, and the fonts of
#: ``collapsebook.sty``.
TEX_FILES = {
    "unicode-math.sty": "texlive-latex-recommended",
    "ucharclasses.sty": "texlive-xetex",
    "tabulary.sty": "texlive-latex-extra",
    "fncychap.sty": "texlive-latex-extra",
    "pgfplots.sty": "texlive-pictures",
    "pzdr.tfm": "texlive-fonts-recommended",  # hyperref's links under xelatex
    "texgyrepagella-regular.otf": "fonts-texgyre",
    "texgyreheros-regular.otf": "fonts-texgyre",
    "texgyrepagella-math.otf": "fonts-texgyre-math",
    "DejaVuSansMono.ttf": "fonts-dejavu-core",
}
#: What to install on Debian or Ubuntu (``--no-install-recommends``; the same list
#: as ``.ci/run``): about 400 MB.
DEBIAN_PACKAGES = (
    "latexmk",
    "texlive-xetex",
    "texlive-latex-extra",
    "texlive-fonts-recommended",
    "fonts-texgyre",
    "fonts-texgyre-math",
    "fonts-dejavu-core",
)


class TexMissing(RuntimeError):
    """TeX Live, or a package or font of it that the PDF needs, is not installed."""


class PdfError(RuntimeError):
    """The LaTeX or the PDF build failed."""


# --- TeX ----------------------------------------------------------------------------


def missing_tex(path: str | None = None) -> list[str]:
    """What the PDF needs and this machine lacks: ``"xelatex (command, texlive-xetex)"``, ...

    ``path``: the ``PATH`` to search (default: the environment's).

    Book: {doc}`../book/how_to_run`
    """
    missing = [
        f"{name} (command, Debian package {package})"
        for name, package in TEX_COMMANDS.items()
        if shutil.which(name, path=path) is None
    ]
    kpsewhich = shutil.which("kpsewhich", path=path)
    if kpsewhich is None:
        return missing
    names = list(TEX_FILES)
    done = subprocess.run([kpsewhich, *names], capture_output=True, text=True)
    found = {Path(line.strip()).name for line in done.stdout.splitlines() if line.strip()}
    missing += [f"{name} (Debian package {TEX_FILES[name]})" for name in names if name not in found]
    return missing


def tex_message(missing: list[str]) -> str:
    """The one message for a machine without (all of) TeX Live: what is missing, what to install.

    Book: {doc}`../book/how_to_run`
    """
    return (
        "cannot build the PDF: TeX Live (xelatex, latexmk) or a package or font of it is missing "
        "(nothing was written):\n  "
        + "\n  ".join(missing)
        + "\nOn Debian or Ubuntu install (about 400 MB):\n"
        + "  sudo apt-get install --no-install-recommends "
        + " ".join(DEBIAN_PACKAGES)
        + "\nElsewhere: TeX Live with xelatex, latexmk, unicode-math, the TeX Gyre fonts "
        "(Pagella, Pagella Math, Heros) and DejaVu Sans Mono."
    )


# --- the build ------------------------------------------------------------------------


def toc_files(toc: Path) -> list[str]:
    """The files of a ``_toc.yml`` (its root first), in book order, as written there.

    Book: {doc}`../book/how_to_run`
    """
    import yaml

    data = yaml.safe_load(toc.read_text())
    files: list[str] = [data["root"]] if data.get("root") else []

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({key: value for key, value in data.items() if key != "root"})
    return files


def staged_chapters(stage: Path) -> tuple[list[Path], str]:
    """The executed notebooks of the stage's own ``_toc.yml`` (the one its HTML was
    built from) and the one profile they were executed under.

    Raises :class:`ParameterError` when there is no stage, when a chapter of
    its table of contents was never executed there, or when two were executed
    under different profiles.

    Book: {doc}`../book/how_to_run`
    """
    if not (stage / "_config.yml").is_file() or not (stage / "_toc.yml").is_file():
        raise ParameterError(
            f"no executed build under {stage.parent.parent}: {stage} is missing; run "
            f"`python -m collapse_utils.book.build --output {stage.parent.parent}` first (or `make book`)"
        )
    staged, problems, profiles = [], [], {}
    for file in toc_files(stage / "_toc.yml"):
        if (stage / file).with_suffix(".md").exists():
            continue  # a page of prose
        path = (stage / file).with_suffix(".ipynb")
        stamp, why = read_stamp(path)
        if why:
            problems.append(f"{path.stem}: {why}")
            continue
        staged.append(path)
        profiles.setdefault(stamp.get("profile"), []).append(path.stem)
    if problems:
        raise ParameterError(
            f"the build under {stage.parent.parent} lacks chapters of its _toc.yml (build the book first):\n  "
            + "\n  ".join(problems)
        )
    if len(profiles) > 1:
        raise ParameterError(
            "the staged chapters were executed under different profiles: "
            + "; ".join(f"{p}: {', '.join(s)}" for p, s in profiles.items())
        )
    return staged, next(iter(profiles), "")


def prepare_source(stage: Path, target: Path) -> int:
    """Copy the stage (not MathJax) to ``target`` and add the tables' markdown; returns how many.

    Book: {doc}`../book/how_to_run`
    """
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(stage, target, ignore=shutil.ignore_patterns("_mathjax", ".ipynb_checkpoints"))
    (target / "_mathjax").mkdir()  # html_static_path names it; LaTeX needs none of MathJax
    added = 0
    for path in sorted((target / "notebooks").glob("*.ipynb")):
        notebook = json.loads(path.read_text())
        count = add_table_markdown(notebook)
        if count:
            path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
            added += count
    return added


LOG_PROBLEM = re.compile(
    r"^(! .*|\S+:\d+: .*|.*LaTeX Warning: (Reference|Citation|Hyper reference) .* undefined.*"
    r"|Missing character: .*)$",
    re.M,
)


def latex_problems(log: str) -> list[str]:
    """LaTeX errors, undefined references and characters missing from the fonts in a log.

    Book: {doc}`../book/how_to_run`
    """
    return list(dict.fromkeys(m.group(0) for m in LOG_PROBLEM.finditer(log)))


def run_latex(source: Path, work: Path) -> Path:
    """``jupyter-book build --builder latex`` into ``work``, then latexmk; the PDF's path.

    Book: {doc}`../book/how_to_run`
    """
    cli = Path(sys.executable).parent / "jupyter-book"
    if work.exists():
        shutil.rmtree(work)
    command = [
        str(cli),
        "build",
        str(source),
        "--path-output",
        str(work),
        "-W",
        "-n",
        "--keep-going",
        "--builder",
        "latex",
        "--all",
    ]
    print("$ " + " ".join(command), flush=True)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    print(f"LaTeX written in {time.perf_counter() - start:.0f}s", flush=True)
    latex = work / "_build" / "latex"
    if done.returncode != 0 or not (latex / TEX_NAME).exists():
        raise PdfError(
            "jupyter-book's LaTeX build failed (warnings are errors):\n"
            + (done.stdout[-6000:] + "\n" + done.stderr[-6000:]).strip()
        )
    command = ["latexmk", "-pdf", "-dvi-", "-ps-", TEX_NAME]
    print("$ (cd " + str(latex) + " && " + " ".join(command) + ")", flush=True)
    # one log line per message (TeX wraps them at 79 characters otherwise)
    env = os.environ | {
        "LATEXOPTS": "-interaction=nonstopmode -halt-on-error -file-line-error",
        "max_print_line": "10000",
    }
    start = time.perf_counter()
    done = subprocess.run(command, cwd=latex, capture_output=True, text=True, env=env)
    print(f"latexmk (xelatex) ran in {time.perf_counter() - start:.0f}s", flush=True)
    log_path = latex / TEX_NAME.replace(".tex", ".log")
    log = log_path.read_text(errors="replace") if log_path.exists() else ""
    problems = latex_problems(log)
    pdf = latex / PDF_NAME
    if done.returncode != 0 or problems or not pdf.exists():
        raise PdfError(
            f"LaTeX failed (exit {done.returncode}); the log is {log_path}:\n  "
            + "\n  ".join(problems[:30] or [done.stdout[-4000:]])
        )
    return pdf


def pdf_pages(log: str) -> int | None:
    """The page count xelatex reports in its log (``Output written on ... (N pages``).

    Book: {doc}`../book/how_to_run`
    """
    found = re.findall(r"Output written on .*?\((\d+) pages?", log)
    return int(found[-1]) if found else None


def _copy_whole(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` whole or not at all (a temporary file, then a rename)."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)


FOOTER = re.compile(r'(<div class="extra_footer">\s*)')
OFFER = re.compile(r'<p class="book-pdf">.*?</p>\n?', re.S)
CONTENT_ROOT = re.compile(r'<html[^>]*\bdata-content_root="([^"]*)"')


def offer_in_html(html_dir: Path, pdf: Path, pages: int | None) -> int:
    """Copy ``pdf`` into the HTML and link it from the footer of every page; returns how many pages.

    The link is relative to each page (its ``data-content_root``), so it works
    wherever the site is served; running it again replaces the link.

    Book: {doc}`../book/how_to_run`
    """
    _copy_whole(pdf, html_dir / PDF_NAME)
    size = f"{pdf.stat().st_size / 2**20:.1f} MB"
    about = f"{pages} pages, {size}" if pages else size
    linked = 0
    for page in sorted(html_dir.rglob("*.html")):
        if "_static" in page.parts:
            continue
        text = page.read_text(encoding="utf-8")
        root = CONTENT_ROOT.search(text)
        if root is None or not FOOTER.search(text):
            continue
        href = html_module.escape((root.group(1) or "./") + PDF_NAME, quote=True)
        line = (
            f'<p class="book-pdf">Read it offline: <a href="{href}" download>'
            f"the whole book as a PDF</a> ({about}).</p>\n"
        )
        new = FOOTER.sub(lambda m, line=line: m.group(1) + line, OFFER.sub("", text), count=1)
        if new != text:
            page.write_text(new, encoding="utf-8")
        linked += 1
    return linked


def build_pdf(output: Path | None = None, root: Path = Path(".")) -> Path:
    """The pipeline of the module docstring; returns ``<output>/_build/pdf/model-collapse.pdf``.

    Book: {doc}`../book/how_to_run`
    """
    root, output = check_folders(root, output)
    missing = missing_tex()
    if missing:
        raise TexMissing(tex_message(missing))
    build_dir = output / "_build"
    stage = build_dir / "source"
    _, profile_name = staged_chapters(stage)
    start = time.perf_counter()
    tables = prepare_source(stage, build_dir / "pdf-source")
    print(
        f"staged {build_dir / 'pdf-source'} ({profile_name} profile; {tables} tables as grid tables)",
        flush=True,
    )
    built = run_latex(build_dir / "pdf-source", build_dir / "pdf-work")
    log = built.with_suffix(".log").read_text(errors="replace")
    pages = pdf_pages(log)
    final = build_dir / "pdf" / PDF_NAME
    final.parent.mkdir(parents=True, exist_ok=True)
    _copy_whole(built, final)
    html_dir = build_dir / "html"
    if html_dir.is_dir():
        linked = offer_in_html(html_dir, final, pages)
        where = f"; offered by {linked} HTML pages ({html_dir / PDF_NAME})"
    else:
        where = "; no HTML to offer it (build the book first to link it from every page)"
    print(
        f"PDF built in {time.perf_counter() - start:.0f}s: {final} "
        f"({pages} pages, {final.stat().st_size / 2**20:.1f} MB){where}",
        flush=True,
    )
    return final


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m collapse_utils.book.pdf",
        description="Build the whole book as one PDF from an executed build (python -m collapse_utils.book.build).",
    )
    parser.add_argument("--root", type=Path, default=Path("."), help="the book root (holds _toc.yml)")
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="the --output of the build: reads OUTPUT/_build/source, writes OUTPUT/_build/pdf "
        "(default: the book root)",
    )
    args = parser.parse_args(argv)
    try:
        build_pdf(args.output, root=args.root)
    except (TexMissing, ParameterError, PdfError) as err:
        print(f"\nerror: {err}", file=sys.stderr)
        return 1 if isinstance(err, PdfError) else 2  # 2: nothing was tried
    return 0


if __name__ == "__main__":
    sys.exit(main())
