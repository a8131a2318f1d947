"""An imported story's HTML, made into a body the site renders exactly as it was.

Article.body is Markdown, rendered on save by rendering.render_body: Markdown,
then the nh3 sanitizer (rendering.sanitize_html), then the paywall split. Raw
HTML blocks pass through Markdown untouched when each starts a line and stands
apart from the next by a blank line, so an imported story is stored as:

- its HTML, first cleaned by the same sanitizer (script, event handlers,
  `javascript:` links, pictures and anything off the allow-list are gone before
  anything is stored; the site's own render cleans it once more on save),
- cut into top-level blocks (`<p>`, `<h2>`, `<ul>`, `<blockquote>`, …), one per
  line, a blank line between them, with text outside any block wrapped in `<p>`
  the way WordPress's own `wpautop` does it (blank line: new paragraph; line
  break: `<br>`),
- the old system's paywall marker as the site's own `[paywall]` line,
- a block holding only an allow-listed embed link (YouTube, Vimeo, …; a
  YouTube `<iframe>` becomes one) as that link alone on a line: the site's
  click-to-load embed.

Inside a block nothing is Markdown, so `*`, `_` or `#` in the text stay as
written; lines inside `<pre>` that the renderer would read as its own
(`[paywall]`, `[image 12]`, a lone https link) have their first character
written as an entity, which shows the same. Editors can keep editing the body
in the admin: it is HTML in Markdown, which Markdown allows.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

from articles import embeds, rendering

# Where the free teaser ends in the systems we import from. Each becomes our `[paywall]` line.
# `<!--more-->` (WordPress's "read more" cut) is NOT a paywall: it only shortens the home page.
PAYWALL_MARKERS = re.compile(
    r"<!--\s*(?:paywall|members-only|wp:jetpack/paywall\b[^>]*|memberful[_-]?paywall|leaky[_-]?paywall)\s*/?\s*-->"
    r"|<div\b[^>]*\bclass=\"[^\"]*\bpaywall-jump\b[^\"]*\"[^>]*>\s*</div>",  # Substack's
    re.IGNORECASE,
)
BLOCK_TAGS = {"p", "h2", "h3", "h4", "ul", "ol", "blockquote", "figure", "pre", "table", "hr"}
# Containers whose content is kept and whose own tag is not (the sanitizer would drop the tag anyway,
# but gluing the text of two <div>s together); a container holding only text becomes a paragraph.
_CONTAINERS = {"div", "section", "article", "header", "footer", "aside", "main", "center", "details", "summary"}
_RENAMES = {"h1": "h2", "h5": "h4", "h6": "h4", "dl": "ul", "dt": "li", "dd": "li"}
_YOUTUBE_FRAME = re.compile(r"^https://(?:www\.)?youtube(?:-nocookie)?\.com/embed/([\w-]{6,20})", re.IGNORECASE)
_RENDERER_LINE = re.compile(r"^(\s*)([\[<h])", re.MULTILINE)
_RENDERER_LINES = (rendering.IMAGE_LINE, re.compile(r"^\s*\[paywall\]\s*$", re.I | re.M), rendering._URL_LINE)


@dataclass
class Body:
    markdown: str  # what goes in Article.body
    has_paywall: bool = False
    first_paragraph: str = ""  # plain text, for a summary when the export has none
    dropped_pictures: list[str] = field(default_factory=list)  # <img> sources the sanitizer removes


def convert(html: str) -> Body:
    """Imported HTML -> the body to store (see the module docstring)."""
    sentinel = f"IMPORTPAYWALL{secrets.token_hex(6)}"
    html = PAYWALL_MARKERS.sub("", PAYWALL_MARKERS.sub(f"<p>{sentinel}</p>", html or "", count=1))
    if not html.strip():
        return Body("")
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    dropped = _prepare(root)
    clean = rendering.sanitize_html(_inner(root))
    root = lxml.html.fragment_fromstring(clean or "<p></p>", create_parent="div")
    out: list[str] = []
    first = ""
    for kind, text in _blocks(root):
        if text == f"<p>{sentinel}</p>":
            out.append("[paywall]")
            continue
        if kind == "p" and not first:
            first = rendering.plain_text(text)
        out.append(text)
    # A marker at the very top or bottom cuts nothing: the default teaser applies.
    has_paywall = "[paywall]" in out[1:-1]
    if not has_paywall and "[paywall]" in out:
        out.remove("[paywall]")
    return Body("\n\n".join(out), has_paywall=has_paywall, first_paragraph=first, dropped_pictures=dropped)


def _prepare(root: lxml.html.HtmlElement) -> list[str]:
    """Reshape before sanitizing: headings to the levels the site has, containers
    unwrapped, embeds as links. Returns the pictures the sanitizer would drop."""
    dropped: list[str] = []
    for el in list(root.iter())[1:]:  # not the wrapper itself
        if not isinstance(el.tag, str):  # comments and processing instructions: the sanitizer drops them
            continue
        tag = el.tag.lower()
        if tag in _RENAMES:
            el.tag = _RENAMES[tag]
        elif tag == "img":
            dropped.append(el.get("src") or "")
        elif tag == "iframe":
            src = (el.get("src") or "").strip()
            youtube = _YOUTUBE_FRAME.match(src)
            if youtube:
                src = f"https://www.youtube.com/watch?v={youtube.group(1)}"
            replacement = lxml.html.Element("p")
            if src.startswith("https://") and embeds.match(src):
                replacement.text = src
            elif src.startswith(("https://", "http://")):
                link = etree.SubElement(replacement, "a", href=src)
                link.text = src
            replacement.tail = el.tail
            el.getparent().replace(el, replacement)
        elif tag in _CONTAINERS:
            if any(isinstance(c.tag, str) and c.tag.lower() in BLOCK_TAGS | _CONTAINERS for c in el):
                el.drop_tag()
            else:
                el.tag = "p"
    return dropped


def _inner(root: lxml.html.HtmlElement) -> str:
    return (root.text or "") + "".join(lxml.html.tostring(c, encoding="unicode") for c in root)


def _blocks(root: lxml.html.HtmlElement):
    """(kind, one line of HTML) for each top-level block; loose text and inline
    elements between blocks become paragraphs, split on blank lines."""
    run: list[str] = [root.text or ""]
    for child in root:
        tag = child.tag.lower() if isinstance(child.tag, str) else ""
        if tag in BLOCK_TAGS:
            yield from _paragraphs("".join(run))
            run = [child.tail or ""]
            yield tag, _one_block(child, tag)
        else:
            run.append(lxml.html.tostring(child, encoding="unicode"))
    yield from _paragraphs("".join(run))


def _paragraphs(html: str):
    for part in re.split(r"\n\s*\n", html):
        part = part.strip()
        if part and rendering.plain_text(part):
            yield "p", _embed_or("<p>" + re.sub(r"\s*\n\s*", "<br>", part) + "</p>")


def _one_block(el: lxml.html.HtmlElement, tag: str) -> str:
    html = lxml.html.tostring(el, encoding="unicode", with_tail=False).strip()
    if tag == "pre":
        # Keep the lines; only those the renderer would take for its own get their first character as an entity.
        return "\n".join(_escape_renderer_line(line) for line in html.split("\n"))
    return _embed_or(re.sub(r"\s*\n\s*", " ", html))


def _escape_renderer_line(line: str) -> str:
    if any(p.match(line) for p in _RENDERER_LINES):
        return _RENDERER_LINE.sub(lambda m: f"{m.group(1)}&#{ord(m.group(2))};", line, count=1)
    return line


def _embed_or(block: str) -> str:
    """A paragraph or figure holding nothing but an allow-listed embed link: that link alone, the site's embed."""
    if "https://" not in block:
        return block
    text = rendering.plain_text(block)
    if text.startswith("https://") and " " not in text and embeds.match(text):
        return text
    return block
