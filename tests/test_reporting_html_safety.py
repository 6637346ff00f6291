"""Issue 21, mutation survivors of ``reporting/html_safety``: every rule of the sanitizer and of the CSP
insertion, one expected output per rule written by hand (the module docstring lists the rules). Each test
names the mutation class it guards against."""

from __future__ import annotations

import pytest

from crm_models.reporting.html_safety import CONTENT_SECURITY_POLICY, CSP_META, sanitize_html, with_csp


@pytest.mark.parametrize("tag", ["script", "iframe", "object", "embed", "frame", "frameset", "noscript", "template"])
def test_elements_dropped_with_their_content(tag):
    """Guards against: a name removed from the drop-with-content set, the skip stack not popped."""
    assert sanitize_html(f"a<{tag} x='1'>b<i>c</i></{tag}>d") == "ad"
    assert sanitize_html(f"a<{tag}/>d") == "ad"


def test_nested_dropped_elements_end_at_their_own_end_tag():
    """Guards against: the first end tag ending the skip (``</script>`` inside an ``<iframe>``)."""
    assert sanitize_html("a<iframe>b<script>c</script>d</iframe>e") == "ae"
    assert sanitize_html("a<iframe>b<img src=x>c</iframe>e") == "ae"


@pytest.mark.parametrize("tag", ["base", "form", "link", "applet", "portal"])
def test_elements_dropped_but_their_text_kept(tag):
    assert sanitize_html(f"<{tag} href='x'>text</{tag}>") == "text"
    assert sanitize_html(f"a<{tag} href='x'/>b") == "ab"


def test_meta_refresh_dropped_meta_charset_kept():
    assert sanitize_html('<meta http-equiv="refresh" content="0">') == ""
    assert sanitize_html('<meta charset="utf-8">') == '<meta charset="utf-8">'


def test_event_attributes_dropped_others_kept_and_quoted():
    """Guards against: the ``on`` prefix changed, kept attributes not escaped, the boolean form lost."""
    assert sanitize_html("<img src='a.png' alt='x\"y' onerror=alert(1)>") == '<img src="a.png" alt="x&quot;y">'
    assert sanitize_html("<input disabled onfocus=x>") == "<input disabled>"
    assert sanitize_html("<br onclick=x />") == "<br />"


def test_a_tag_with_nothing_to_remove_is_passed_through_as_written():
    assert sanitize_html("<a  href='x.html'  title=t>k</a>") == "<a  href='x.html'  title=t>k</a>"


@pytest.mark.parametrize("attribute", ["href", "src", "action", "formaction", "xlink:href", "background", "poster",
                                       "srcset", "data", "codebase", "cite", "lowsrc", "ping"])
def test_every_url_attribute_refuses_script_urls(attribute):
    assert sanitize_html(f'<x-el {attribute}="javascript:alert(1)" id="k">') == '<x-el id="k">'
    assert sanitize_html(f'<x-el {attribute}="https://example.org/a">') == f'<x-el {attribute}="https://example.org/a">'


def test_a_non_url_attribute_may_say_javascript():
    assert sanitize_html('<p title="javascript:1">x</p>') == '<p title="javascript:1">x</p>'


@pytest.mark.parametrize("url", ["http://a.org", "HTTPS://a.org", "mailto:a@b.org", "#top", "page.html",
                                 "../index.html", "a/b:c", "?q=a:b", "#x:y", "data:image/png;base64,AA",
                                 "data:image/jpeg;base64,AA", "data:image/gif;base64,AA", "data:image/webp;base64,AA"])
def test_safe_links(url):
    """Guards against: the relative-link test (``:`` before the first ``/``, ``?`` or ``#``) or a safe scheme
    dropped."""
    assert sanitize_html(f'<a href="{url}">k</a>') == f'<a href="{url}">k</a>'


@pytest.mark.parametrize("url", ["javascript:x", "vbscript:x", "data:text/html,<b>", "java\tscript:x",
                                 " javascript:x", "JAVASCRIPT:x", "jav&#x61;script:x", "data:image/svg+xml,<svg>",
                                 "file:///etc/passwd"])
def test_unsafe_links(url):
    """Guards against: control characters or entities hiding the scheme, the SVG exception applied to ``href``."""
    assert sanitize_html(f'<a href="{url}">k</a>') == "<a>k</a>"


def test_svg_images_only_through_src():
    assert sanitize_html('<img src="data:image/svg+xml;base64,AA">') == '<img src="data:image/svg+xml;base64,AA">'
    assert sanitize_html('<img lowsrc="data:image/svg+xml;base64,AA">') == "<img>"


def test_style_expressions_dropped_plain_styles_kept():
    assert sanitize_html('<p style="width: EXPRESSION(alert(1))">x</p>') == "<p>x</p>"
    assert sanitize_html('<p style="color: red">x</p>') == '<p style="color: red">x</p>'


def test_text_markup_characters_escaped_but_style_bodies_kept():
    """Guards against: the escaping of ``<`` / ``>`` in text dropped, or applied to ``<style>``."""
    assert sanitize_html("<p>a > b</p>") == "<p>a &gt; b</p>"
    assert sanitize_html("<style>p > b { color: red }</style>") == "<style>p > b { color: red }</style>"


def test_entities_kept_comments_and_instructions_dropped_doctype_kept():
    assert sanitize_html("&amp; &#169; &#x41;") == "&amp; &#169; &#x41;"
    assert sanitize_html("a<!-- <script>x</script> -->b") == "ab"
    assert sanitize_html("a<?php x ?>b") == "ab"
    assert sanitize_html("<!DOCTYPE html><p>x</p>") == "<!DOCTYPE html><p>x</p>"
    assert sanitize_html("a<![CDATA[x]]>b") == "ab"


def test_not_a_tag_is_shown_as_text():
    """Guards against: the tag-name pattern loosened (``<1x>`` or ``<a_b>``)."""
    assert sanitize_html("<a_b onclick=x>k</a_b>") == "&lt;a_b onclick=x&gt;k"
    assert sanitize_html("x <- 1") == "x &lt;- 1"


def test_csp_meta_right_after_head_once():
    """Guards against: the insertion point, the case-insensitive match, idempotence."""
    assert with_csp("<html><HEAD lang='en'><title>t</title>") == f"<html><HEAD lang='en'>\n{CSP_META}<title>t</title>"
    page = with_csp("<head></head>")
    assert with_csp(page) == page and page.count(CSP_META) == 1
    assert with_csp("<p>no head</p>") == f"{CSP_META}\n<p>no head</p>"
    assert "script-src 'none'" in CONTENT_SECURITY_POLICY and f'content="{CONTENT_SECURITY_POLICY}"' in CSP_META


@pytest.mark.parametrize("url", ["a/b:c/d", "p?q=a:b?x", "a#b:c#d", "a#b:c"])
def test_relative_links_are_cut_at_the_first_separator(url):
    """Guards against: the path, query or fragment separator searched from the right (a ``:`` after the first
    ``/``, ``?`` or ``#`` is not a scheme)."""
    assert sanitize_html(f'<a href="{url}">k</a>') == f'<a href="{url}">k</a>'


def test_control_characters_are_removed_before_the_scheme_is_read():
    """Guards against: control characters replaced by text instead of removed (a tab before ``https:``)."""
    assert sanitize_html('<a href="\thttps://a.org">k</a>') == '<a href="\thttps://a.org">k</a>'


def test_not_a_tag_keeps_its_quotes_as_written():
    assert sanitize_html('<a_b title="x">k') == '&lt;a_b title="x"&gt;k'
