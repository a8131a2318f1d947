"""Turn an editor's Markdown into sanitized HTML, and split it at the paywall.

Editors write Markdown (documented in README.md). It is rendered once, on
save, and cleaned with nh3 (an allow-list HTML sanitizer), so no `<script>`,
event handler or `javascript:` URL written into a body ever reaches a page.

The split is made here too, on save: `teaser_html` holds only the opening
paragraphs. Views that may not show the full text are handed `teaser_html`
and nothing else, so the paid part is never in their context at all.
"""

import math
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import markdown
import nh3
from django.core.files.storage import default_storage
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from . import embeds

PAYWALL_MARKER = "<!-- paywall -->"
_MARKER_LINE = re.compile(r"^\s*\[paywall\]\s*$", re.IGNORECASE | re.MULTILINE)
IMAGE_LINE = re.compile(r"^\s*\[image[ :]?(\d+)\]\s*$", re.IGNORECASE | re.MULTILINE)
_URL_LINE = re.compile(r"^\s*<?(https://\S+?)>?\s*$", re.MULTILINE)
WORDS_PER_MINUTE = 230
INLINE_IMAGE_SIZES = "(min-width: 45rem) 42rem, 100vw"

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


ImageLookup = Callable[[Iterable[int]], Mapping[int, Any]]


# Stories with any picture line: a partial index of them (Article.Meta) keeps the stories
# naming one picture (Article.objects.showing_picture) a lookup, not a read of every body.
ANY_IMAGE = r"\[image"


def naming_image(image_id: int) -> str:
    """A regex, for Python and for the database alike (`body__iregex`), that finds the
    ways an `[image N]` line (IMAGE_LINE) can name picture `image_id`."""
    return rf"\[image[ :]?{int(image_id)}\]"


def image_ids(source: str) -> list[int]:
    """The ids of the `[image N]` lines in a body, in order."""
    return [int(n) for n in IMAGE_LINE.findall(source or "")]


def render_body(source: str, images: ImageLookup | None = None) -> str:
    """Markdown -> clean HTML. A line holding only `[paywall]` marks the break;
    `[image N]` places an uploaded picture (looked up with `images`, e.g.
    `InlineImage.objects.in_bulk`); an allow-listed link alone on a line
    becomes a click-to-load embed (articles/embeds.py).

    Pictures and embeds are swapped in after sanitizing, for a token the
    editor cannot guess (a fresh random one per render), so only markup built
    here from checked values gets past nh3."""
    nonce = secrets.token_hex(8)
    blocks_out: dict[str, str] = {}

    def token(html: str) -> str:
        key = f"EMBED{nonce}N{len(blocks_out)}"
        blocks_out[key] = html
        return f"\n\n{key}\n\n"

    ids = image_ids(source)
    found = images(ids) if images and ids else {}

    def picture(m: re.Match[str]) -> str:
        image = found.get(int(m.group(1)))
        return token(inline_figure(image)) if image is not None else "\n"

    def embed(m: re.Match[str]) -> str:
        html = embeds.placeholder(m.group(1))
        return token(html) if html else m.group(0)

    source = _MARKER_LINE.sub("\n\nPAYWALLBREAKMARKER\n\n", source or "")
    source = IMAGE_LINE.sub(picture, source)
    source = _URL_LINE.sub(embed, source)
    html = markdown.markdown(source, extensions=["extra", "sane_lists"], output_format="html")
    html = sanitize_html(html)
    for key, block in blocks_out.items():
        html = html.replace(f"<p>{key}</p>", block)
    return html.replace("<p>PAYWALLBREAKMARKER</p>", PAYWALL_MARKER)


def srcset(sizes: dict) -> str:
    """`srcset` for renditions {width: storage name} (articles/images.py), narrowest first."""
    ordered = sorted(sizes.items(), key=lambda kv: int(kv[0]))
    return ", ".join(f"{default_storage.url(path)} {width}w" for width, path in ordered)


def picture(renditions: dict, src: str, alt: str, sizes: str, *, eager: bool = False) -> str:
    """<picture> for an image's renditions (articles/images.py): WebP offered first, the
    JPEGs as srcset for `sizes`, `src` for browsers without either; eager for a page's
    main picture (fetchpriority=high), else lazy. Heroes, cards and body images alike."""
    webp, jpeg = srcset(renditions.get("webp") or {}), srcset(renditions.get("sizes") or {})
    return format_html(
        '<picture>{}<img src="{}"{} alt="{}"{}{} decoding="async"></picture>',
        format_html('<source type="image/webp" srcset="{}" sizes="{}">', webp, sizes) if webp else "",
        src,
        format_html(' srcset="{}" sizes="{}"', jpeg, sizes) if jpeg else "",
        alt,
        format_html(' width="{}" height="{}"', renditions["width"], renditions.get("height", ""))
        if renditions.get("width")
        else "",
        mark_safe(' fetchpriority="high"' if eager else ' loading="lazy"'),
    )


def inline_figure(image: Any) -> str:
    """A picture in the body: the picture, its largest JPEG as the fallback, caption and credit."""
    renditions = image.renditions or {}
    sizes = renditions.get("sizes") or {}
    src = default_storage.url(sizes[max(sizes, key=int)]) if sizes else image.image.url
    caption = ""
    if image.caption or image.credit:
        credit = format_html(' <span class="credit">({})</span>', image.credit) if image.credit else ""
        caption = format_html("<figcaption>{}{}</figcaption>", image.caption, credit)
    return format_html(
        '<figure class="inline-image">{}{}</figure>', picture(renditions, src, image.alt, INLINE_IMAGE_SIZES), caption
    )


def word_count(source: str) -> int:
    text = _MARKER_LINE.sub(" ", IMAGE_LINE.sub(" ", source or ""))
    return len(re.findall(r"[\w'’-]+", plain_text(markdown.markdown(text))))


def reading_minutes(words: int) -> int:
    return max(1, math.ceil(words / WORDS_PER_MINUTE)) if words else 0


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


def paid_part(body_html: str, teaser_html: str) -> str:
    """The body after the teaser: the part behind the paywall."""
    if body_html.startswith(teaser_html):
        return body_html[len(teaser_html) :].strip()
    return "\n".join(blocks(body_html)[len(blocks(teaser_html)) :])


def body_sections(free: str, paid: str, *, with_ad: bool) -> list[tuple[str, str]]:
    """The body shown in full as (free, paid) pairs, one pair per section an
    in-story ad separates (`split_for_ad` chooses where, as for any story).

    The paid half of each pair is what a reader without a subscription could
    not normally read; the page wraps it in the element the JSON-LD's
    `hasPart.cssSelector` names (Google allows several such elements)."""
    if not with_ad:
        return [(free, paid)]
    whole = f"{free}\n{paid}" if paid else free
    before, after = split_for_ad(whole)
    if not after:
        return [(free, paid)]
    cut = len(before)
    if cut <= len(free):
        return [(free[:cut].strip(), ""), (free[cut:].strip(), paid)]
    return [(free, whole[len(free) + 1 : cut].strip()), ("", after)]


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
