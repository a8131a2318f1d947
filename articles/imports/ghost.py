"""Ghost's export (Settings → Advanced → Import/Export → Export content): one JSON document.

JSON has no streaming reader in the standard library, so the document is read
whole (about three times the file's size in memory: a 100 MB export, ~300 MB);
the stories are then made and written one at a time. The join tables
(posts_tags, posts_authors, posts_meta) are indexed by post first.

A post's body is its `html`, which Ghost renders from `lexical` (or the older
`mobiledoc`) on save; a post without `html` is reported and skipped: export
again from a Ghost that has rendered it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from .story import ExportError, Person, Skipped, Story, Term

STATUSES = {"published": "published", "scheduled": "scheduled", "draft": "draft"}
# Ghost's "members" needs a free account; the closest the site has is metered (a few free a day).
ACCESS = {"public": "free", "members": "metered", "paid": "subscribers", "tiers": "subscribers"}


def load(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            document = json.load(fh)
    except OSError as e:
        raise ExportError(f"cannot read {path}: {e.strerror or e}") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise ExportError(f"{path.name} is not a readable Ghost export (JSON): {e}") from None
    try:
        data = document["db"][0]["data"] if "db" in document else document["data"]
        if not isinstance(data.get("posts"), list):  # the one table an export must have
            raise KeyError("posts")
    except (KeyError, IndexError, TypeError, AttributeError):
        raise ExportError(f"{path.name} is JSON but not a Ghost export: no db[0].data.posts") from None
    return data


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def read(path: Path, *, permalink: str = "/{slug}/") -> Iterator[Story | Skipped]:
    """The posts of a Ghost export. `permalink` is the site's post address (routes.yaml;
    Ghost's default is /{slug}/), with {slug}, {id}, {year}, {month} and {day}."""
    data = load(path)
    users = {u.get("id"): u for u in data.get("users") or []}
    tags = {t.get("id"): t for t in data.get("tags") or []}
    meta = {m.get("post_id"): m for m in data.get("posts_meta") or []}
    post_tags: dict[str, list] = defaultdict(list)
    for row in sorted(data.get("posts_tags") or [], key=lambda r: r.get("sort_order") or 0):
        post_tags[row.get("post_id")].append(row.get("tag_id"))
    post_authors: dict[str, list] = defaultdict(list)
    for row in sorted(data.get("posts_authors") or [], key=lambda r: r.get("sort_order") or 0):
        post_authors[row.get("post_id")].append(row.get("author_id"))
    for post in data["posts"]:
        if not isinstance(post, dict) or post.get("type", "post") != "post":
            continue  # pages are not stories
        try:
            story = _story(post, users, tags, meta.get(post.get("id")) or {}, post_tags, post_authors)
        except (ValueError, TypeError, AttributeError) as e:  # one odd post must not end the import
            yield Skipped(str(post.get("id")), f"could not be read: {e}")
            continue
        if isinstance(story, Story) and story.status != "draft" and story.slug:
            when = story.publish_at or datetime.now().astimezone()
            story.old_paths.append(
                permalink.format(slug=story.slug, id=story.source_id, year=f"{when:%Y}", month=f"{when:%m}",
                                 day=f"{when:%d}")
            )  # fmt: skip
        yield story


def _story(post: dict, users: dict, tags: dict, meta: dict, post_tags: dict, post_authors: dict) -> Story | Skipped:
    post_id = str(post.get("id") or "")
    if not post.get("html"):
        kind = "lexical" if post.get("lexical") else "mobiledoc" if post.get("mobiledoc") else "no body"
        if kind == "no body":
            return Skipped(post_id, "it has no body")
        return Skipped(post_id, f"it has no HTML, only {kind}: open and save it in Ghost, then export again")
    status = post.get("status") or "draft"
    story = Story(
        source_id=post_id,
        title=(post.get("title") or "").strip(),
        slug=post.get("slug") or "",
        html=post["html"],
        standfirst=(post.get("custom_excerpt") or "").strip(),
        publish_at=_date(post.get("published_at")) or _date(post.get("created_at")),
        status=STATUSES.get(status, "draft"),
        access=ACCESS.get(post.get("visibility") or "public", "subscribers"),
        image_url=post.get("feature_image") or "",
        image_alt=meta.get("feature_image_alt") or post.get("feature_image_alt") or "",
        image_caption=meta.get("feature_image_caption") or post.get("feature_image_caption") or "",
    )
    if status == "sent":
        story.notes.append("sent as email only in Ghost (never on the web): imported as a draft")
    if post.get("visibility") == "tiers":
        story.notes.append("for some paid tiers in Ghost: imported for subscribers only")
    author_ids = post_authors.get(post.get("id")) or [post.get("author_id")]
    for user in (users.get(a) for a in author_ids):
        if user:
            story.authors.append(Person(name=user.get("name") or "", email=user.get("email") or "",
                                        slug=user.get("slug") or ""))  # fmt: skip
    # Ghost's "#internal" tags organise the admin; readers never see them.
    public = [
        t for t in (tags.get(i) for i in post_tags.get(post.get("id"), [])) if t and t.get("visibility") != "internal"
    ]
    terms = [Term(name=t.get("name") or "", slug=t.get("slug") or "") for t in public if t.get("name")]
    if terms:
        story.section, story.topics = terms[0], terms[1:]  # the primary tag is the first
    return story
