"""What keeps data from running as code in the HTML the workbench writes.

Two layers, because a report travels (file shares, e-mail attachments, viewers that ignore one of them):

* :data:`CONTENT_SECURITY_POLICY`, put in a ``<meta http-equiv="Content-Security-Policy">`` at the top of
  every page (:func:`with_csp`): no scripts at all, no remote sources; images only as ``data:`` URIs,
  styles only inline. The pages need no script, so an injected one is refused by the browser.
* :func:`sanitize_html`: removes what could run from HTML that came out of a notebook or a Markdown
  conversion (``<script>``, ``<iframe>``/``<object>``/``<embed>``, ``<base>``, ``<meta http-equiv>``,
  forms, ``on*`` event attributes, ``javascript:``/``vbscript:`` URLs and non-image ``data:`` URLs),
  and passes the rest through unchanged. It is a safety net under Jinja2's autoescape, not a
  replacement for it: text from data is escaped; only HTML that is meant to be HTML (a Markdown summary,
  a rendered notebook) goes through here.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

__all__ = ["CONTENT_SECURITY_POLICY", "CSP_META", "sanitize_html", "with_csp"]

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "img-src data:; font-src data:; style-src 'unsafe-inline'; connect-src 'none'; frame-src 'none'"
)
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'

_DROP_WITH_CONTENT = frozenset({"script", "iframe", "object", "embed", "frame", "frameset", "noscript", "template"})
_DROP_TAG = frozenset({"base", "form", "link", "applet", "portal"})
_URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "xlink:href", "background", "poster", "srcset",
                             "data", "codebase", "cite", "lowsrc", "ping"})
_SAFE_SCHEMES = ("http:", "https:", "mailto:", "#", "data:image/png", "data:image/jpeg", "data:image/gif",
                 "data:image/webp")
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")


_TAG_NAME = re.compile(r"[a-z][a-z0-9:-]*")


def _safe_url(key: str, value: str) -> bool:
    compact = _CONTROL.sub("", html.unescape(value)).lower()
    if ":" not in compact.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]:
        return True  # a relative link: report.html, ../index.html, #section
    if key == "src" and compact.startswith("data:image/svg+xml"):
        return True  # an SVG shown through <img> cannot run script (matplotlib's SVG charts)
    return compact.startswith(_SAFE_SCHEMES)


class _Sanitizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.skip: list[str] = []  # open elements whose content is dropped

    def _tag(self, tag: str, attrs: list[tuple[str, str | None]], closing: bool) -> str | None:
        if not _TAG_NAME.fullmatch(tag):  # not a real element: show it as text
            self.out.append(html.escape(self.get_starttag_text() or "", quote=False))
            return None
        if tag in _DROP_TAG or (tag == "meta" and any(k == "http-equiv" for k, _ in attrs)):
            return None
        kept = []
        changed = False
        for key, value in attrs:
            unsafe_url = key in _URL_ATTRIBUTES and value is not None and not _safe_url(key, value)
            unsafe_style = key == "style" and value is not None and "expression(" in value.lower()
            if key.startswith("on") or unsafe_url or unsafe_style:
                changed = True
                continue
            kept.append((key, value))
        if not changed:
            return self.get_starttag_text()
        text = "".join(f" {k}" if v is None else f' {k}="{html.escape(v, quote=True)}"' for k, v in kept)
        return f"<{tag}{text}{' /' if closing else ''}>"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skip:
            if tag in _DROP_WITH_CONTENT:
                self.skip.append(tag)
            return
        if tag in _DROP_WITH_CONTENT:
            self.skip.append(tag)
            return
        rendered = self._tag(tag, attrs, closing=False)
        if rendered is not None:
            self.out.append(rendered)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skip or tag in _DROP_WITH_CONTENT:
            return
        rendered = self._tag(tag, attrs, closing=True)
        if rendered is not None:
            self.out.append(rendered)

    def handle_endtag(self, tag: str) -> None:
        if self.skip:
            if tag == self.skip[-1]:
                self.skip.pop()
            return
        if tag in _DROP_TAG or tag in _DROP_WITH_CONTENT or not _TAG_NAME.fullmatch(tag):
            return
        self.out.append(f"</{tag}>")

    def _raw(self, text: str) -> None:
        if not self.skip:
            self.out.append(text)

    def handle_data(self, data: str) -> None:
        if self.cdata_elem is None:  # text, not the body of <style>
            data = data.replace("<", "&lt;").replace(">", "&gt;")
        self._raw(data)

    def handle_entityref(self, name: str) -> None:
        self._raw(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self._raw(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        return  # comments can hide conditional markup for old browsers: drop them

    def handle_decl(self, decl: str) -> None:
        self._raw(f"<!{decl}>")

    def handle_pi(self, data: str) -> None:
        return

    def unknown_decl(self, data: str) -> None:
        return


def sanitize_html(fragment: str) -> str:
    """``fragment`` without anything that could run in a browser (see the module docstring).

    >>> sanitize_html('<p onclick="x()">Arm <b>A</b><script>alert(1)</script></p>')
    '<p>Arm <b>A</b></p>'
    """
    parser = _Sanitizer()
    parser.feed(fragment)
    parser.close()
    return "".join(parser.out)


def with_csp(document: str) -> str:
    """``document`` with the Content-Security-Policy ``<meta>`` right after ``<head>`` (once)."""
    if CSP_META in document:
        return document
    match = re.search(r"<head[^>]*>", document, flags=re.IGNORECASE)
    if match is None:
        return CSP_META + "\n" + document
    return document[: match.end()] + "\n" + CSP_META + document[match.end() :]
