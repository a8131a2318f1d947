"""The paid text reaches an inbox exactly when the paywall would show it on the
page, for every persona and every kind of article — and an email never spends
a meter credit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from articles.models import Article
from newsletter import sending
from newsletter.models import Delivery, Preference
from subscriptions.models import MeterDay, MeterRead, Subscription

from .conftest import MARKER, make_article, make_subscription, make_user

pytestmark = pytest.mark.django_db

FULL, TEASER = True, False


def past_due(days_ago: int):
    user = make_user(f"pastdue{days_ago}@example.com")
    make_subscription(user, Subscription.Status.PAST_DUE, past_due_since=timezone.now() - timedelta(days=days_ago))
    return user


@pytest.fixture
def at_the_limit(settings):
    """A free reader who has used today's credits on the site."""
    from subscriptions import meter

    user = make_user("limit@example.com")
    reader = f"u:{user.pk}"  # meter.reader_key for a logged-in reader
    for _ in range(settings.FREE_ARTICLES_PER_DAY):
        MeterRead.objects.create(reader=reader, article=make_article(), day=meter.today())
    MeterDay.objects.create(reader=reader, day=meter.today(), count=settings.FREE_ARTICLES_PER_DAY)
    return user


PERSONAS = {
    "free_reader": TEASER,
    "lapsed": TEASER,
    "subscriber": FULL,
    "trialing": FULL,
    "complimentary": FULL,
    "editor": FULL,
}


def _deliver(user, access: str) -> list:
    Preference.objects.update_or_create(user=user, defaults={"digest": False, "breaking": True})
    article = make_article(access=access)
    Article.objects.filter(pk=article.pk).update(send_as_email=True)
    sending.schedule()
    sending.Sender().run()
    return [m for m in mail.outbox if m.to == [user.email]]


def _texts(message) -> list[str]:
    return [message.body, *(content for content, _ in message.alternatives)]


@pytest.mark.parametrize("access", [Article.Access.METERED, Article.Access.SUBSCRIBERS, Article.Access.FREE])
@pytest.mark.parametrize("persona", list(PERSONAS))
def test_an_email_carries_the_paid_text_only_to_readers_the_paywall_lets_read_it(request, persona, access) -> None:
    user = request.getfixturevalue(persona)
    meter_rows = MeterRead.objects.count(), MeterDay.objects.count()

    [message] = _deliver(user, access)

    expected = PERSONAS[persona] or access == Article.Access.FREE
    for text in _texts(message):
        assert (MARKER in text) is expected, (persona, access)
        assert "Opening paragraph number one" in text
    assert Delivery.objects.get(user=user).full_text is expected
    assert (MeterRead.objects.count(), MeterDay.objects.count()) == meter_rows  # no credit spent


@pytest.mark.parametrize(("days_ago", "expected"), [(1, FULL), (30, TEASER)])
def test_past_due_readers_get_the_full_text_only_within_the_grace_period(days_ago, expected) -> None:
    user = past_due(days_ago)
    [message] = _deliver(user, Article.Access.METERED)
    assert all((MARKER in text) is expected for text in _texts(message))


def test_a_reader_with_no_credits_left_gets_the_teaser_like_any_free_reader(at_the_limit) -> None:
    [message] = _deliver(at_the_limit, Article.Access.METERED)
    assert all(MARKER not in text for text in _texts(message))


def test_a_digest_gives_a_free_reader_no_paid_text_of_any_story(settings) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_newsletter"  # payments open: the free edition may invite to subscribe
    reader = make_user("digest-free@example.com")
    Preference.objects.create(user=reader, digest=True)
    now = timezone.now()
    for access in (Article.Access.SUBSCRIBERS, Article.Access.METERED):
        make_article(access=access, publish_at=now - timedelta(minutes=90))
    settings.NEWSLETTER_DAILY_HOUR = timezone.localtime(now).hour
    sending.schedule(now)
    sending.Sender().run()
    [message] = mail.outbox
    assert all(MARKER not in text for text in _texts(message))
    assert "Subscribe" in message.alternatives[0][0]


def test_an_unverified_address_gets_no_newsletter() -> None:
    user = make_user("unverified@example.com", verified=False)
    make_subscription(user)
    assert _deliver(user, Article.Access.FREE) == []
