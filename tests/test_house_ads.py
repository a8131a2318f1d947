"""Ad slots hold our own house ads (issue 33): one ad a story for readers without
a subscription, each offering something the reader can do today — a subscription
only while payments are open; otherwise a free account, or the digest for a reader
who has an account. Subscribers never see a slot; none sits under the paywall box."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from articles.models import Article

from .conftest import make_article, make_subscription, make_user

pytestmark = pytest.mark.django_db

SHORT = "One.\n\nTwo.\n\nThree."  # too short to split: its ad, if any, comes after it


def ad_slots(html: str) -> list[str]:
    return re.findall(r'<aside class="ad-slot.*?</aside>', html, re.S)


def offers(html: str) -> list[str]:
    return re.findall(r'class="house-ad" href="([^"]+)"', html)


def reader(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("payments", "logged_in", "offer"),
    [
        ("closed", False, "/accounts/signup/"),
        ("closed", True, "/newsletter/"),
        ("open", False, "/subscribe/"),
        ("open", True, "/subscribe/"),
    ],
)
def test_each_slot_holds_one_house_ad_for_what_the_reader_can_do(payments, logged_in, offer, settings, article):
    settings.STRIPE_SECRET_KEY = "sk_test_open" if payments == "open" else ""
    client = reader(make_user() if logged_in else None)
    for path in ("/", article.get_absolute_url()):
        html = client.get(path).content.decode()
        slots = ad_slots(html)
        assert len(slots) == 1, path
        assert offers(slots[0]) == [offer], path
        if payments == "closed":
            assert "/subscribe/" not in slots[0]  # it sells nothing the site cannot do


@pytest.mark.parametrize("persona", ["subscriber", "trialing", "complimentary", "editor"])
def test_readers_with_access_never_see_a_slot(persona, request, article, category, author) -> None:
    client = reader(request.getfixturevalue(persona))
    short = make_article(category=category, authors=[author], body=SHORT)
    for path in ("/", article.get_absolute_url(), short.get_absolute_url()):
        html = client.get(path).content.decode()
        assert 'class="ad-slot' not in html and 'class="house-ad"' not in html, path


def test_a_story_carries_one_ad_inside_it_or_after_it_when_too_short(client, category, author) -> None:
    long = client.get(make_article(category=category, authors=[author]).get_absolute_url()).content.decode()
    short = client.get(
        make_article(category=category, authors=[author], body=SHORT, access=Article.Access.FREE).get_absolute_url()
    ).content.decode()
    assert [re.search(r'data-slot="([^"]+)"', s).group(1) for s in ad_slots(long)] == ["article-inline"]
    assert [re.search(r'data-slot="([^"]+)"', s).group(1) for s in ad_slots(short)] == ["article-end"]


def test_a_short_story_adds_no_ad_where_its_end_already_offers_the_plans(settings, category, author) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_open"
    short = make_article(category=category, authors=[author], body=SHORT, access=Article.Access.FREE)
    html = reader(make_user()).get(short.get_absolute_url()).content.decode()
    assert "See the plans" in html and not ad_slots(html)


def test_no_ad_under_the_paywall_box(client, settings, category, author) -> None:
    settings.FREE_ARTICLES_PER_DAY = 0
    html = client.get(make_article(category=category, authors=[author]).get_absolute_url()).content.decode()
    assert 'class="paywall"' in html and not ad_slots(html[html.index('class="paywall"') :])


def test_a_lapsed_subscriber_sees_ads_again(lapsed, article) -> None:
    assert len(ad_slots(reader(lapsed).get(article.get_absolute_url()).content.decode())) == 1


def test_a_subscription_that_starts_removes_the_ads_at_once(article) -> None:
    user = make_user()
    client = reader(user)
    assert ad_slots(client.get(article.get_absolute_url()).content.decode())
    make_subscription(user)
    assert not ad_slots(client.get(article.get_absolute_url()).content.decode())
