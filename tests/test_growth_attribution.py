"""Which stories and sources bring readers in: recorded on our own server, counted once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from articles.models import Article
from growth import attribution
from growth.models import Conversion, ReaderOrigin
from subscriptions.models import Subscription
from tests.conftest import make_article, make_subscription, make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("referrer", "query", "expected"), [
    ("https://www.google.com/search?q=ledger", "", ("search", "google.com")),
    ("https://news.google.co.uk/", "", ("search", "news.google.co.uk")),
    ("https://duckduckgo.com/", "", ("search", "duckduckgo.com")),
    ("https://t.co/abc", "", ("social", "t.co")),
    ("https://old.reddit.com/r/news", "", ("social", "old.reddit.com")),
    ("https://mail.google.com/mail/u/0/", "", ("newsletter", "mail.google.com")),
    ("", "utm_medium=email&utm_source=digest", ("newsletter", "")),
    ("https://example.org/post", "", ("other", "example.org")),
    ("", "", ("direct", "")),
    ("http://127.0.0.1:8000/some-story/", "", ("", "")),  # our own pages are no source
])
def test_referrers_are_classed(settings, referrer, query, expected) -> None:
    settings.SITE_URL = "http://127.0.0.1:8000"
    assert attribution.classify(referrer, query) == expected


def test_a_first_visit_from_search_is_remembered_in_a_first_party_cookie_once(client) -> None:
    resp = client.get("/", HTTP_REFERER="https://www.google.com/search?q=x")
    assert resp.cookies[attribution.SOURCE_COOKIE].value == "search:google.com"
    assert "public" not in resp.get("Cache-Control", "")  # the one response that sets it is not shared
    again = client.get("/", HTTP_REFERER="https://t.co/x")
    assert attribution.SOURCE_COOKIE not in again.cookies


def test_a_gift_links_visit_counts_as_gift_links(client) -> None:
    story = make_article()
    resp = client.get(f"{story.get_absolute_url()}?gift=not-a-real-token")
    assert resp.cookies[attribution.SOURCE_COOKIE].value.startswith("gift:")


def test_a_forged_cookie_counts_as_direct(rf) -> None:
    request = rf.get("/")
    request.COOKIES[attribution.SOURCE_COOKIE] = "search:<script>"
    assert attribution.source_of(request) == ("direct", "")
    request.COOKIES[attribution.SOURCE_COOKIE] = "paid-ads:x.com"
    assert attribution.source_of(request) == ("direct", "")


def _sign_up(client, email: str):
    return client.post("/accounts/signup/", {"email": email, "password1": "a-long pass phrase 77",
                                             "password2": "a-long pass phrase 77"})


def test_signing_up_from_a_paywall_credits_that_story_and_the_first_visits_source(client) -> None:
    story = make_article(access=Article.Access.SUBSCRIBERS, title="The harbour deal")
    client.get("/", HTTP_REFERER="https://t.co/x")
    client.get(f"/accounts/signup/?from={story.pk}")
    resp = _sign_up(client, "newreader@example.com")
    assert resp.status_code == 302, resp.content.decode()[:3000]
    conversion = Conversion.objects.get(kind="signup")
    assert conversion.article == story and conversion.source == "social"
    assert ReaderOrigin.objects.get(user=conversion.user).referrer_domain == "t.co"


def test_the_paywall_buttons_click_carries_its_story_to_the_subscribe_and_sign_up_pages(client) -> None:
    story = make_article(access=Article.Access.SUBSCRIBERS)
    client.get("/subscribe/?plan=weekly", HTTP_REFERER=f"http://testserver{story.get_absolute_url()}")
    assert client.session[attribution.FROM_SESSION_KEY]["article"] == story.pk
    other = make_article()
    client.get("/accounts/signup/", HTTP_REFERER=f"http://testserver{other.get_absolute_url()}")
    assert client.session[attribution.FROM_SESSION_KEY]["article"] == other.pk
    third = make_article()
    client.get("/offer/spring/", HTTP_REFERER=f"http://testserver{third.get_absolute_url()}")  # an offer's page
    assert client.session[attribution.FROM_SESSION_KEY]["article"] == third.pk


def test_a_referrer_that_is_no_story_of_this_site_is_ignored(client) -> None:
    story = make_article()
    draft = make_article(status=Article.Status.DRAFT)
    for referrer in [f"https://elsewhere.example{story.get_absolute_url()}", "http://testserver/search/",
                     f"http://testserver{draft.get_absolute_url()}", "not a url", "http://testserver/%ff/"]:
        client.get("/subscribe/", HTTP_REFERER=referrer)
        assert attribution.FROM_SESSION_KEY not in client.session, referrer
    client.get("/search/", HTTP_REFERER=f"http://testserver{story.get_absolute_url()}")  # not a landing page
    assert attribution.FROM_SESSION_KEY not in client.session


def test_a_from_that_is_no_published_story_is_ignored(client) -> None:
    draft = make_article(status=Article.Status.DRAFT)
    for value in ["abc", "99999999", "1e3", str(draft.pk)]:
        client.get(f"/subscribe/?from={value}")
        assert attribution.FROM_SESSION_KEY not in client.session


def test_trials_and_first_payments_are_counted_once_each_with_the_readers_story(client) -> None:
    story = make_article(title="The harbour deal")
    reader = make_user()
    ReaderOrigin.objects.create(user=reader, source="search", article=story, article_at=timezone.now())
    sub = make_subscription(reader, status=Subscription.Status.TRIALING, amount_cents=200, currency="usd",
                            interval="week", interval_count=4)
    sub.save()  # a redelivered webhook saves it again
    sub.status, sub.has_paid = Subscription.Status.ACTIVE, True
    sub.save()
    sub.save()
    kinds = sorted(Conversion.objects.filter(article=story).values_list("kind", flat=True))
    assert kinds == ["paid", "trial"]
    report = attribution.stories_report(timezone.now() - timedelta(days=1))
    assert report[0]["article__title"] == "The harbour deal" and report[0]["paid"] == 1
    assert report[0]["revenue"] == "$2.17"  # $2.00 every 4 weeks, a month's worth (52/12/4)
    assert attribution.stories_report(timezone.now() - timedelta(days=1), source="social") == []


def test_a_story_clicked_long_ago_is_not_credited(client) -> None:
    story = make_article()
    reader = make_user()
    ReaderOrigin.objects.create(user=reader, article=story, article_at=timezone.now() - timedelta(days=30))
    make_subscription(reader, status=Subscription.Status.TRIALING)
    assert Conversion.objects.get(kind="trial").article is None


def test_the_dashboard_lists_stories_and_sources_as_counts_only(client) -> None:
    story = make_article(title="The harbour deal")
    reader = make_user("someone.private@example.com")
    ReaderOrigin.objects.create(user=reader, source="search", article=story, article_at=timezone.now())
    attribution.conversion_record(kind="signup", key=f"user-{reader.pk}", user=reader)
    client.force_login(make_user(is_staff=True, is_superuser=True))
    body = client.get("/admin/growth/offer/dashboard/").content.decode()
    assert "The harbour deal" in body and "someone.private" not in body
    assert client.get("/admin/growth/offer/dashboard/?source=social").content.decode().count("The harbour deal") == 0
    assert client.get("/admin/growth/offer/dashboard/?since=bad&source=<x>").status_code == 200


def _figures_on_the_admin_page(client, story) -> dict[str, str]:
    page = client.get(f"/admin/articles/article/{story.pk}/change/")
    assert page.status_code == 200
    found = re.search(r'<dl class="growth-figures" id="growth-figures">(.*?)</dl>', page.content.decode(), re.S)
    return dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", found[1])) if found else {}


def test_a_storys_admin_page_shows_the_readers_and_revenue_it_brought(client, editor) -> None:
    story, other = make_article(title="The harbour deal"), make_article(title="Another story")

    def came_from(article, **extra):
        reader = make_user()
        ReaderOrigin.objects.create(user=reader, source="search", article=article, article_at=timezone.now())
        attribution.conversion_record(kind="signup", key=f"user-{reader.pk}", user=reader)
        return reader

    came_from(story)
    make_subscription(came_from(story), status=Subscription.Status.TRIALING)
    make_subscription(came_from(story), has_paid=True, amount_cents=900, currency="usd", interval="month",
                      interval_count=1)
    left = make_subscription(came_from(story), has_paid=True, amount_cents=900, currency="usd", interval="month",
                             interval_count=1)
    left.status = Subscription.Status.CANCELED  # paid once, then left: counted, but brings nothing a month now
    left.save()
    make_subscription(came_from(other), has_paid=True, amount_cents=5000, currency="usd", interval="month",
                      interval_count=1)

    client.force_login(make_user(is_staff=True, is_superuser=True))
    assert _figures_on_the_admin_page(client, story) == {
        "Free sign-ups": "4", "Trials": "1", "Paid conversions": "2", "Monthly revenue it brought": "$9.00",
        "Gifts redeemed": "0",
    }
    assert _figures_on_the_admin_page(client, other)["Monthly revenue it brought"] == "$50.00"
    client.force_login(editor)  # edits stories, has no right to the growth figures
    assert _figures_on_the_admin_page(client, story) == {}
