"""Saving retires exactly the kept pages that showed what changed (articles/receivers.py,
page_cache.forget_story). Each rule is shown both ways: what showed the change is
read again at once, and what did not stays kept — so the test fails if a rule is
narrowed (a stale page) or widened (pages thrown away for nothing)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Article, Comment

from .conftest import make_article, make_author, make_category

pytestmark = pytest.mark.django_db


@pytest.fixture
def newsroom(subscriber):
    """Section A with seven stories an hour apart (A[0] the newest: "More from" shows
    A's four newest), section B with two, and a subscriber who has read them all once."""
    now = timezone.now()
    a, b = make_category("Section A"), make_category("Section B")
    writer = make_author()
    stories = {
        "A": [make_article(category=a, authors=[writer], publish_at=now - timedelta(hours=n + 1)) for n in range(7)],
        "B": [make_article(category=b, authors=[make_author()], publish_at=now - timedelta(hours=n + 1))
              for n in range(2)],
    }  # fmt: skip
    reader = Client()
    reader.force_login(subscriber)
    watched = {
        "newest in A": stories["A"][0].get_absolute_url(),
        "oldest in A": stories["A"][6].get_absolute_url(),
        "a story in B": stories["B"][0].get_absolute_url(),
        "home": "/",
        "section A": a.get_absolute_url(),
        "section B": b.get_absolute_url(),
        "author": writer.get_absolute_url(),
    }
    for url in watched.values():
        assert reader.get(url).status_code == 200  # rendered and kept
    assert not rendered_again(reader, watched)
    return stories, reader, watched, a


def rendered_again(reader: Client, watched: dict[str, str]) -> set[str]:
    """Which watched pages were rendered (asked the database for stories) rather than kept."""
    again = set()
    for name, url in watched.items():
        with CaptureQueriesContext(connection) as queries:
            assert reader.get(url).status_code == 200
        if any('"articles_article"' in q["sql"] for q in queries.captured_queries):
            again.add(name)
    return again


LISTS = {"home", "section A", "section B", "author"}


def test_a_drafts_save_retires_nothing(newsroom) -> None:
    stories, reader, watched, section = newsroom
    writers = list(stories["B"][0].authors.all())
    draft = make_article(category=section, authors=writers, status=Article.Status.DRAFT, title="Not yet")
    draft.title = "Still not yet"
    draft.save()
    draft.authors.add(*stories["A"][0].authors.all())
    scheduled = make_article(category=section, authors=writers, publish_at=timezone.now() + timedelta(days=1))
    scheduled.title = "Tomorrow's story, corrected"
    scheduled.save()
    assert rendered_again(reader, watched) == set()


def test_an_old_storys_edit_retires_its_own_page_and_the_lists_only(newsroom) -> None:
    stories, reader, watched, _ = newsroom
    old = stories["A"][6]
    old.title = "An old story, corrected"
    old.save()
    assert rendered_again(reader, watched) == {"oldest in A"} | LISTS
    assert "An old story, corrected" in reader.get(old.get_absolute_url()).content.decode()
    assert "An old story, corrected" in reader.get(watched["section A"]).content.decode()


def test_a_recent_storys_edit_retires_the_pages_whose_more_from_cards_show_it(newsroom) -> None:
    stories, reader, watched, _ = newsroom
    recent = stories["A"][3]  # among A's five newest: in the "More from" of every A page
    recent.title = "A recent story, corrected"
    recent.save()
    assert {"newest in A", "oldest in A"} <= rendered_again(reader, watched)
    assert "A recent story, corrected" in reader.get(watched["oldest in A"]).content.decode()


def test_unpublishing_and_publishing_take_effect_at_once(newsroom) -> None:
    stories, reader, watched, section = newsroom
    old = stories["A"][6]
    old.status = Article.Status.DRAFT
    old.save()
    assert reader.get(watched["oldest in A"]).status_code == 404
    assert old.title not in reader.get(watched["section A"]).content.decode()
    make_article(category=section, authors=list(old.authors.all()), title="Just published")
    for name in ("home", "section A", "newest in A", "a story in B"):  # lists, and A's "More from" cards
        page = reader.get(watched[name]).content.decode()
        assert ("Just published" in page) == (name != "a story in B"), name


def test_a_comment_retires_its_own_storys_pages_only(newsroom, subscriber) -> None:
    stories, reader, watched, _ = newsroom
    Comment.objects.create(article=stories["A"][6], user=subscriber, body="A remark.")
    assert rendered_again(reader, watched) == {"oldest in A"}


def test_a_section_author_or_plan_save_retires_every_page(newsroom) -> None:
    stories, reader, watched, section = newsroom
    section.name = "Section A, renamed"
    section.save()
    assert rendered_again(reader, watched) == set(watched)
    assert "Section A, renamed" in reader.get(watched["a story in B"]).content.decode()  # the section menu
    writer = stories["B"][0].authors.get()
    writer.name = "A renamed writer"
    writer.save()
    assert rendered_again(reader, watched) == set(watched)


def test_a_story_moved_to_another_section_leaves_and_joins_both_sections_lists(newsroom) -> None:
    stories, reader, watched, _ = newsroom
    moved = stories["A"][6]
    other = stories["B"][0].category
    moved.category = other
    moved.save()
    assert moved.title not in reader.get(watched["section A"]).content.decode()
    assert moved.title in reader.get(watched["section B"]).content.decode()
