"""The rendered-page cache for anonymous readers (articles/page_cache.py).

It may only ever hand a page to a reader whose own meter decision produced the
same page: full text to a reader with a credit, the teaser to a reader over the
limit, nothing to logged-in readers. And it must not serve stale text.
"""

import re
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Article, Comment
from subscriptions import counters

from .conftest import MARKER, TEST_REDIS_URL, make_article, make_user, meter_reads

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=["local cache", "one Redis"])
def cache_store(request, settings):
    """Every test here twice: with a process-local cache (the meter in the
    database), and as in production, with the meter and the cache in one Redis —
    where an anonymous reader's page comes from one call (page_cache.anonymous_page)."""
    if request.param == "local cache":
        yield request.param
        return
    prefix = f"test-{uuid.uuid4().hex}"
    settings.REDIS_URL = settings.METER_REDIS_URL = TEST_REDIS_URL
    settings.METER_STORE = "redis"
    settings.REDIS_KEY_PREFIX = prefix
    backend = "newsroom.cache.RedisCache"  # as in production
    settings.CACHES = {"default": {"BACKEND": backend, "LOCATION": TEST_REDIS_URL, "KEY_PREFIX": prefix}}
    yield request.param
    client = counters.client()
    if keys := list(client.scan_iter(f"{prefix}:*")):
        client.delete(*keys)


def html(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    # Only a free article may sit in a shared cache too (newsroom/shared_cache.py).
    shared = "X-Robots-Tag" not in response  # only non-free articles carry noarchive
    assert ("public" if shared else "private") in response["Cache-Control"]
    return response.content.decode()


@pytest.fixture
def stories(category, author) -> list[Article]:
    return [make_article(category=category, authors=[author]) for _ in range(5)]


def over_the_limit(stories: list[Article]) -> Client:
    reader = Client()
    for story in stories[1:4]:  # FREE_ARTICLES_PER_DAY = 3
        assert MARKER in html(reader, story.get_absolute_url())
    return reader


def test_a_cached_full_page_never_reaches_a_reader_over_the_limit(stories) -> None:
    url = stories[0].get_absolute_url()
    page = html(Client(), url)  # a fresh reader: full page, now cached
    assert MARKER in page
    assert "csrfmiddlewaretoken" not in page  # nothing secret to one reader may be in a shared page
    assert MARKER in html(Client(), url)  # served again to the next fresh reader
    page = html(over_the_limit(stories), url)
    assert MARKER not in page
    assert 'class="paywall"' in page


def test_a_cached_teaser_page_never_shortchanges_a_reader_with_credits(stories) -> None:
    url = stories[0].get_absolute_url()
    assert MARKER not in html(over_the_limit(stories), url)
    page = html(Client(), url)
    assert MARKER in page
    assert "2 free articles left today" in page


def test_the_credits_note_is_each_readers_own(stories) -> None:
    url = stories[0].get_absolute_url()
    assert "2 free articles left today" in html(Client(), url)
    second = Client()
    html(second, stories[1].get_absolute_url())
    assert "1 free article left today" in html(second, url)


def test_a_cache_hit_still_spends_the_credit(stories) -> None:
    url = stories[0].get_absolute_url()
    html(Client(), url)
    reader = Client()
    for story in stories[:3]:
        html(reader, story.get_absolute_url())
    assert MARKER not in html(reader, stories[3].get_absolute_url())


def test_logged_in_readers_never_get_the_anonymous_page(stories, subscriber, free_reader) -> None:
    url = stories[0].get_absolute_url()
    assert "ad-slot" in html(Client(), url)
    member = Client()
    member.force_login(subscriber)
    page = html(member, url)
    assert MARKER in page and "ad-slot" not in page and "Log out" in page
    reader = Client()
    reader.force_login(free_reader)
    assert "Log out" in html(reader, url)


def test_an_edit_shows_at_once(stories, author) -> None:
    story = stories[0]
    html(Client(), story.get_absolute_url())
    story.title = "A corrected headline"
    story.save()
    assert "A corrected headline" in html(Client(), story.get_absolute_url())
    # Another story's edit shows in the "More from" cards at once, too.
    stories[1].title = "Renamed neighbour"
    stories[1].save()
    assert "Renamed neighbour" in html(Client(), story.get_absolute_url())


def test_subscribers_get_the_more_from_cards_from_the_cache_and_see_edits_at_once(stories, subscriber) -> None:
    """The "More from" cards come with the shared page, and an edit shows at once."""
    member = Client()
    member.force_login(subscriber)
    url = stories[0].get_absolute_url()
    assert stories[1].title in html(member, url)

    def related_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            html(member, url)
        return len([q for q in ctx.captured_queries if "ORDER BY" in q["sql"] and "LIMIT 4" in q["sql"]])

    assert related_queries() == 0
    stories[1].title = "Renamed for subscribers too"
    stories[1].save()
    assert "Renamed for subscribers too" in html(member, url)


def test_the_comment_count_is_current(stories) -> None:
    story = stories[0]
    assert "No comments yet." in html(Client(), story.get_absolute_url())
    Comment.objects.create(article=story, user=make_user(), body="First!")
    assert "Subscribers are talking about this story." in html(Client(), story.get_absolute_url())


def test_a_comment_leaves_other_articles_cached(stories) -> None:
    """Comments retire only their own article's cached row and pages: a busy
    comment thread must not empty the whole site's cache."""
    url = stories[1].get_absolute_url()
    html(Client(), url)
    Comment.objects.create(article=stories[0], user=make_user(), body="Only about story 0")
    with CaptureQueriesContext(connection) as ctx:
        html(Client(), url)
    # The meter's statements only (it counts in the database here, in Redis in production).
    assert not [
        q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"] and "subscriptions_meter" not in q["sql"]
    ]
    assert "Subscribers are talking about this story." in html(Client(), stories[0].get_absolute_url())


def test_the_login_link_returns_to_the_article(stories) -> None:
    url = stories[0].get_absolute_url()
    page = html(Client(), url + "?utm_source=newsletter")
    assert f'?next={url}"' in page


@pytest.mark.parametrize("both_meter_stores", ["redis"], indirect=True)
def test_a_hit_costs_fewer_queries_than_a_render(stories, both_meter_stores) -> None:
    url = stories[0].get_absolute_url()

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            html(Client(), url)
        return len([q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]])

    rendered, cached = queries(), queries()
    assert cached < rendered
    assert cached == 0  # the article row and the page come from the cache, the meter counts in Redis


def test_it_can_be_turned_off(stories, settings) -> None:
    settings.PAGE_CACHE_SECONDS = 0
    url = stories[0].get_absolute_url()
    html(Client(), url)
    stories[0].title = "Changed behind the cache's back"
    Article.objects.filter(pk=stories[0].pk).update(title="Changed behind the cache's back")
    assert "Changed behind the cache" in html(Client(), url)


def test_no_page_outlives_the_next_scheduled_publication(stories, category, author) -> None:
    """A scheduled story going live saves nothing; the cached pages of its
    section must not keep it out of their "More from" cards."""
    import time
    from datetime import timedelta

    from django.utils import timezone

    due = make_article(
        category=category, authors=[author], title="Goes live in a moment",
        status=Article.Status.SCHEDULED, publish_at=timezone.now() + timedelta(seconds=2),
    )  # fmt: skip
    url = stories[0].get_absolute_url()
    assert "Goes live in a moment" not in html(Client(), url)
    assert "Goes live in a moment" not in html(Client(), url)  # from the cache
    time.sleep(max(0.0, (due.publish_at - timezone.now()).total_seconds()) + 1.1)
    assert "Goes live in a moment" in html(Client(), url)


def test_losing_the_generation_key_never_revives_old_pages(stories) -> None:
    """If Redis loses the generation (restart, eviction), entries stored before
    must not count again: a missing generation is replaced by a new one, never
    read as some default that old entries could carry."""
    from django.core.cache import cache

    from articles import page_cache

    story = stories[0]
    cache.delete(page_cache.GENERATION_KEY)  # e.g. Redis restarted empty
    html(Client(), story.get_absolute_url())  # cached: the row and the page
    Article.objects.filter(pk=story.pk).update(title="Changed before the key was lost again")
    page_cache.invalidate()
    cache.delete(page_cache.GENERATION_KEY)  # evicted before anyone read the page again
    assert "Changed before the key was lost again" in html(Client(), story.get_absolute_url())


def test_moving_an_article_back_to_draft_in_the_admin_takes_it_down_at_once(stories, editor) -> None:
    story = stories[0]
    assert MARKER in html(Client(), story.get_absolute_url())
    admin = Client()
    admin.force_login(editor)
    response = admin.post(
        "/admin/articles/article/", {"action": "make_draft", "_selected_action": [story.pk]}, follow=True
    )
    assert response.status_code == 200
    assert Client().get(story.get_absolute_url()).status_code == 404


def test_hiding_a_comment_in_the_admin_updates_the_count_at_once(stories, editor) -> None:
    story = stories[0]
    comment = Comment.objects.create(article=story, user=make_user(), body="Off topic")
    assert "Subscribers are talking about this story." in html(Client(), story.get_absolute_url())
    admin = Client()
    admin.force_login(editor)
    admin.post("/admin/articles/comment/", {"action": "hide", "_selected_action": [comment.pk]})
    assert "No comments yet." in html(Client(), story.get_absolute_url())


@pytest.mark.django_db(transaction=True)
def test_a_page_read_while_an_edit_is_uncommitted_is_not_kept_after_it(category, author) -> None:
    """The edit bumps the generation when it saves, but other readers see the old
    row until it commits; what they cache in between must not outlive the commit."""
    import threading

    from django.db import connections, transaction

    story = make_article(category=category, authors=[author], access=Article.Access.FREE)
    url = story.get_absolute_url()
    html(Client(), url)
    seen: list[str] = []

    def another_reader() -> None:
        try:
            seen.append(html(Client(), url))
        finally:
            connections.close_all()

    with transaction.atomic():
        story.title = "Edited inside a transaction"
        story.save()
        reader = threading.Thread(target=another_reader)
        reader.start()
        reader.join(timeout=30)
        assert seen and "Edited inside a transaction" not in seen[0]  # the old row, not yet committed
    assert "Edited inside a transaction" in html(Client(), url)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("change", ["a plan's price", "a section's name"])
def test_what_every_render_reads_while_its_change_is_uncommitted_is_not_kept_after_it(
    settings, category, author, change
) -> None:
    """The paywall's plan and the sections' menu are kept for every render. A worker that
    renders while a price change or a section's rename is uncommitted reads the old row:
    what it keeps must not outlive the commit, or every page rendered after it shows the
    old price or name for as long as that is kept."""
    import threading

    from django.db import connections, transaction

    from subscriptions.models import Plan

    settings.STRIPE_SECRET_KEY = "sk_test_payments_open"  # the paywall shows the plan's price
    Plan.objects.update(is_default=False)
    plan = Plan.objects.create(code="weekly-now", name="Weekly", amount_cents=50, is_default=True)
    first, during, after = (make_article(category=category, authors=[author], access=Article.Access.SUBSCRIBERS)
                            for _ in range(3))  # fmt: skip
    assert "$0.50/week" in html(Client(), first.get_absolute_url())  # the plan and the menu, kept
    seen: list[str] = []

    def another_reader() -> None:
        try:
            seen.append(html(Client(), during.get_absolute_url()))
        finally:
            connections.close_all()

    with transaction.atomic():
        if change == "a plan's price":
            plan.amount_cents = 75
            plan.save()
        else:
            category.name = "Renamed section"
            category.save()
        reader = threading.Thread(target=another_reader)
        reader.start()
        reader.join(timeout=30)
        assert seen and "$0.50/week" in seen[0] and "Renamed section" not in seen[0]  # the old rows
    page = html(Client(), after.get_absolute_url())
    if change == "a plan's price":
        assert "$0.75/week" in page and "$0.50/week" not in page
    else:
        menu = page[page.index('class="footer-sections"') :]
        assert "Renamed section" in menu[: menu.index("</ul>")]


def test_query_strings_share_one_cached_page(stories, monkeypatch) -> None:
    from articles import views

    renders = []
    real_render = views._render_article
    monkeypatch.setattr(views, "_render_article", lambda *a, **k: renders.append(1) or real_render(*a, **k))
    url = stories[0].get_absolute_url()
    for n in range(6):
        page = html(Client(), f"{url}?utm_source=mail{n}&x{n}=random{n}")
        assert MARKER in page
        assert f"random{n}" not in page and "utm_source" not in page  # a shared page echoes no query
    assert len(renders) == 1


def test_subscribers_share_one_rendering_and_each_gets_their_own_parts(stories, subscriber) -> None:
    """A subscriber's page is rendered once and filled in per reader: their CSRF
    token (a post with it is accepted), a fresh comment token, and edit/delete
    controls on their own comments only — report on everyone else's."""
    from .conftest import make_subscription

    other = make_user("other-subscriber@example.com")
    make_subscription(other, "active")
    story = stories[0]
    Comment.objects.create(article=story, user=subscriber, body="Mine, by the first subscriber.")
    Comment.objects.create(article=story, user=other, body="Theirs, by the second subscriber.")
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first.force_login(subscriber)
    second.force_login(other)
    url = story.get_absolute_url()
    page_one = html(first, url)
    with CaptureQueriesContext(connection) as ctx:
        page_two = html(second, url)
    assert not [q for q in ctx.captured_queries if "articles_comment" in q["sql"]]  # not rendered again
    for page, own, theirs in ((page_one, "Mine", "Theirs"), (page_two, "Theirs", "Mine")):
        assert MARKER in page and "for-this-reader" not in page
        mine_at, theirs_at = page.index(own), page.index(theirs)
        own_block = page[mine_at : mine_at + 600]
        their_block = page[theirs_at : theirs_at + 600]
        assert "Delete" in own_block and "Report" not in own_block
        assert "Report" in their_block and "Delete" not in their_block
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page_two).group(1)
    comment_token = re.search(r'name="token" value="([0-9a-f]{32})"', page_two).group(1)
    assert comment_token not in page_one
    response = second.post(
        f"/{story.slug}/comments/", {"csrfmiddlewaretoken": token, "token": comment_token, "body": "Posted with it."}
    )
    assert response.status_code == 302
    assert Comment.objects.filter(user=other, body="Posted with it.").exists()


# --- List pages (home, sections, authors, topics, search): page_cache.listing ---


def list_page(client: Client, url: str) -> tuple[str, int]:
    """The page and how many SQL queries it cost (the session's left out: Redis holds them in production)."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), len([q for q in ctx.captured_queries if "django_session" not in q["sql"]])


@pytest.mark.parametrize("url", ["/", "/category/{section}/", "/author/{author}/", "/search/?q=story"])
def test_list_pages_come_from_the_cache_and_show_a_new_story_at_once(url, stories, category, author) -> None:
    url = url.format(section=category.slug, author=author.slug)
    first, _ = list_page(Client(), url)
    again, queries = list_page(Client(), url)
    assert again == first and queries == 0
    make_article(category=category, authors=[author], title="A story just published")
    assert "A story just published" in list_page(Client(), url)[0]


def test_a_list_page_never_outlives_the_next_scheduled_publication(stories, category, author) -> None:
    import time
    from datetime import timedelta

    from django.utils import timezone

    due = make_article(
        category=category, authors=[author], title="On the home page in a moment",
        status=Article.Status.SCHEDULED, publish_at=timezone.now() + timedelta(seconds=2),
    )  # fmt: skip
    assert "On the home page in a moment" not in list_page(Client(), "/")[0]
    assert list_page(Client(), "/")[1] == 0  # cached
    time.sleep(max(0.0, (due.publish_at - timezone.now()).total_seconds()) + 1.1)
    assert "On the home page in a moment" in list_page(Client(), "/")[0]


def test_each_kind_of_reader_gets_its_own_list_page_and_their_own_token(stories, subscriber, free_reader) -> None:
    """Logged in or not (the account menu), entitled or not (ad slots) each have
    their page; the logout form carries each reader's own CSRF token."""
    anonymous, _ = list_page(Client(), "/")
    pages = {}
    for user in (subscriber, free_reader):
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        list_page(client, "/")
        pages[user], queries = list_page(client, "/")
        assert queries == 0  # from the cache, with the account from the cache too
        assert "Log out" in pages[user] and "for-this-reader" not in pages[user]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', pages[user]).group(1)
        assert client.post("/accounts/logout/", {"csrfmiddlewaretoken": token}).status_code == 302
    assert "Log out" not in anonymous and 'class="ad-slot' in anonymous
    assert 'class="ad-slot' not in pages[subscriber] and 'class="ad-slot' in pages[free_reader]


def test_a_subscribers_search_results_never_reach_a_reader_who_may_not_search_paid_text(
    category, author, subscriber, free_reader
) -> None:
    make_article(category=category, authors=[author], title="A harbour story")  # MARKER is in its paid part only
    url = "/search/?q=" + "+".join(MARKER.split()[:6])
    for user, finds in ((subscriber, True), (free_reader, False), (None, False)):
        client = Client()
        if user:
            client.force_login(user)
        assert ("A harbour story" in list_page(client, url)[0]) is finds


def test_list_pages_are_rendered_every_time_for_staff(stories, editor) -> None:
    client = Client()
    client.force_login(editor)
    list_page(client, "/")
    assert list_page(client, "/")[1] > 0


def _reader_id(client: Client) -> str:
    from django.conf import settings

    return "a:" + client.cookies[settings.METER_COOKIE_NAME].value.split(":")[0]


def _redis_commands(monkeypatch) -> list[str]:
    """Every command sent to Redis from here on (pipelines aside), by name."""
    import redis

    sent: list[str] = []
    original = redis.Redis.execute_command

    def counted(self, *args, **options):
        sent.append(args[0])
        return original(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counted)
    return sent


@pytest.mark.parametrize("cache_store", ["one Redis"], indirect=True)
def test_an_anonymous_readers_kept_page_is_one_call_to_redis_and_no_sql(stories, cache_store, monkeypatch) -> None:
    url = stories[0].get_absolute_url()
    assert MARKER in html(Client(), url)  # rendered, and kept with the article's facts
    sent = _redis_commands(monkeypatch)
    reader = Client()
    with CaptureQueriesContext(connection) as queries:
        page = html(reader, url)
    assert MARKER in page and "2 free articles left today" in page
    assert sent == ["EVALSHA"] and len(queries) == 0
    assert meter_reads()[_reader_id(reader)] == {stories[0].pk}


@pytest.mark.parametrize("cache_store", ["one Redis"], indirect=True)
def test_a_reader_over_the_limit_gets_the_kept_teaser_in_one_call(stories, cache_store, monkeypatch) -> None:
    url = stories[0].get_absolute_url()
    assert MARKER not in html(over_the_limit(stories), url)  # the teaser, now kept
    reader = over_the_limit(stories)
    sent = _redis_commands(monkeypatch)
    page = html(reader, url)
    assert sent == ["EVALSHA"]
    assert MARKER not in page and 'class="paywall"' in page


@pytest.mark.parametrize("cache_store", ["one Redis"], indirect=True)
def test_a_page_not_kept_for_this_answer_yet_spends_the_credit_once(stories, cache_store, monkeypatch) -> None:
    from subscriptions import meter

    url = stories[0].get_absolute_url()
    html(Client(), url)  # the article's facts and its "2 left" page are kept
    reader = Client()
    html(reader, stories[1].get_absolute_url())
    consumed = []
    consume = meter.consume
    monkeypatch.setattr(meter, "consume", lambda *a: consumed.append(a) or consume(*a))
    page = html(reader, url)  # the one call spends the credit, finds no "1 left" page, renders it
    assert MARKER in page and "1 free article left today" in page
    assert consumed == []  # the long way used the one call's answer: no second spending
    assert meter_reads()[_reader_id(reader)] == {stories[0].pk, stories[1].pk}


@pytest.mark.parametrize("cache_store", ["one Redis"], indirect=True)
def test_a_subscribers_kept_page_is_read_with_its_versions_without_the_article_row(
    stories, subscriber, cache_store, monkeypatch
) -> None:
    reader = Client()
    reader.force_login(subscriber)
    url = stories[0].get_absolute_url()
    assert MARKER in html(reader, url)  # rendered and kept
    sent = _redis_commands(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        page = html(reader, url)
    assert MARKER in page and "ad-slot" not in page
    assert sent == ["GET", "MGET", "MGET"] and not queries  # their session, their account, the page with its versions
    stories[0].title = "A new headline for subscribers"
    stories[0].save()
    assert "A new headline for subscribers" in html(reader, url)  # a save retires the kept page at once


@pytest.mark.parametrize("cache_store", ["one Redis"], indirect=True)
def test_each_entitled_reader_gets_the_page_their_own_account_calls_for(
    stories, subscriber, trialing, complimentary, cache_store, monkeypatch
) -> None:
    """A trial or complimentary reader shares the subscriber's page, one whose payment
    failed or whose email is unverified gets their own, and a reader whose account
    changed between two pages gets what the new account allows."""
    from .conftest import make_subscription

    url = stories[0].get_absolute_url()

    def reader(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    assert MARKER in html(reader(subscriber), url)  # rendered and kept
    for user in (trialing, complimentary):
        client = reader(user)
        with CaptureQueriesContext(connection) as queries:
            html(client, url)  # their account is read from the database and kept
        assert not [q for q in queries.captured_queries if "articles_" in q["sql"]]  # the subscriber's page
        sent = _redis_commands(monkeypatch)
        page = html(client, url)
        assert MARKER in page and "Comments (" in page and "Post comment" in page
        assert sent == ["GET", "MGET", "MGET"]
        monkeypatch.undo()

    failed = make_user("failed@example.com")
    make_subscription(failed, "past_due", past_due_since=timezone.now())
    unverified = make_user("unverified@example.com", verified=False)
    make_subscription(unverified, "active")
    for user, expect, never in ((failed, "update your card", None), (unverified, MARKER, "Post comment")):
        client = reader(user)
        first = html(client, url)  # rendered for their kind of reader and kept
        sent = _redis_commands(monkeypatch)
        page = html(client, url)
        assert expect in first and expect in page and MARKER in page
        assert never is None or never not in page
        assert sent == ["GET", "MGET", "MGET"]  # their page, kept for their kind of reader
        monkeypatch.undo()

    client = reader(subscriber)
    assert MARKER in html(client, url)
    subscriber.subscriptions.update(status="canceled")
    from subscriptions import access

    access.forget_entitlement(subscriber.pk)
    page = html(client, url)  # the account read with the page is the new one: a free account's page (a credit)
    assert "ad-slot" in page and "Post comment" not in page and "free article" in page


@pytest.mark.parametrize("cache_store", ["one Redis"], indirect=True)
@pytest.mark.parametrize("lost", ["account", "account's version", "session", "page", "everything"])
def test_a_logged_in_reader_whose_cached_entries_are_gone_gets_their_own_page(
    stories, subscriber, free_reader, cache_store, lost
) -> None:
    """An entry the cache no longer holds (expired, evicted) is a miss, read again: the
    reader stays logged in as themselves and gets their own page — never a 500."""
    from django.core.cache import cache

    from subscriptions import access

    url = stories[0].get_absolute_url()
    for user, full_page in ((subscriber, True), (free_reader, False)):
        reader = Client()
        reader.force_login(user)
        assert "Log out" in html(reader, url)  # everything read once, kept
        session_key = reader.cookies["sessionid"].value
        keys = {"account": [f"account:{user.pk}"], "account's version": [access._version_key(user.pk)],
                "session": ["django.contrib.sessions.cached_db" + session_key]}  # fmt: skip
        if lost == "everything":
            cache.clear()
        elif lost == "page":
            client = counters.client()
            client.delete(*client.keys(cache.make_key("page-cache:article:*")))
        else:
            assert all(cache.delete(key) for key in keys[lost])  # it was there, and is gone
        for _ in range(2):  # read again, then kept again
            page = html(reader, url)
            assert "Log out" in page and ("Post comment" in page) == full_page
            assert ("ad-slot" in page) != full_page and (MARKER in page or "free article" in page)


# --- An anonymous reader's kept page before the rest of the middleware: articles/middleware.py ---


def _fast_and_full(url: str):
    """The same page for two new readers: the first rendered through the whole stack (and
    kept), the second from KeptPageMiddleware."""
    full = Client().get(url)
    fast = Client().get(url)
    assert hasattr(full.wsgi_request, "session")
    assert not hasattr(fast.wsgi_request, "session")  # sessions, CSRF, authentication... never ran
    return fast, full


@pytest.mark.parametrize("cache_store", ["one Redis"], indirect=True)
@pytest.mark.parametrize("access", ["metered", "free"])
def test_a_kept_anonymous_page_skips_the_per_reader_middleware_with_the_same_headers(
    stories, category, author, access, cache_store
) -> None:
    story = stories[0] if access == "metered" else make_article(category=category, authors=[author], access="free")
    fast, full = _fast_and_full(story.get_absolute_url())
    assert fast.content == full.content and MARKER in fast.content.decode()
    assert {h: v for h, v in fast.items() if h != "Set-Cookie"} == {h: v for h, v in full.items() if h != "Set-Cookie"}
    assert "Content-Security-Policy" in fast and fast["X-Frame-Options"] == "DENY"
    if access == "metered":  # a new reader: their meter's cookie, as the full stack sets it
        assert fast.cookies["reader"].value != full.cookies["reader"].value
        assert {k: v for k, v in fast.cookies["reader"].items()} == {k: v for k, v in full.cookies["reader"].items()}
        assert "private" in fast["Cache-Control"]
    else:
        assert not fast.cookies and "public" in fast["Cache-Control"]


@pytest.mark.parametrize("cache_store", ["one Redis"], indirect=True)
def test_every_response_header_is_made_for_its_own_response(stories, cache_store, settings) -> None:
    """The early answer sits below the middleware that makes every response's headers:
    a setting changed (or a middleware added) between two pages shows on the second,
    and what the stack refuses or redirects is refused or redirected."""
    url = stories[0].get_absolute_url()
    _fast_and_full(url)
    assert Client(raise_request_exception=False).get(url + "?utm_source=%00").status_code == 400  # RejectNulBytes
    settings.SECURE_SSL_REDIRECT = True
    response = Client().get(url)
    assert response.status_code == 301 and response["Location"].startswith("https://")
    Client().get(url, secure=True)  # the https page, rendered and kept
    fast = Client().get(url, secure=True)
    assert not hasattr(fast.wsgi_request, "session")  # https: answered early
    settings.X_FRAME_OPTIONS = "SAMEORIGIN"
    settings.SECURE_CONTENT_TYPE_NOSNIFF = False
    fast = Client().get(url, secure=True)
    assert not hasattr(fast.wsgi_request, "session")
    assert fast["X-Frame-Options"] == "SAMEORIGIN" and "X-Content-Type-Options" not in fast



def _flash(client: Client, text: str) -> None:
    """A flash message, kept where the site's message storage keeps it (Django's
    FallbackStorage: in the messages cookie, and in the session what the cookie
    has no room for), as a view that redirects leaves it for the next page."""
    from django.contrib.messages import constants
    from django.contrib.messages.storage import default_storage
    from django.http import HttpRequest, HttpResponse

    request = HttpRequest()
    request.COOKIES = {name: morsel.value for name, morsel in client.cookies.items()}
    request.session = client.session  # a new session (and its cookie) for a reader without one
    storage = default_storage(request)
    storage.add(constants.SUCCESS, text)
    response = HttpResponse()
    storage.update(response)
    request.session.save()
    client.cookies.update(response.cookies)


@pytest.mark.parametrize("reader", ["subscriber", "anonymous"])
@pytest.mark.parametrize("page", ["article", "home"])
@pytest.mark.parametrize("size", ["short", "too long for the cookie"])
def test_a_flash_message_is_shown_to_its_reader_only(stories, subscriber, reader, page, size) -> None:
    """A page showing one reader's flash message is never kept for others, wherever the
    message storage keeps it (the cookie, or the session for what overflows it)."""
    from .conftest import make_subscription

    other = make_user("other-subscriber@example.com")
    make_subscription(other, "active")
    url = stories[0].get_absolute_url() if page == "article" else "/"
    flashed, next_reader = Client(), Client()
    if reader == "subscriber":
        flashed.force_login(subscriber)
        next_reader.force_login(other)
    text = "Only for the reader it was flashed to." + (" And more." * 400 if size != "short" else "")
    _flash(flashed, text)
    assert text in flashed.get(url).content.decode()
    assert text not in next_reader.get(url).content.decode()
    assert text not in flashed.get(url).content.decode()  # shown once
