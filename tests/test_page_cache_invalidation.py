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
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Comment, Tag

from .conftest import make_article, make_author, make_category

pytestmark = pytest.mark.django_db


@pytest.fixture
def newsroom(subscriber):
    """Section A with eleven stories an hour apart (A[0] the newest: "More from" shows
    A's four newest; the home page shows the seven newest of all and four more of A's,
    so A[9] and A[10] are not on it), section B with two, a topic on the oldest A story
    and another on a B story, and a subscriber who has read them all once."""
    now = timezone.now()
    a, b = make_category("Section A"), make_category("Section B")
    writer, other_writer = make_author(), make_author()
    stories = {
        "A": [make_article(category=a, authors=[writer], publish_at=now - timedelta(hours=n + 1)) for n in range(11)],
        "B": [make_article(category=b, authors=[other_writer], publish_at=now - timedelta(hours=n + 1))
              for n in range(2)],
    }  # fmt: skip
    topic, other_topic = Tag.objects.create(name="Topic", slug="topic"), Tag.objects.create(name="Other", slug="other")
    stories["A"][-1].tags.add(topic)
    stories["B"][0].tags.add(other_topic)
    reader = Client()
    reader.force_login(subscriber)
    watched = {
        "newest in A": stories["A"][0].get_absolute_url(),
        "oldest in A": stories["A"][-1].get_absolute_url(),
        "a story in B": stories["B"][0].get_absolute_url(),
        "home": "/",
        "section A": a.get_absolute_url(),
        "section B": b.get_absolute_url(),
        "author": writer.get_absolute_url(),
        "B's author": other_writer.get_absolute_url(),
        "topic": reverse("articles:tag", args=[topic.slug]),
        "other topic": reverse("articles:tag", args=[other_topic.slug]),
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


def test_a_drafts_save_retires_nothing(newsroom) -> None:
    stories, reader, watched, section = newsroom
    writers = list(stories["B"][0].authors.all())
    draft = make_article(category=section, authors=writers, status=Article.Status.DRAFT, title="Not yet")
    draft.title = "Still not yet"
    draft.save()
    draft.authors.add(*stories["A"][0].authors.all())
    assert rendered_again(reader, watched) == set()


def test_scheduling_a_story_retires_every_page_and_editing_it_then_nothing(newsroom) -> None:
    """What is kept after a story is scheduled must expire when it goes live by itself
    (no save will say so): pages kept before do not know that time."""
    stories, reader, watched, section = newsroom
    writers = list(stories["B"][0].authors.all())
    scheduled = make_article(category=section, authors=writers, publish_at=timezone.now() + timedelta(days=1))
    assert rendered_again(reader, watched) == set(watched)
    scheduled.title = "Tomorrow's story, corrected"
    scheduled.save()
    assert rendered_again(reader, watched) == set()
    scheduled.publish_at = timezone.now() + timedelta(hours=2)
    scheduled.save()
    assert rendered_again(reader, watched) == set(watched)


def test_an_old_storys_edit_retires_its_own_page_and_the_lists_that_show_it(newsroom) -> None:
    stories, reader, watched, _ = newsroom
    old = stories["A"][-1]  # not on the home page, not in any "More from" cards
    old.title = "An old story, corrected"
    old.save()
    assert rendered_again(reader, watched) == {"oldest in A", "section A", "author", "topic"}
    assert "An old story, corrected" in reader.get(old.get_absolute_url()).content.decode()
    assert "An old story, corrected" in reader.get(watched["section A"]).content.decode()
    assert "An old story, corrected" in reader.get(watched["topic"]).content.decode()


def test_a_storys_edit_retires_the_home_page_while_it_is_there(newsroom) -> None:
    stories, reader, watched, _ = newsroom
    shown = stories["A"][5]  # in section A's rail on the home page, not in "More from"
    shown.title = "A story on the home page, corrected"
    shown.save()
    assert rendered_again(reader, watched) == {"home", "section A", "author"}
    assert "A story on the home page, corrected" in reader.get("/").content.decode()


def test_a_new_byline_or_topic_retires_the_lists_it_joins_and_leaves(newsroom) -> None:
    stories, reader, watched, _ = newsroom
    old = stories["A"][-1]
    b_writer = stories["B"][0].authors.get()
    old.authors.set([b_writer])  # from A's writer to B's
    assert rendered_again(reader, watched) == {"oldest in A", "section A", "author", "B's author", "topic"}
    assert old.title in reader.get(watched["B's author"]).content.decode()
    assert old.title not in reader.get(watched["author"]).content.decode()
    old.tags.clear()
    assert rendered_again(reader, watched) == {"oldest in A", "section A", "B's author", "topic"}
    assert old.title not in reader.get(watched["topic"]).content.decode()


def test_a_recent_storys_edit_retires_the_pages_whose_more_from_cards_show_it(newsroom) -> None:
    stories, reader, watched, _ = newsroom
    recent = stories["A"][3]  # among A's five newest: in the "More from" of every A page
    recent.title = "A recent story, corrected"
    recent.save()
    assert {"newest in A", "oldest in A"} <= rendered_again(reader, watched)
    assert "A recent story, corrected" in reader.get(watched["oldest in A"]).content.decode()


def test_unpublishing_and_publishing_take_effect_at_once(newsroom) -> None:
    stories, reader, watched, section = newsroom
    old = stories["A"][-1]
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
    Comment.objects.create(article=stories["A"][-1], user=subscriber, body="A remark.")
    assert rendered_again(reader, watched) == {"oldest in A"}


def test_deleting_an_account_retires_the_pages_of_the_stories_it_commented_on_only(newsroom) -> None:
    """Its comments pass to "Deleted reader" without a comment's save: their stories' pages
    are retired all the same, and a leaver who never commented retires nothing."""
    from .conftest import make_user

    stories, reader, watched, _ = newsroom
    leaver, quiet_leaver = make_user(), make_user()
    Comment.objects.create(article=stories["B"][0], user=leaver, body="A remark before leaving.")
    assert rendered_again(reader, watched) == {"a story in B"}
    quiet_leaver.delete()
    assert rendered_again(reader, watched) == set()
    leaver.delete()
    assert rendered_again(reader, watched) == {"a story in B"}


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
    moved = stories["A"][-1]
    other = stories["B"][0].category
    moved.category = other
    moved.save()
    assert moved.title not in reader.get(watched["section A"]).content.decode()
    assert moved.title in reader.get(watched["section B"]).content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("page", ["article", "home"])
def test_a_popular_page_just_retired_is_rendered_once_while_the_others_wait_for_it(
    page, subscriber, category, author, monkeypatch
) -> None:
    """No stampede: twelve readers asking at once for a page an edit just retired get
    it from one render; none gets a stale page."""
    import threading
    import time

    from articles import views

    story = make_article(category=category, authors=[author])
    url = story.get_absolute_url() if page == "article" else "/"
    readers = []
    for _ in range(12):
        reader = Client()
        reader.force_login(subscriber)
        readers.append(reader)
    assert readers[0].get(url).status_code == 200  # kept
    story.title = "A headline corrected in a busy hour"
    story.save()  # retires the page

    renders = []
    # What each render of the page calls once: the article's template, the home page's section rails.
    owner, name = (views, "_render_article") if page == "article" else (views.search, "category_rails")
    slow = getattr(owner, name)

    def counted(*args, **kwargs):
        renders.append(1)
        time.sleep(0.3)  # a render long enough for all of them to arrive while it runs
        return slow(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    pages, barrier = [], threading.Barrier(len(readers))

    def read(reader: Client) -> None:
        from django.db import connection

        barrier.wait()
        try:
            pages.append(reader.get(url).content.decode())
        finally:
            connection.close()

    threads = [threading.Thread(target=read, args=(reader,)) for reader in readers]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(pages) == len(readers) and all("A headline corrected in a busy hour" in p for p in pages)
    assert len(renders) == 1


@pytest.mark.django_db(transaction=True)
def test_readers_waiting_for_a_render_that_keeps_nothing_stop_waiting_when_it_ends(settings, monkeypatch) -> None:
    """A section address that does not exist, asked by many at once (a crawler's burst):
    one request renders it, the others wait — but its 404 is never kept, so when that
    render ends they answer at once instead of polling for a page that will not come
    until PAGE_RENDER_WAIT_SECONDS runs out."""
    import threading
    import time

    from articles import views

    settings.PAGE_RENDER_WAIT_SECONDS = 30
    slow = views.CategoryView.get_queryset

    def slowed(self):
        time.sleep(0.3)  # long enough for all of them to arrive while the first renders
        return slow(self)

    monkeypatch.setattr(views.CategoryView, "get_queryset", slowed)
    statuses, barrier = [], threading.Barrier(6)

    def read() -> None:
        from django.db import connection

        barrier.wait()
        try:
            statuses.append(Client().get("/category/no-such-section/").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=read) for _ in range(6)]
    started = time.monotonic()
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert statuses == [404] * 6
    # Six renders of 0.3 s, one after another at worst: far under the 30 s a waiter would poll for.
    assert time.monotonic() - started < settings.PAGE_RENDER_WAIT_SECONDS / 3


def test_a_reader_who_gave_up_waiting_leaves_the_renderers_lock_alone(settings) -> None:
    """A reader who waited PAGE_RENDER_WAIT_SECONDS and renders the page itself did not
    take the lock, so it must not let go of it: the worker still rendering holds it, and
    the readers arriving meanwhile wait for that render instead of rendering too."""
    from django.core.cache import cache

    from articles import page_cache

    settings.PAGE_RENDER_WAIT_SECONDS = 0.1
    name = ("a popular page", (1, 2), "full:2")
    lock = "page-cache:rendering:" + page_cache._digest(name)
    assert cache.add(lock, 1, 30)  # another worker is rendering it, slowly
    assert page_cache._rendered_once(name, lambda: None, lambda: b"rendered here") == b"rendered here"
    assert cache.get(lock) is not None
    # The renderer's own lock is let go when its render ends, kept or failed.
    cache.delete(lock)
    with pytest.raises(RuntimeError):
        page_cache._rendered_once(name, lambda: None, _fails)
    assert cache.get(lock) is None


def _fails() -> bytes:
    raise RuntimeError("the template failed")


def test_renaming_an_account_retires_the_pages_of_the_stories_it_commented_on_only(newsroom) -> None:
    """Staff renaming an offensive name: its comments show the new name at once. A save that
    leaves the name (a log-in's last_login, a password) retires nothing."""
    from .conftest import make_user

    stories, reader, watched, _ = newsroom
    commenter = make_user()
    Comment.objects.create(article=stories["B"][0], user=commenter, body="A remark under an old name.")
    assert rendered_again(reader, watched) == {"a story in B"}
    commenter.last_login = timezone.now()
    commenter.save(update_fields=["last_login"])
    commenter.set_password("another-long-password-1")
    commenter.save()
    assert rendered_again(reader, watched) == set()
    commenter.first_name, commenter.last_name = "Renamed", "Reader"
    commenter.save()
    assert rendered_again(reader, watched) == {"a story in B"}
    assert "Renamed Reader" in reader.get(watched["a story in B"]).content.decode()
