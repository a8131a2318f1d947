"""subscriptions.access: who is entitled, and why."""

from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from articles.models import Article
from subscriptions import access
from subscriptions.access import Reason
from subscriptions.models import ComplimentaryAccess, Subscription

from .conftest import make_subscription, make_user

pytestmark = pytest.mark.django_db


def entitlement_of(user) -> access.Entitlement:
    request = RequestFactory().get("/")
    request.user = user
    return access.entitlement(request)


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (Subscription.Status.ACTIVE, Reason.SUBSCRIBER),
        (Subscription.Status.TRIALING, Reason.TRIAL),
        (Subscription.Status.INCOMPLETE, None),
        (Subscription.Status.INCOMPLETE_EXPIRED, None),
        (Subscription.Status.UNPAID, None),
        (Subscription.Status.PAUSED, None),
        (Subscription.Status.CANCELED, None),
    ],
)
def test_subscription_status_decides_access(status, reason) -> None:
    user = make_user()
    make_subscription(user, status)
    assert entitlement_of(user).reason == reason


def test_past_due_keeps_access_during_the_grace_period_with_a_warning(settings) -> None:
    settings.PAST_DUE_GRACE_DAYS = 3
    user = make_user()
    make_subscription(user, Subscription.Status.PAST_DUE, past_due_since=timezone.now() - timedelta(days=2))
    ent = entitlement_of(user)
    assert ent.reason == Reason.GRACE
    assert ent.entitled and ent.payment_failed


def test_past_due_after_the_grace_period_loses_access(settings) -> None:
    settings.PAST_DUE_GRACE_DAYS = 3
    user = make_user()
    make_subscription(user, Subscription.Status.PAST_DUE, past_due_since=timezone.now() - timedelta(days=4))
    ent = entitlement_of(user)
    assert not ent.entitled and ent.payment_failed


def test_cancelled_at_period_end_reads_until_stripe_ends_it() -> None:
    user = make_user()
    make_subscription(user, Subscription.Status.ACTIVE, cancel_at_period_end=True)
    assert entitlement_of(user).entitled


def test_an_old_canceled_subscription_does_not_hide_a_new_active_one() -> None:
    user = make_user()
    make_subscription(user, Subscription.Status.CANCELED)
    make_subscription(user, Subscription.Status.ACTIVE)
    assert entitlement_of(user).reason == Reason.SUBSCRIBER


def test_complimentary_access_lasts_until_its_date() -> None:
    user = make_user()
    grant = ComplimentaryAccess.objects.create(user=user, until=timezone.now() + timedelta(days=1))
    assert entitlement_of(user).reason == Reason.COMPLIMENTARY
    grant.until = timezone.now() - timedelta(minutes=1)
    grant.save()
    assert entitlement_of(user).reason is None


def test_staff_are_entitled() -> None:
    assert entitlement_of(make_user(is_staff=True)).reason == Reason.STAFF


def test_someone_elses_subscription_gives_nothing() -> None:
    owner, other = make_user(), make_user()
    make_subscription(owner, Subscription.Status.ACTIVE)
    assert entitlement_of(other).reason is None


def test_decide_writes_nothing_and_spend_credit_is_what_uses_one(article, settings) -> None:
    settings.FREE_ARTICLES_PER_DAY = 1
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1")
    from django.contrib.auth.models import AnonymousUser

    from subscriptions.models import MeterDay, MeterRead

    request.user = AnonymousUser()
    asked = access.decide(request, article)
    assert (asked.full, asked.needs_credit, asked.show_ads) == (False, True, True)
    assert access.decide(request, article) == asked
    assert not MeterRead.objects.exists() and not MeterDay.objects.exists()
    first = access.spend_credit(request, article)
    assert (first.full, first.reason, first.credits_left) == (True, Reason.METER_CREDIT, 0)
    again = access.spend_credit(request, article)
    assert (again.full, again.reason) == (True, Reason.METER_ALREADY_READ)
    other = Article.objects.get(pk=article.pk)
    other.pk = None
    other.slug = "another-story"
    other.save()
    assert access.decide(request, other).needs_credit  # asking still costs nothing
    blocked = access.spend_credit(request, other)
    assert (blocked.full, blocked.reason, blocked.show_ads) == (False, Reason.METER_EXHAUSTED, True)


def test_decide_for_user_needs_no_request(article) -> None:
    """For newsletters and jobs: a subscriber reads a metered article in full, anyone else is not
    given it (no credit is spent without a page view)."""
    subscriber = make_user()
    make_subscription(subscriber, Subscription.Status.ACTIVE)
    assert access.decide_for_user(subscriber, article).full
    assert not access.decide_for_user(make_user(), article).full
    assert access.decide_for_user(None, article).needs_credit


def test_the_entitlement_row_is_cached_and_each_change_retires_it() -> None:
    """One query per user until their subscription, grant or email changes
    (newsroom/versioned_cache.py); every change shows at the next request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = make_user()
    assert entitlement_of(user).reason is None
    with CaptureQueriesContext(connection) as ctx:
        assert entitlement_of(user).reason is None
    assert len(ctx.captured_queries) == 0
    subscription = make_subscription(user, Subscription.Status.TRIALING)
    assert entitlement_of(user).reason == Reason.TRIAL
    subscription.status = Subscription.Status.ACTIVE
    subscription.save()
    assert entitlement_of(user).reason == Reason.SUBSCRIBER
    subscription.delete()
    assert entitlement_of(user).reason is None
    user.emailaddress_set.update(verified=False)  # no signal: still cached as verified
    user.emailaddress_set.first().save()
    assert entitlement_of(user).email_verified is False


def test_a_cached_complimentary_grant_still_ends_when_the_clock_passes_its_date() -> None:
    import time

    user = make_user()
    grant = ComplimentaryAccess.objects.create(user=user, until=timezone.now() + timedelta(seconds=1.5))
    assert entitlement_of(user).reason == Reason.COMPLIMENTARY  # cached now, with its date
    time.sleep(max(0.0, (grant.until - timezone.now()).total_seconds()) + 0.1)
    assert entitlement_of(user).reason is None


def test_a_logged_in_readers_account_comes_from_the_cache_not_a_query(client, subscriber, article) -> None:
    """The authentication backends load the user with their entitlement (access.account):
    one query when it changed, none on the requests after."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .conftest import MARKER

    client.force_login(subscriber)
    client.get(article.get_absolute_url())
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(article.get_absolute_url())
    assert MARKER in response.content.decode()
    assert not [q["sql"] for q in ctx.captured_queries if "auth_user" in q["sql"]]


def test_a_cached_account_that_is_deactivated_or_changes_password_is_logged_out(client, subscriber, category) -> None:
    from .conftest import MARKER, make_article

    article = make_article(category=category, access=Article.Access.SUBSCRIBERS)
    client.force_login(subscriber)
    assert MARKER in client.get(article.get_absolute_url()).content.decode()  # the account is cached now
    subscriber.set_password("a-new-password-for-this-reader-9")
    subscriber.save()
    response = client.get(article.get_absolute_url())
    assert MARKER not in response.content.decode()
    client.force_login(subscriber)
    assert MARKER in client.get(article.get_absolute_url()).content.decode()
    subscriber.is_active = False
    subscriber.save()
    assert MARKER not in client.get(article.get_absolute_url()).content.decode()
