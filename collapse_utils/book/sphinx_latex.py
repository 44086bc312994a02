"""The book's Sphinx extension for its LaTeX build, the PDF (registered in ``_config.yml``).

It does nothing for the HTML. For a LaTeX builder it

- copies the book's LaTeX packages next to the ``.tex`` file (``latex/``):
  ``collapsebook.sty``, the layout that ``latex_elements.preamble`` loads, and
  ``bbm.sty``, a stand-in for the one package of sphinx-jupyterbook-latex's class
  that Debian ships only in the 1.4 GB ``texlive-fonts-extra``;
- points a reference to an exercise of *another* chapter at the exercise:
  sphinx-exercise labels an exercise ``exercise:<label>`` in LaTeX but rewrites
  only the references within one page, so ``{ref}`ex-14-...``` written in
  chapter 02 would print "??";
- keeps the space of "Solution to Exercise N" (LaTeX's ``\\hyperref`` drops a
  link text's leading space);
- sets a proof as a proof (italic "Proof.", a closing square), not as a box
  whose empty title bar swallowed the text's first paragraph mark.

:mod:`collapse_utils.book.pdf` runs the build. (Chapter: "How to run this book".)
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform

LATEX_DIR = Path(__file__).parent / "latex"
#: The LaTeX packages copied next to the book's ``.tex`` file.
PACKAGES = ("collapsebook.sty", "bbm.sty")


def exercise_label(refuri: str) -> str | None:
    """The target label of a LaTeX cross-document reference (``%docname#label``), else None.

    Book: {doc}`../book/how_to_run`
    """
    if not refuri.startswith("%") or "#" not in refuri:
        return None
    return refuri.split("#", 1)[1] or None


class CrossDocumentExerciseReferences(SphinxPostTransform):
    """Give a reference to another page's exercise the ``refid`` that sphinx-exercise resolves.

    Runs before sphinx-exercise's ``ResolveLinkTextToSolutions`` (priority 22),
    which turns a reference whose ``refid`` names an exercise into
    ``\\hyperref[exercise:<label>]{Exercise N}``.

    Book: {doc}`../book/how_to_run`
    """

    default_priority = 21
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        registry = getattr(self.env, "sphinx_exercise_registry", None)
        if not registry:
            return
        from sphinx_exercise.nodes import exercise_enumerable_node

        for node in self.document.findall(nodes.reference):
            label = exercise_label(node.get("refuri", ""))
            if node.get("refid") or label not in registry:
                continue
            if isinstance(registry[label].get("node"), exercise_enumerable_node):
                node["refid"] = label


class SolutionTitleSpace(SphinxPostTransform):
    """Move the space of "Solution to Exercise N" out of the link to the exercise.

    sphinx-exercise writes the title as ``Solution to`` and a link whose text
    starts with the space, `` Exercise N``; LaTeX's ``\\hyperref`` drops a
    leading space, which printed "Solution toExercise N".

    Book: {doc}`../book/how_to_run`
    """

    default_priority = 23  # after sphinx-exercise has resolved the titles (21, 22)
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        from sphinx_exercise.nodes import solution_node

        for solution in self.document.findall(solution_node):
            title = solution.children[0] if solution.children else None
            if not isinstance(title, nodes.title):
                continue
            for reference in [child for child in title.children if isinstance(child, nodes.reference)]:
                first = reference.children[0] if reference.children else None
                if isinstance(first, nodes.Text) and first.startswith(" "):
                    reference.replace(first, nodes.Text(first.lstrip()))
                    title.insert(title.index(reference), nodes.Text(" "))


class ProofsAsProofs(SphinxPostTransform):
    """Set a proof as a classic proof: "*Proof.*" in italics, the text, a closing square
    (``\\collapseqed``, as amsthm's ``\\qed``: at the end of the last line when it fits).

    sphinx-proof writes a proof as an admonition without a title, which LaTeX
    sets as a box with an empty title bar that swallows the text's first
    paragraph mark. The admonition becomes a container of class ``proof``
    (``sphinxclassproof`` in ``collapsebook.sty``).

    Book: {doc}`../book/how_to_run`
    """

    default_priority = 24
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        from sphinx_proof.nodes import proof_node

        for proof in list(self.document.findall(proof_node)):
            for admonition in [c for c in proof.children if isinstance(c, nodes.admonition)]:
                container = nodes.container(classes=["proof"])
                container.extend(admonition.children)
                _emphasise_label(container)
                square = nodes.raw("", r"\collapseqed{}", format="latex")
                if container.children and isinstance(container.children[-1], nodes.paragraph):
                    container.children[-1].append(square)
                else:  # ends with an equation or a list: the square on a line of its own
                    container.append(nodes.paragraph("", "", square))
                admonition.replace_self(container)


def _emphasise_label(container: nodes.Element) -> None:
    """Put the "Proof. " that sphinx-proof writes before a proof's text in italics."""
    first = container.children[0] if container.children else None
    if not isinstance(first, nodes.paragraph) or not first.children:
        return
    text = first.children[0]
    if not isinstance(text, nodes.Text):
        return
    label, dot, rest = str(text).partition(". ")
    if dot and label.isalpha() and label.istitle():
        first.replace(text, nodes.Text(rest))
        first.insert(0, nodes.Text(" "))
        first.insert(0, nodes.emphasis(text=label + "."))


def _add_packages(app, config) -> None:
    extra = list(config.latex_additional_files or [])
    for name in PACKAGES:
        path = str(LATEX_DIR / name)
        if path not in extra:
            extra.append(path)
    config.latex_additional_files = extra


def setup(app):
    """Register the extension with Sphinx.

    Book: {doc}`../book/how_to_run`
    """
    app.connect("config-inited", _add_packages)
    app.add_post_transform(CrossDocumentExerciseReferences)
    app.add_post_transform(SolutionTitleSpace)
    app.add_post_transform(ProofsAsProofs)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
