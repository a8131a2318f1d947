"""WordPress's export (WXR: Tools → Export → All content), read as a stream.

Two passes over the file with lxml's iterparse, each element cleared once read,
so memory stays flat in the number of posts: the first collects the authors
(`wp:author`) and the pictures (attachment items: address, alt text, caption),
which posts point to by id from anywhere in the file; the second yields the
posts. What the first pass keeps is a few short strings per picture.

The parser never fetches anything (no_network) and never expands entities
(resolve_entities=False): an export cannot read local files or grow without end.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from django.utils import timezone
from lxml import etree

from .body import PAYWALL_MARKERS
from .story import ExportError, Person, Skipped, Story, Term, old_path

STATUSES = {"publish": "published", "future": "scheduled", "draft": "draft", "pending": "draft", "private": "draft"}
_PARSER_OPTIONS = {"resolve_entities": False, "no_network": True, "huge_tree": False, "load_dtd": False}


def _kind(tag: str) -> str:
    """A WXR tag as prefix:name whatever the WXR version's namespace (wp 1.0, 1.1, 1.2)."""
    qname = etree.QName(tag)
    ns = qname.namespace or ""
    prefix = next((p for key, p in _NAMESPACES if key in ns), "")
    return f"{prefix}:{qname.localname}" if prefix else qname.localname


_NAMESPACES = (
    ("/content/", "content"), ("/excerpt/", "excerpt"), ("wordpress.org/export", "wp"), ("purl.org/dc", "dc"),
)  # fmt: skip


def _fields(item: etree._Element) -> dict[str, list[etree._Element]]:
    out: dict[str, list[etree._Element]] = {}
    for child in item:
        if isinstance(child.tag, str):
            out.setdefault(_kind(child.tag), []).append(child)
    return out


def _text(fields: dict, name: str) -> str:
    found = fields.get(name)
    return (found[0].text or "").strip() if found else ""


def _meta(fields: dict) -> dict[str, str]:
    meta = {}
    for pm in fields.get("wp:postmeta", []):
        pf = _fields(pm)
        meta[_text(pf, "wp:meta_key")] = _text(pf, "wp:meta_value")
    return meta


def _items(path: Path, tags: tuple[str, ...]) -> Iterator[etree._Element]:
    try:
        for _, element in etree.iterparse(str(path), events=("end",), tag=tags, **_PARSER_OPTIONS):
            yield element
            element.clear(keep_tail=True)
            while element.getprevious() is not None:
                del element.getparent()[0]
    except etree.XMLSyntaxError as e:
        raise ExportError(f"{path.name} is not a readable WordPress export (WXR): {e}") from None
    except OSError as e:
        raise ExportError(f"cannot read {path}: {e.strerror or e}") from None


def _date(fields: dict) -> datetime | None:
    for name, zone in (("wp:post_date_gmt", UTC), ("wp:post_date", timezone.get_current_timezone())):
        value = _text(fields, name)
        if value and not value.startswith("0000"):
            try:
                return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone)
            except ValueError:
                continue
    return None


def read(path: Path) -> Iterator[Story | Skipped]:
    authors: dict[str, Person] = {}
    pictures: dict[str, tuple[str, str, str]] = {}  # attachment id -> (url, alt, caption)
    for element in _items(path, ("{*}author", "item")):
        fields = _fields(element)
        if element.tag == "item":
            if _text(fields, "wp:post_type") == "attachment":
                caption = _text(fields, "excerpt:encoded")
                alt = _meta(fields).get("_wp_attachment_image_alt", "")
                pictures[_text(fields, "wp:post_id")] = (_text(fields, "wp:attachment_url"), alt, caption)
        elif "wp:author_login" in fields:
            login = _text(fields, "wp:author_login")
            authors[login] = Person(
                name=_text(fields, "wp:author_display_name") or login,
                email=_text(fields, "wp:author_email"),
                slug=login,
            )
    for element in _items(path, ("item",)):
        fields = _fields(element)
        if _text(fields, "wp:post_type") != "post":
            continue  # pages, attachments, menus: not stories
        try:
            yield _story(fields, authors, pictures)
        except (ValueError, TypeError, AttributeError) as e:  # one odd post must not end the import
            yield Skipped(_text(fields, "wp:post_id"), f"could not be read: {e}")


def _story(fields: dict, authors: dict[str, Person], pictures: dict) -> Story | Skipped:
    post_id = _text(fields, "wp:post_id")
    wp_status = _text(fields, "wp:status")
    if wp_status in ("trash", "auto-draft", "inherit"):
        return Skipped(post_id, f"its WordPress status is “{wp_status}”")
    story = Story(
        source_id=post_id,
        title=_text(fields, "title"),
        slug=_text(fields, "wp:post_name"),
        html=_text(fields, "content:encoded"),
        standfirst=_text(fields, "excerpt:encoded"),
        publish_at=_date(fields),
        status=STATUSES.get(wp_status, "draft"),
    )
    if wp_status == "private":
        story.notes.append("private in WordPress: imported as a draft")
    login = _text(fields, "dc:creator")
    if login:
        story.authors.append(authors.get(login) or Person(name=login, slug=login))
    for category in fields.get("category", []):
        term = Term(name=(category.text or "").strip(), slug=category.get("nicename", ""))
        if not term.name:
            continue
        if category.get("domain") == "category" and story.section is None:
            story.section = term
        else:  # tags, and a second category: topics
            story.topics.append(term)
    if PAYWALL_MARKERS.search(story.html):
        story.access = "subscribers"  # a paywall plugin's marker: the text after it was for paying readers
    if _text(fields, "wp:post_password"):
        story.access = "subscribers"
        story.notes.append("password-protected in WordPress: imported for subscribers only")
    thumbnail = _meta(fields).get("_thumbnail_id")
    if thumbnail:
        if thumbnail in pictures:
            story.image_url, story.image_alt, story.image_caption = pictures[thumbnail]
        else:
            story.notes.append(f"its main picture (attachment {thumbnail}) is not in the export")
    if story.status != "draft":
        path = old_path(_text(fields, "link"))
        if path and path != "/" and not path.startswith("/?"):
            story.old_paths.append(path)
    return story
