"""A page checker the report tests share: the HTML parses with html.parser into properly nested
elements, and every image and video it names exists."""

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
MAGIC = {"image/png": b"\x89PNG\r\n\x1a\n", "image/gif": b"GIF8"}


class PageCheck(HTMLParser):
    """Collects the media a page names and checks that its elements nest and close."""

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.media, self.headings, self.text = [], [], [], [], []
        self._in_heading = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("img", "source", "video") and attrs.get("src"):
            self.media.append((tag, attrs["src"]))
        if tag not in VOID:
            self.stack.append(tag)
        self._in_heading = tag in ("h2", "h3")

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()
        self._in_heading = False

    def handle_data(self, data):
        self.text.append(data)
        if self._in_heading:
            self.headings.append(data)


def check_page(path: Path) -> PageCheck:
    """Parse ``path``; every image/video it names must be a decodable data: URI of its type, or
    a file beside the page."""
    page = PageCheck()
    page.feed(path.read_text())
    page.close()
    assert page.errors == [] and page.stack == [], (page.errors, page.stack)
    for tag, src in page.media:
        if src.startswith("data:"):
            mime, _, payload = src[5:].partition(";base64,")
            data = base64.b64decode(payload, validate=True)
            if mime in MAGIC:
                assert data.startswith(MAGIC[mime]), (tag, mime)
            elif mime == "video/mp4":
                assert data[4:8] == b"ftyp"
            else:
                raise AssertionError(f"unexpected media type {mime}")
        else:
            assert not re.match(r"^[a-z]+://", src), f"{src} points outside the page's folder"
            assert (path.parent / src).is_file(), f"{src} is missing"
    return page
