"""Turn an editor's Markdown into sanitized HTML, and split it at the paywall.

Editors write Markdown (documented in README.md). It is rendered once, on
save, and cleaned with nh3 (an allow-list HTML sanitizer), so no `<script>`,
event handler or `javascript:` URL written into a body ever reaches a page.

The split is made here too, on save: `teaser_html` holds only the opening
paragraphs. Views that may not show the full text are handed `teaser_html`
and nothing else, so the paid part is never in their context at all.
"""

import re

import markdown
import nh3

PAYWALL_MARKER = "<!-- paywall -->"
_MARKER_LINE = re.compile(r"^\s*\[paywall\]\s*$", re.IGNORECASE | re.MULTILINE)

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "strong", "em", "b", "i", "u", "s",
    "a", "ul", "ol", "li", "blockquote", "cite", "figure", "figcaption",
    "code", "pre", "sub", "sup", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"scope"}, "td": {"colspan"}}
# Blocks that count as "a paragraph" for the teaser.
_BLOCK = re.compile(
    r"(<(p|h2|h3|h4|ul|ol|blockquote|figure|pre|table)\b[^>]*>.*?</\2>|<hr\s*/?>)",
    re.DOTALL,
)


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


def render_body(source: str) -> str:
    """Markdown -> clean HTML. A line holding only `[paywall]` marks the break."""
    source = _MARKER_LINE.sub("\n\nPAYWALLBREAKMARKER\n\n", source or "")
    html = markdown.markdown(source, extensions=["extra", "sane_lists"], output_format="html")
    html = sanitize_html(html)
    return html.replace("<p>PAYWALLBREAKMARKER</p>", PAYWALL_MARKER)


def blocks(html: str) -> list[str]:
    return [m.group(0) for m in _BLOCK.finditer(html)]


def split_body(html: str, default_paragraphs: int) -> tuple[str, str]:
    """Return (teaser_html, full_html_without_marker).

    The teaser ends at the editor's `[paywall]` line when there is one, else
    after `default_paragraphs` blocks. It is always shorter than the body
    (at least one block stays behind the paywall when the body has two).
    """
    if PAYWALL_MARKER in html:
        teaser, _, _rest = html.partition(PAYWALL_MARKER)
        return teaser.strip(), html.replace(PAYWALL_MARKER, "").strip()
    parts = blocks(html)
    keep = max(1, min(default_paragraphs, len(parts) - 1))
    return "\n".join(parts[:keep]), html.strip()


def plain_text(html: str) -> str:
    return re.sub(r"\s+", " ", nh3.clean(html, tags=set())).strip()


def split_for_ad(html: str, *, min_before: int = 3, min_after: int = 2) -> tuple[str, str]:
    """Where an in-story ad may go: (before, after), or (html, "") when the story is too short.

    Never above the first paragraphs: at least `min_before` blocks come first
    and `min_after` follow. A break before a subheading (between sections) is
    preferred; otherwise the ad follows the `min_before`-th block.
    """
    matches = list(_BLOCK.finditer(html))
    if len(matches) < min_before + min_after:
        return html, ""
    candidates = range(min_before, len(matches) - min_after + 1)
    at = next((i for i in candidates if matches[i].group(2) in ("h2", "h3")), min_before)
    cut = matches[at - 1].end()
    return html[:cut].strip(), html[cut:].strip()
