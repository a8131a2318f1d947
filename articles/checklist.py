"""The pre-publication checklist an editor sees in the article form.

One list, used twice: live beside the story while it is written (the admin's
preview endpoint) and on save. Items are "ok", "warn" (saved anyway, with a
message) or "refuse" (the form will not save: a picture without alt text, a
picture line pointing at no picture).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import rendering

HEADLINE_MAX = 90  # search results and social cards cut longer ones
HEADLINE_MIN = 15


@dataclass(frozen=True)
class Item:
    level: str  # "ok", "warn" or "refuse"
    text: str


@dataclass(frozen=True)
class Draft:
    """What the checklist looks at, from a form in progress or a saved article."""

    title: str = ""
    standfirst: str = ""
    body: str = ""
    has_hero: bool = False
    hero_alt: str = ""
    has_section: bool = False
    n_authors: int = 0


def missing_images(body: str) -> list[int]:
    from .models import InlineImage

    ids = rendering.image_ids(body)
    found = InlineImage.objects.in_bulk(ids) if ids else {}
    return [n for n in ids if n not in found or not found[n].alt.strip()]


def check(draft: Draft) -> list[Item]:
    items: list[Item] = []
    n = len(draft.title.strip())
    if not n:
        items.append(Item("warn", "Write a headline."))
    elif n > HEADLINE_MAX:
        items.append(
            Item("warn", f"Headline is {n} characters: search results and previews cut it after about {HEADLINE_MAX}.")
        )
    elif n < HEADLINE_MIN:
        items.append(Item("warn", f"Headline is only {n} characters: say what happened."))
    else:
        items.append(Item("ok", f"Headline length is fine ({n} characters)."))
    if draft.standfirst.strip():
        items.append(Item("ok", "Summary written."))
    else:
        items.append(Item("warn", "Write a summary: it shows on cards and in link previews."))
    if not draft.has_hero:
        items.append(Item("warn", "No main picture: the story shows without one on cards and in link previews."))
    elif not draft.hero_alt.strip():
        items.append(Item("refuse", "The main picture needs alt text (describe it for readers who cannot see it)."))
    else:
        items.append(Item("ok", "Main picture has alt text."))
    items.append(Item("ok", "Section chosen.") if draft.has_section else Item("warn", "Choose a section."))
    items.append(Item("ok", "Byline set.") if draft.n_authors else Item("warn", "Add at least one name to the byline."))
    missing = missing_images(draft.body)
    if missing:
        items.append(Item("refuse", "No picture with alt text for " + ", ".join(f"[image {n}]" for n in missing) + "."))
    elif rendering.image_ids(draft.body):
        items.append(Item("ok", "Every picture in the story has alt text."))
    if "![" in draft.body:
        items.append(Item("warn", "Pictures pasted as Markdown (![…](…)) are removed: use “Add picture”."))
    words = rendering.word_count(draft.body)
    items.append(Item("ok" if words else "warn", f"{words} words · {rendering.reading_minutes(words)} min read."))
    return items


def refusals(items: list[Item]) -> list[str]:
    return [i.text for i in items if i.level == "refuse"]


def warnings(items: list[Item]) -> list[str]:
    return [i.text for i in items if i.level == "warn"]
