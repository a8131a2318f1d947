"""Gift links: a subscriber shares one article; anyone reads it in full without a credit."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Gift
from subscriptions.models import MeterDay, Subscription

from .conftest import MARKER, make_article, make_user

pytestmark = pytest.mark.django_db


def gift_link(client: Client, article: Article, **data) -> str:
    response = client.post(reverse("articles:gift", kwargs={"slug": article.slug}), data)
    assert response.status_code == 200, response.content[:500]
    return response.context["link"]


def path_of(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


@pytest.fixture
def giver(subscriber) -> Client:
    client = Client()
    client.force_login(subscriber)
    return client


def test_a_subscriber_makes_a_link_to_the_articles_own_address(giver, article) -> None:
    response = giver.post(reverse("articles:gift", kwargs={"slug": article.slug}))
    link = response.context["link"]
    parts = urlsplit(link)
    assert parts.path == article.get_absolute_url()
    token = parse_qs(parts.query)["gift"][0]
    assert len(token) >= 40
    body = response.content.decode()
    assert link in body and "Copy link" in body and 'src="/static/js/gift.js"' in body
    assert "no-store" in response["Cache-Control"] and response["Referrer-Policy"] == "no-referrer"


def test_anyone_reads_the_gift_in_full_without_using_a_free_article(giver, article, settings) -> None:
    settings.FREE_ARTICLES_PER_DAY = 0  # a reader with nothing left
    link = path_of(gift_link(giver, article))
    reader = Client()
    assert MARKER not in reader.get(article.get_absolute_url()).content.decode()
    response = reader.get(link)
    body = response.content.decode()
    assert MARKER in body
    assert "A subscriber gifted you this article" in body and "/subscribe/" in body
    assert response["X-Robots-Tag"] == "noindex, noarchive"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "private" in response["Cache-Control"]
    assert '<meta name="robots" content="noindex, noarchive">' in body
    assert not MeterDay.objects.filter(count__gt=0).exists()
    assert Gift.objects.get().opens == 1


def test_a_gifted_page_uses_no_credit_of_a_reader_with_credits(giver, article) -> None:
    link = path_of(gift_link(giver, article))
    reader = Client()
    assert MARKER in reader.get(link).content.decode()
    assert not MeterDay.objects.exists()


def test_a_token_opens_only_its_own_article(giver, article, category, author, settings) -> None:
    settings.FREE_ARTICLES_PER_DAY = 0
    other = make_article(category=category, authors=[author])
    token = parse_qs(urlsplit(gift_link(giver, article)).query)["gift"][0]
    body = Client().get(f"{other.get_absolute_url()}?gift={token}").content.decode()
    assert MARKER not in body
    assert "This gift link has expired or is no longer valid." in body


@pytest.mark.parametrize("spoil", ["revoked", "expired", "lapsed giver", "unknown"])
def test_a_dead_link_gets_the_normal_metered_page_with_a_note(giver, subscriber, article, settings, spoil) -> None:
    settings.FREE_ARTICLES_PER_DAY = 0
    link = path_of(gift_link(giver, article))
    gift = Gift.objects.get()
    if spoil == "revoked":
        assert giver.post(reverse("articles:gift_revoke", kwargs={"pk": gift.pk})).status_code == 302
    elif spoil == "expired":
        Gift.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    elif spoil == "lapsed giver":
        Subscription.objects.filter(user=subscriber).update(status=Subscription.Status.CANCELED)
        from subscriptions import access

        access.forget_entitlement(subscriber.pk)
    else:
        link = article.get_absolute_url() + "?gift=" + "x" * 43
    body = Client().get(link).content.decode()
    assert MARKER not in body
    assert "This gift link has expired or is no longer valid." in body
    assert "paywall-title" in body


def test_regifting_the_same_article_returns_the_same_link(giver, article) -> None:
    assert gift_link(giver, article) == gift_link(giver, article)
    assert Gift.objects.count() == 1


def test_a_subscriber_gifts_at_most_the_monthly_allowance(giver, category, author, settings) -> None:
    settings.GIFT_ARTICLES_PER_MONTH = 2
    stories = [make_article(category=category, authors=[author]) for _ in range(3)]
    gift_link(giver, stories[0])
    gift_link(giver, stories[1])
    response = giver.post(reverse("articles:gift", kwargs={"slug": stories[2].slug}), follow=True)
    assert "You have gifted 2 articles this month" in response.content.decode()
    assert Gift.objects.count() == 2
    # A revoked link still counted: revoking is not a way round the allowance.
    Gift.objects.update(revoked_at=timezone.now())
    giver.post(reverse("articles:gift", kwargs={"slug": stories[2].slug}))
    assert Gift.objects.count() == 2


def test_last_months_gifts_do_not_count(giver, category, author, settings) -> None:
    settings.GIFT_ARTICLES_PER_MONTH = 1
    first, second = make_article(category=category, authors=[author]), make_article(category=category, authors=[author])
    gift_link(giver, first)
    Gift.objects.update(created_at=timezone.now() - timedelta(days=32))
    gift_link(giver, second)
    assert Gift.objects.count() == 2


def test_staff_gift_without_limit_and_with_a_label(editor, category, author, settings) -> None:
    settings.GIFT_ARTICLES_PER_MONTH = 1
    client = Client()
    client.force_login(editor)
    article = make_article(category=category, authors=[author])
    links = {gift_link(client, article, label=label) for label in ("Social", "Partner A", "Partner B")}
    assert len(links) == 3
    assert sorted(Gift.objects.values_list("label", flat=True)) == ["Partner A", "Partner B", "Social"]


@pytest.mark.parametrize("who", ["anonymous", "free reader", "lapsed"])
def test_only_readers_who_may_read_everything_can_gift(who, article, request) -> None:
    client = Client()
    if who == "free reader":
        client.force_login(make_user())
    elif who == "lapsed":
        client.force_login(request.getfixturevalue("lapsed"))
    response = client.post(reverse("articles:gift", kwargs={"slug": article.slug}))
    assert response.status_code == 302
    assert not Gift.objects.exists()
    assert "Gift this article" not in client.get(article.get_absolute_url()).content.decode()


def test_the_account_page_lists_gifts_with_their_opens_and_a_revoke_button(giver, article) -> None:
    link = path_of(gift_link(giver, article))
    Client().get(link)
    Client().get(link)
    body = giver.get(reverse("subscriptions:account")).content.decode()
    assert article.title in body
    assert "opened 2 times" in body
    assert reverse("articles:gift_revoke", kwargs={"pk": Gift.objects.get().pk}) in body


def test_nobody_revokes_someone_elses_gift(giver, article) -> None:
    gift_link(giver, article)
    other = Client()
    other.force_login(make_user())
    other.post(reverse("articles:gift_revoke", kwargs={"pk": Gift.objects.get().pk}))
    assert Gift.objects.get().revoked_at is None


def test_gifted_pages_never_enter_the_shared_page_cache(giver, article, settings) -> None:
    settings.FREE_ARTICLES_PER_DAY = 0
    link = path_of(gift_link(giver, article))
    assert MARKER in Client().get(link).content.decode()
    # Same URL minus the token, and the token itself a second time: both decided afresh.
    assert MARKER not in Client().get(article.get_absolute_url()).content.decode()
    Gift.objects.update(revoked_at=timezone.now())
    assert MARKER not in Client().get(link).content.decode()
