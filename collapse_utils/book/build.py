"""Build the book: validate parameters, execute every notebook, build the HTML.

``python -m collapse_utils.book.build --profile {smoke,book,paper}`` (what ``make
book`` calls):

1. reads the chapter notebooks from ``_toc.yml`` and checks that their first
   cells and ``CITATION.cff`` agree with the repository URL of ``_config.yml``
   (:mod:`collapse_utils.book.repository`);
2. gives every notebook its parameters under the profile (the values of its
   ``parameters`` cell and the profile's changes) and checks them *before*
   anything runs (names of the cell against the declarations in
   :mod:`collapse_utils.book.profiles`, literal values, types, ranges,
   constraints); one message lists every problem, naming the notebook, the
   parameter, the value and what is allowed;
3. stages a copy of the book in ``_build/source`` and executes each notebook
   there with papermill (the sources in git stay output-free, the kernels see
   ``COLLAPSE_BUILD=1``), printing one line per notebook and, at the end, a
   table of wall time and peak memory; papermill's injected-parameters cell is
   tagged ``remove-cell``, so the HTML does not show it;
4. runs ``jupyter-book build`` on the staged copy with execution off and
   warnings as errors (``-W -n --keep-going``), into ``_build/html``;
5. makes the notebooks the HTML offers for download
   (``_build/html/_sources/notebooks``) show their glued figures and values in
   Jupyter: each glued output also gets its plain mime data (``image/png``,
   ``text/plain``), which Jupyter displays.

A notebook is executed again only when its *execution key* changed (code cells,
profile, parameters, the library modules it imports, the installed packages:
:mod:`collapse_utils.book.execution`); otherwise its executed copy is kept and
takes the source's new prose, so a prose edit rebuilds in seconds (``--force``
re-executes everything). ``--jobs N`` executes N notebooks side by side, each
kernel with one thread, so the result is the same bytes as a serial build.

A build never publishes chapters executed under different profiles or from
older code: every executed notebook is stamped with its profile, parameters
and execution key, and with ``--only`` the chapters it does not re-execute
must carry the same profile and an up-to-date stamp, or nothing runs. Every page
says which profile built it (a footer line). What no longer belongs to the book
(a chapter removed from ``_toc.yml``: its staged notebook, its HTML page, its
figures) is removed, and the executed copies lose papermill's timestamps and
the build machine's paths, so two builds of the same sources are identical.

The module is longer than 400 lines because it is the pipeline itself, whose
steps read best in order; what the build checks before and around them lives in
:mod:`collapse_utils.book.preflight`.

Figures go to ``_build/figures`` and caches to ``_build/cache`` unless the
environment variables ``COLLAPSE_FIGURES_DIR`` / ``COLLAPSE_CACHE_DIR`` say
otherwise. (Chapter: "How to run this book".)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from collapse_utils.book import execution as execution_key_module
from collapse_utils.book import repository
from collapse_utils.book.params import ParameterError, parameters_cell, profile, profile_names
from collapse_utils.book.preflight import (  # noqa: F401 (re-exported: the checks of the pipeline)
    OPTIONAL_PACKAGES,
    STAMP,
    add_profile_footer,
    check_folders,
    clean_executed,
    missing_packages,
    prune_figures,
    source_digest,
    stale_reason,
    stamp_of,
)

ANSI = re.compile(r"\x1b\[[0-9;]*m")


class BuildError(RuntimeError):
    """A notebook failed to execute or the HTML build failed."""




# --- finding and validating notebooks -----------------------------------------------


def toc_notebooks(root: Path) -> list[Path]:
    """The notebooks listed in ``_toc.yml``, in book order."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    notebooks = []
    for f in files:
        path = root / f
        if path.suffix != ".ipynb":
            path = path.with_suffix(".ipynb")
        if path.exists():
            notebooks.append(path)
    return notebooks


def validate(notebooks: list[Path], profile_name: str) -> dict[str, dict]:
    """Every notebook's parameters under the profile (see :func:`params.profile`),
    and the optional packages they need (:data:`OPTIONAL_PACKAGES`).

    Raises :class:`ParameterError` listing every problem before anything runs.
    """
    parameters = profile(profile_name, notebooks=notebooks)
    problems = missing_packages(parameters)
    if problems:
        raise ParameterError(f"profile {profile_name!r}: " + f"\nprofile {profile_name!r}: ".join(problems))
    return parameters


# --- staging and execution -----------------------------------------------------------


def stage(root: Path, stage_dir: Path, profile_name: str | None = None, keep: list[str] | None = None) -> None:
    """Copy the book sources (config, toc, book/, the package for literalinclude) and MathJax into ``stage_dir``.

    Executed notebooks already in the stage are kept if their stem is in
    ``keep`` (the book's chapters), so ``--only`` re-executes some notebooks and
    the HTML build reuses the others; any other staged notebook is removed. With
    ``profile_name`` the staged ``_config.yml`` gets a footer line naming it."""
    (stage_dir / "notebooks").mkdir(parents=True, exist_ok=True)
    if keep is not None:
        for staged in (stage_dir / "notebooks").glob("*.ipynb"):
            if staged.stem not in keep:
                staged.unlink()
    for stale in (stage_dir / "book", stage_dir / "collapse_utils", stage_dir / "_static", stage_dir / "_mathjax"):
        if stale.exists():
            shutil.rmtree(stale)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(root / name, stage_dir / name)
    if profile_name is not None:
        add_profile_footer(stage_dir / "_config.yml", profile_name)
    shutil.copytree(root / "book", stage_dir / "book")
    # the chapters show the library's own code ({literalinclude} ../collapse_utils/...)
    shutil.copytree(root / "collapse_utils", stage_dir / "collapse_utils",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    # Not under a root "_static": Jupyter Book would add every .js file there to
    # every page. "_mathjax" is a static path of its own (see _config.yml).
    copy_mathjax(stage_dir / "_mathjax" / "mathjax")


def mathjax_source() -> Path:
    """MathJax 3 (es5 build) shipped by the ``django-static-mathjax`` package."""
    spec = find_spec("mathjax")
    if spec is None or spec.origin is None:
        raise BuildError("MathJax not found: install the pinned requirements (django-static-mathjax)")
    es5 = Path(spec.origin).parent / "static" / "mathjax" / "es5"
    if not (es5 / "tex-chtml.js").exists():
        raise BuildError(f"MathJax es5 build not found under {es5}")
    return es5


def copy_mathjax(target: Path) -> None:
    """Copy what ``tex-chtml.js`` loads: itself, its CommonHTML fonts and the
    components it may load on demand (TeX extensions, accessibility)."""
    es5 = mathjax_source()
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(es5 / "tex-chtml.js", target / "tex-chtml.js")
    for sub in ("output/chtml", "input/tex/extensions", "a11y", "ui", "sre"):
        if (es5 / sub).exists():
            shutil.copytree(es5 / sub, target / sub, dirs_exist_ok=True)


@dataclass
class Result:
    notebook: str
    seconds: float
    peak_mb: float


class _PeakMemory:
    """Samples the resident memory of this process's children (the kernel)."""

    def __init__(self, interval: float = 0.1):
        import psutil

        self._psutil = psutil
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        me = self._psutil.Process()
        while not self._stop.is_set():
            total = 0
            for child in me.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except self._psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def execute(source: Path, target: Path, parameters: dict, timeout: int | None, stamp: dict | None = None) -> Result:
    """Execute one notebook with papermill into ``target``; raise :class:`BuildError` on failure.

    The executed copy loses papermill's timestamps and paths (:func:`clean_executed`)
    and, with ``stamp``, records it under the notebook metadata key ``STAMP``."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    params_index, _ = parameters_cell(source)
    start = time.perf_counter()
    with _PeakMemory() as memory:
        try:
            papermill.execute_notebook(
                str(source),
                str(target),
                parameters=parameters,
                kernel_name="python3",
                cwd=str(target.parent),
                progress_bar=False,
                log_output=False,
                execution_timeout=timeout,
                # the kernel's own log: errors only (not its start-up warnings),
                # so the build prints one line per notebook
                extra_arguments=["--IPKernelApp.log_level=ERROR"],
            )
        except PapermillExecutionError as err:
            # papermill inserts one "injected-parameters" cell after the parameters cell
            cell = err.cell_index - 1 if err.cell_index > params_index else err.cell_index
            trace = ANSI.sub("", "\n".join(err.traceback))
            raise BuildError(
                f"{source.stem}: cell {cell} (counting from 0 in {source}) failed with "
                f"{err.ename}: {err.evalue}\n{trace}\n(executed copy: {target})"
            ) from None
    seconds = time.perf_counter() - start

    def finish(nb: dict) -> bool:
        clean_executed(nb)
        if stamp is not None:
            nb.setdefault("metadata", {})[STAMP] = stamp
        return True

    _edit_notebooks([target], finish)
    return Result(source.stem, seconds, memory.peak / 2**20)


#: Environment variables that cap a kernel's threads (numpy's BLAS, OpenMP, torch).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")

#: Notebooks that must run after others: they load the others' cached results.
AFTER = {"10_mitigations_sampling": ("06_language_models",)}


def kernel_threads() -> int:
    """Threads per kernel: ``$COLLAPSE_KERNEL_THREADS``, else 1.

    Fixed, not derived from ``--jobs``: a result computed with one thread can
    differ in its last bits from one computed with two (the order of a parallel
    sum), and a build must give the same bytes whatever ``--jobs`` is. The
    build's speed comes from running notebooks side by side instead."""
    text = os.environ.get("COLLAPSE_KERNEL_THREADS", "1")
    if not text.isdigit() or int(text) < 1:
        raise ParameterError(f"COLLAPSE_KERNEL_THREADS must be a whole number >= 1; got {text!r}")
    return int(text)


def _execute_with_environment(environment: dict, *args, **kwargs) -> Result:
    """:func:`execute` in a worker process, under the notebook's own environment variables."""
    os.environ.update(environment)
    return execute(*args, **kwargs)


def _edit_notebooks(paths, edit) -> None:
    """Apply ``edit(notebook) -> bool`` to each notebook file; rewrite those it changed."""
    for path in paths:
        if not path.exists():  # Sphinx copies a source only if html_copy_source
            continue
        nb = json.loads(path.read_text())
        if edit(nb):
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def hide_injected_parameters(notebook: dict) -> bool:
    """Tag papermill's injected-parameters cell ``remove-cell``; True if it changed."""
    changed = False
    for cell in notebook["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
            changed = True
    return changed


GLUE_PREFIX = "application/papermill.record/"


def show_glued_outputs(notebook: dict) -> bool:
    """Add the plain mime data (``image/png``, ``text/plain``, ...) to each glued
    output, which holds it only under ``application/papermill.record/``, so Jupyter
    displays it; True if it changed."""
    changed = False
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            plain = {k[len(GLUE_PREFIX):]: v for k, v in data.items() if k.startswith(GLUE_PREFIX)}
            missing = {k: v for k, v in plain.items() if k not in data}
            if missing:
                data.update(missing)
                changed = True
    return changed


MAX_JOBS = 64


def refreshed_execution(staged: Path, source: Path, stamp: dict) -> dict:
    """A staged execution whose key is current, with the source's prose and the new stamp
    (:func:`collapse_utils.book.execution.refresh_prose`; ``ValueError`` if it cannot be)."""
    executed = json.loads(staged.read_text())
    fresh = execution_key_module.refresh_prose(executed, json.loads(source.read_text()))
    fresh.setdefault("metadata", {})[STAMP] = {**stamp, "figures": executed["metadata"][STAMP].get("figures", {})}
    return fresh


def write_atomically(path: Path, notebook: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def run_notebooks(run: list[Path], stage_dir: Path, parameters: dict, stamps: dict, timeout: int | None,
                  jobs: int, threads: int, profile_name: str, figures: Path,
                  reasons: dict[str, str]) -> list[Result]:
    """Execute ``run`` (``jobs`` at a time, respecting :data:`AFTER`); results in book order.

    Each kernel gets ``threads`` threads and ``COLLAPSE_NOTEBOOK`` (figure
    manifests record who drew them); each executed copy is stamped with its
    execution key and the figures it saved."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from multiprocessing import get_context

    def environment(nb: Path) -> dict:
        return {"COLLAPSE_NOTEBOOK": nb.stem, **{v: str(threads) for v in THREAD_VARIABLES}}

    def finished(nb: Path, result: Result, index: int) -> Result:
        # record the figures this execution saved, so a later build can check them
        staged = stage_dir / "notebooks" / nb.name
        drawn = execution_key_module.figures_of(figures, nb.stem)
        _edit_notebooks([staged], lambda data: data["metadata"][STAMP].update(figures=drawn) or True)
        print(f"[{index}/{len(run)}] {nb.stem} ({profile_name}; {reasons[nb.stem]}): "
              f"{result.seconds:.1f}s, peak {result.peak_mb:.0f} MB", flush=True)
        return result

    results: dict[str, Result] = {}
    if jobs == 1 or len(run) <= 1:
        saved = {v: os.environ.get(v) for v in THREAD_VARIABLES}
        try:
            for nb in run:
                os.environ.update(environment(nb))
                result = execute(nb, stage_dir / "notebooks" / nb.name, parameters[nb.stem], timeout,
                                 stamp=stamps[nb.stem])
                results[nb.stem] = finished(nb, result, len(results) + 1)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        return [results[nb.stem] for nb in run]
    # what another notebook waits for starts first (chapter 06, the longest, holds up chapter 10)
    needed = {b for blockers in AFTER.values() for b in blockers}
    waiting = sorted(run, key=lambda nb: nb.stem not in needed)
    running: dict = {}
    stems = {nb.stem for nb in run}
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        while waiting or running:
            for nb in list(waiting):
                blocked = [b for b in AFTER.get(nb.stem, ()) if b in stems and b not in results]
                if len(running) < jobs and not blocked:
                    waiting.remove(nb)
                    running[pool.submit(_execute_with_environment, {**os.environ, **environment(nb)}, nb,
                                        stage_dir / "notebooks" / nb.name, parameters[nb.stem], timeout,
                                        stamp=stamps[nb.stem])] = nb
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                nb = running.pop(future)
                try:
                    result = future.result()
                except BuildError:
                    for other in running:
                        other.cancel()
                    raise
                results[nb.stem] = finished(nb, result, len(results) + 1)
    return [results[nb.stem] for nb in run]


def print_table(results: list[Result]) -> None:
    width = max([len(r.notebook) for r in results] + [8])
    print(f"\n{'notebook':<{width}}  {'wall time':>10}  {'peak memory':>12}")
    for r in results:
        print(f"{r.notebook:<{width}}  {r.seconds:>9.1f}s  {r.peak_mb:>9.0f} MB")
    print(f"{'total':<{width}}  {sum(r.seconds for r in results):>9.1f}s")


def build_html(stage_dir: Path, output: Path) -> Path:
    """Run ``jupyter-book build`` (execution off, warnings as errors) into ``<output>/_build/html``."""
    cli = Path(sys.executable).parent / "jupyter-book"
    html = output / "_build" / "html"
    if html.exists():  # pages of chapters no longer in the book must not survive
        shutil.rmtree(html)
    command = [str(cli), "build", str(stage_dir), "--path-output", str(output),
               "-W", "-n", "--keep-going", "--builder", "html", "--all"]
    print("$ " + " ".join(command), flush=True)
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise BuildError(
            "jupyter-book build failed (warnings are errors):\n"
            + (done.stdout[-6000:] + "\n" + done.stderr[-6000:]).strip()
        )
    return output / "_build" / "html"


def build(
    profile_name: str,
    root: Path = Path("."),
    only: list[str] | None = None,
    html: bool = True,
    timeout: int | None = None,
    output: Path | None = None,
    jobs: int = 1,
    force: bool = False,
) -> list[Result]:
    """The whole pipeline; see the module docstring.

    Everything it writes goes under ``<output>/_build`` (default: the book root).
    ``jobs``: notebooks executed side by side (each kernel with
    :func:`kernel_threads` threads); ``force``: re-execute notebooks whose
    execution key is unchanged (:mod:`collapse_utils.book.execution`).
    """
    root, output = check_folders(root, output)
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 1):
        raise ParameterError(f"--timeout must be a whole number of seconds >= 1 (or omitted: no limit); got {timeout!r}")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or not 1 <= jobs <= MAX_JOBS:
        raise ParameterError(f"--jobs must be a whole number from 1 to {MAX_JOBS}; got {jobs!r}")
    threads = kernel_threads()
    book = toc_notebooks(root)
    notebooks = book
    if only:
        unknown = sorted(set(only) - {nb.stem for nb in book})
        if unknown:
            raise ParameterError(
                f"--only: unknown notebook(s) {', '.join(unknown)}; "
                f"known: {', '.join(nb.stem for nb in book)}"
            )
        notebooks = [nb for nb in book if nb.stem in only]
    # with the HTML, every chapter is published: check them all, before anything runs
    checked = validate(book if html else notebooks, profile_name)
    parameters = {nb.stem: checked[nb.stem] for nb in notebooks}
    stage_dir = output / "_build" / "source"
    build_dir = output / "_build"
    figures = Path(os.environ.get("COLLAPSE_FIGURES_DIR", build_dir / "figures"))
    environment = execution_key_module.environment_fingerprint(threads)
    considered = book if html else notebooks
    stamps = {nb.stem: stamp_of(checked[nb.stem], profile_name, nb,
                                execution_key_module.execution_key(nb, profile_name, checked[nb.stem], environment))
              for nb in considered}
    why_stale = {nb.stem: stale_reason(stage_dir / "notebooks" / nb.name, stamps[nb.stem], figures)
                 for nb in considered}
    refreshed = {}  # the executions kept, with the sources' prose (written after staging)
    for nb in considered:
        if why_stale[nb.stem] is None and not (force and nb in notebooks):
            try:
                refreshed[nb.stem] = refreshed_execution(stage_dir / "notebooks" / nb.name, nb, stamps[nb.stem])
            except (ValueError, KeyError, StopIteration) as err:
                why_stale[nb.stem] = f"its executed copy does not match its code ({err})"
    if html and only:
        stale = {nb.stem: why_stale[nb.stem] for nb in book if nb not in notebooks and why_stale[nb.stem]}
        if stale:
            raise ParameterError(
                f"the HTML would publish chapters that do not belong to this '{profile_name}' build "
                "(nothing was executed):\n  "
                + "\n  ".join(f"{stem}: {why}" for stem, why in stale.items())
                + "\nadd them to --only, build without --only, or add --no-html")
    disagreements = repository.check(root)
    if disagreements:
        raise BuildError(
            "the repository URL of _config.yml is not applied everywhere (nothing was executed):\n  "
            + "\n  ".join(disagreements)
            + "\nrun: python -m collapse_utils.book.repository (it rewrites them from _config.yml)"
        )

    # what runs: the chosen notebooks whose execution is stale (all of them with force);
    # the others of the book keep their execution and take the source's prose
    run = [nb for nb in notebooks if force or why_stale[nb.stem]]
    reuse = [nb for nb in considered if nb not in run]
    stage(root, stage_dir, profile_name, keep=[nb.stem for nb in book])
    os.environ.setdefault("COLLAPSE_FIGURES_DIR", str(figures))
    prune_figures(figures, book=[nb.stem for nb in book], redrawn=[nb.stem for nb in run])
    os.environ.setdefault("COLLAPSE_CACHE_DIR", str(build_dir / "cache"))
    os.environ["COLLAPSE_PROGRESS"] = "0"
    os.environ["COLLAPSE_PROFILE"] = profile_name
    # glue.show publishes figures for the book only when the build runs it
    os.environ["COLLAPSE_BUILD"] = "1"
    # figures must be displayed as images for glue (a user's MPLBACKEND=Agg would lose them)
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    # the kernel must be this environment's Python
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")

    for notebook in reuse:
        write_atomically(stage_dir / "notebooks" / notebook.name, refreshed[notebook.stem])
    if reuse:
        print(f"reused {len(reuse)} execution(s) whose code, parameters, library modules and packages "
              f"are unchanged (--force re-executes them): {', '.join(nb.stem for nb in reuse)}", flush=True)
    results = run_notebooks(run, stage_dir, parameters, stamps, timeout, jobs, threads, profile_name, figures,
                            reasons={nb.stem: why_stale[nb.stem] or "--force" for nb in run})
    if results:
        print_table(results)
    # figures saved by the notebooks are also part of the prose pages (the intro's)
    if figures.exists():
        shutil.copytree(figures, stage_dir / "book" / "figures", dirs_exist_ok=True)
    report = {
        "profile": profile_name,
        "notebooks": [r.__dict__ for r in results],
        "reused": [nb.stem for nb in reuse],
        "jobs": jobs,
        "kernel_threads": threads,
    }
    (build_dir / "build-report.json").write_text(json.dumps(report, indent=1))
    if html:
        missing = [nb.stem for nb in toc_notebooks(root)
                   if not (stage_dir / "notebooks" / nb.name).exists()]
        if missing:
            raise BuildError(
                f"cannot build the HTML: never executed: {', '.join(missing)} "
                f"(run once without --only, or add them to --only)"
            )
        staged = [stage_dir / "notebooks" / nb.name for nb in toc_notebooks(root)]
        _edit_notebooks(staged, hide_injected_parameters)
        start = time.perf_counter()
        out = build_html(stage_dir, output)
        _edit_notebooks([out / "_sources" / "notebooks" / nb.name for nb in toc_notebooks(root)],
                        show_glued_outputs)
        print(f"HTML built in {time.perf_counter() - start:.0f}s: {out / 'index.html'}")
    return results


def _positive_seconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of seconds >= 1; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of seconds >= 1; got {value}")
    return value


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_JOBS}; got {text!r}") from None
    if not 1 <= value <= MAX_JOBS:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_JOBS}; got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m collapse_utils.book.build",
        description="Execute every notebook under a profile, then build the HTML book.",
    )
    parser.add_argument("--profile", default="book", help=f"one of: {', '.join(profile_names())}")
    parser.add_argument("--only", nargs="+", metavar="NOTEBOOK", help="execute only these notebooks (by stem)")
    parser.add_argument("--no-html", action="store_true", help="execute the notebooks but do not build the HTML")
    parser.add_argument("--jobs", type=_jobs, default=1,
                        help="notebooks executed side by side (default 1; each kernel uses one thread)")
    parser.add_argument("--force", action="store_true",
                        help="re-execute every notebook, even those whose execution is unchanged")
    parser.add_argument("--timeout", type=_positive_seconds, default=None, help="per-cell timeout in seconds (>= 1)")
    parser.add_argument("--root", type=Path, default=Path("."), help="the book root (holds _toc.yml)")
    parser.add_argument("--output", type=Path, default=None,
                        help="write everything under OUTPUT/_build (default: the book root)")
    args = parser.parse_args(argv)
    try:
        build(args.profile, root=args.root, only=args.only, html=not args.no_html,
              timeout=args.timeout, output=args.output, jobs=args.jobs, force=args.force)
    except ParameterError as err:
        print(f"\nerror: invalid parameters, nothing was executed:\n{err}", file=sys.stderr)
        return 2
    except BuildError as err:
        print(f"\nerror: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
