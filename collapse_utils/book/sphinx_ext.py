"""A small Sphinx extension for the book's HTML (registered in ``_config.yml``).

- ships ``static/book.css`` (code that wraps on phones, display equations that
  scroll within themselves), ``static/book.js`` (the phone sidebar toggles) and the
  favicon;
- gives every figure image without a meaningful alt text the first sentence of its
  caption;
- sets the theme's default colour mode (an empty one logs a console error);
- drops the duplicate inline scripts Sphinx 7 writes for scripts registered after
  the builder started (sphinx-thebe's ``const THEBE_JS_URL`` twice is a SyntaxError);
- for the collapse calculator (``book/explorer.md``), when the book has it: states its
  grid through MyST substitutions (``{{ explorer_n }}`` ...), writes its numbers,
  computed from the exact library functions, into the HTML as
  ``_static/explorer-data.js`` (:mod:`collapse_utils.book.explorer`), and checks the
  SHA-256 of the vendored plotly.js bundle the page loads (``static/vendor/``).
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes

STATIC = Path(__file__).parent / "static"

#: The calculator page, and the file of numbers it loads (under the HTML's ``_static``).
EXPLORER_DOC = "book/explorer"
EXPLORER_DATA = "explorer-data.js"

#: plotly.js, vendored from the npm package plotly.js-basic-dist-min (MIT licence,
#: static/vendor/plotly.js-LICENSE.txt): the file plotly-basic.min.js of version 4.1.1,
#: tarball sha1 27ea39207030c3e2f5c2d64d9b1366ca59cab97e. Updating it means replacing
#: the file and this version and digest (static/vendor/README.md says how).
PLOTLY = {
    "package": "plotly.js-basic-dist-min",
    "version": "4.1.1",
    "file": STATIC / "vendor" / "plotly-basic.min.js",
    "sha256": "99784e3abfb07b142a15e521a439e6d9addceadb3f79553fd24c72774f0649ba",
}
IMAGE_PATH = re.compile(r"(^|/)[^/\s]*\.(png|jpe?g|svg|gif|webp)$", re.IGNORECASE)


def first_sentence(text: str) -> str:
    """The first sentence of ``text`` (all of it when it has no full stop), whitespace collapsed.

    Book: {doc}`../book/how_to_run`
    """
    text = " ".join(text.split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return match.group(1) if match else text


def is_meaningless_alt(alt: str | None, uri: str) -> bool:
    """True when an image's alt text says nothing: empty, its own uri, or a file path.

    Book: {doc}`../book/how_to_run`
    """
    alt = (alt or "").strip()
    return not alt or alt == uri or bool(IMAGE_PATH.search(alt))


def _alt_from_captions(app, doctree, docname) -> None:
    for figure in doctree.findall(nodes.figure):
        captions = list(figure.findall(nodes.caption))
        if not captions:
            continue
        alt = first_sentence(captions[0].astext())
        for image in figure.findall(nodes.image):
            if is_meaningless_alt(image.get("alt"), image.get("uri", "")):
                image["alt"] = alt


def _theme_defaults(app, config) -> None:
    # pydata-sphinx-theme's templates read it from the page context
    config.html_context.setdefault("default_mode", "auto")
    config.html_static_path.append(str(STATIC))


def _drop_duplicate_inline_scripts(app, env) -> None:
    # Sphinx 7.4 adds a script registered after Builder.init() to the builder with
    # filename None, and again (filename '') when it prepares writing: inline
    # scripts then appear twice. Keep only the registry's copy.
    builder = app.builder
    registered = [attrs for filename, attrs in app.registry.js_files if not filename]
    if not registered or not hasattr(builder, "_js_files"):
        return
    bodies = {attrs.get("body") for attrs in registered}
    builder._js_files[:] = [js for js in builder._js_files
                            if not (js.filename is None and js.attributes.get("body") in bodies)]


def check_vendored(entry: dict) -> None:
    """Raise ``ExtensionError`` unless a vendored file exists with its pinned SHA-256.

    Book: {doc}`../book/how_to_run`
    """
    import hashlib

    from sphinx.errors import ExtensionError

    path = Path(entry["file"])
    if not path.is_file():
        raise ExtensionError(f"vendored {entry['package']} {entry['version']} is missing: {path}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != entry["sha256"]:
        raise ExtensionError(
            f"vendored {entry['package']} {entry['version']} at {path} has SHA-256 {digest}, "
            f"not the pinned {entry['sha256']}: restore it (static/vendor/README.md)"
        )


def _explorer_substitutions(app, config) -> None:
    from collapse_utils.book import explorer

    config.myst_substitutions = {**explorer.substitutions(), **(config.myst_substitutions or {})}


def _write_explorer_data(app, exception) -> None:
    # only for an HTML build that has the page (a book without it pays nothing)
    if exception is not None or app.builder.format != "html" or EXPLORER_DOC not in app.env.all_docs:
        return
    from collapse_utils.book import explorer

    check_vendored(PLOTLY)
    explorer.write_grid(Path(app.outdir) / "_static" / EXPLORER_DATA)


def setup(app):
    """Register the extension with Sphinx.

    Book: {doc}`../book/how_to_run`
    """
    app.connect("config-inited", _theme_defaults)
    app.connect("doctree-resolved", _alt_from_captions)
    app.connect("env-updated", _drop_duplicate_inline_scripts)
    app.connect("config-inited", _explorer_substitutions)
    app.connect("build-finished", _write_explorer_data)
    app.add_css_file("book.css")
    app.add_js_file("book.js", loading_method="defer")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
