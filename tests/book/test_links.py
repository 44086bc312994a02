"""Every internal link and anchor of the built book resolves (smoke build)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest

pytestmark = pytest.mark.build


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        for key in ("href", "src"):
            if key in attrs and attrs[key] is not None and (tag != "link" or key == "href"):
                self.links.append(attrs[key])


def _parse(path: Path) -> _Collector:
    collector = _Collector()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector


def test_internal_links_and_anchors_resolve(smoke_build):
    html = smoke_build / "html"
    pages = sorted(p for p in html.rglob("*.html") if "_static" not in p.parts)
    assert len(pages) >= 6
    parsed = {p: _parse(p) for p in pages}
    broken = []
    for page, collector in parsed.items():
        for link in collector.links:
            url = urlparse(link)
            if url.scheme or link.startswith(("//", "mailto:", "javascript:")):
                continue  # external: not checked offline
            target, fragment = urldefrag(link)
            target = urlparse(target).path  # drop "?v=..." cache busters
            path = (page.parent / unquote(target)).resolve() if target else page
            if path.is_dir():
                path = path / "index.html"
            if not path.exists():
                broken.append(f"{page.relative_to(html)}: {link} (no file)")
                continue
            if fragment and path.suffix == ".html":
                ids = parsed[path].ids if path in parsed else _parse(path).ids
                if unquote(fragment) not in ids:
                    broken.append(f"{page.relative_to(html)}: {link} (no anchor)")
    assert not broken, "\n".join(broken[:50])
