"""Private full-text feeds: a secret address per reader, full text while subscribed."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from subscriptions.models import FeedToken, Subscription

from .conftest import MARKER

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(subscriber) -> Client:
    client = Client()
    client.force_login(subscriber)
    return client


def feed_path(client: Client) -> str:
    body = client.get(reverse("subscriptions:account")).content.decode()
    token = FeedToken.objects.get().token
    path = reverse("articles:private_feed", kwargs={"token": token})
    assert path in body
    return path


def test_the_account_page_shows_a_personal_feed_with_the_full_text(reader, article) -> None:
    response = Client().get(feed_path(reader))  # a feed reader: no cookies
    assert response.status_code == 200
    assert MARKER in response.content.decode()
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "private" in response["Cache-Control"]


def test_replacing_the_address_kills_the_old_one(reader, article) -> None:
    old = feed_path(reader)
    response = reader.post(reverse("subscriptions:feed_replace"))
    assert response.status_code == 302
    assert Client().get(old).status_code == 404
    new = feed_path(reader)
    assert new != old
    assert MARKER in Client().get(new).content.decode()


def test_an_unknown_token_is_a_404() -> None:
    assert Client().get(reverse("articles:private_feed", kwargs={"token": "nope"})).status_code == 404


def test_a_lapsed_subscribers_feed_carries_teasers_only(reader, subscriber, article) -> None:
    path = feed_path(reader)
    Subscription.objects.filter(user=subscriber).update(status=Subscription.Status.CANCELED)
    from subscriptions import access

    access.forget_entitlement(subscriber.pk)
    response = Client().get(path)
    assert response.status_code == 200
    body = response.content.decode()
    assert MARKER not in body
    assert "Opening paragraph number one" in body


def test_readers_without_a_subscription_get_no_feed_address(free_reader) -> None:
    client = Client()
    client.force_login(free_reader)
    assert "private RSS feed" not in client.get(reverse("subscriptions:account")).content.decode()
    assert not FeedToken.objects.exists()


def test_the_private_feed_is_never_linked_publicly(reader, article) -> None:
    feed_path(reader)
    token = FeedToken.objects.get().token
    for url in ["/", article.get_absolute_url(), "/feed/", "/sitemap.xml", "/robots.txt"]:
        assert token not in Client().get(url).content.decode(), url


def test_the_feed_names_its_own_private_address_as_self(reader, article, settings) -> None:
    """Feed readers follow atom:link rel="self": naming the public /feed/ would move a
    subscriber to the teaser feed."""
    from lxml import etree

    path = feed_path(reader)
    channel = etree.fromstring(Client().get(path).content).find("channel")
    (self_link,) = channel.findall("{http://www.w3.org/2005/Atom}link[@rel='self']")
    assert self_link.get("href") == settings.SITE_URL + path
