"""Daily counters for the publisher dashboard, raised atomically: billing's in
SQL inside their own transactions, page views' where the meter counts
(subscriptions/counters.py)."""

import logging
from datetime import date, datetime, timedelta

import stripe
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q, Sum
from django.utils import timezone

from . import counters
from .models import DailyStat, Subscription, money

log = logging.getLogger(__name__)

_BUMP = (
    "INSERT INTO subscriptions_dailystat (day, name, value) VALUES (%s, %s, %s) "
    "ON CONFLICT (day, name) DO UPDATE SET value = subscriptions_dailystat.value + %s"
)


def bump(name: str, by: int = 1) -> None:
    """Raise a counter as part of the caller's transaction (billing events)."""
    with connection.cursor() as cursor:
        cursor.execute(_BUMP, [timezone.localdate(), name, by, by])


# Page-view counts are kept long enough for a dashboard month, and then some.
PAGE_VIEW_SECONDS = 400 * 86400


def page_views_key(name: str, day: date) -> str:
    """The Redis key a day's page views of this kind are counted under."""
    return counters.key("stat", name, day.isoformat())


def count_page_view(name: str) -> None:
    """Raise a counter that reader page views raise, many a second (paywall views):
    in Redis with the meter there (one round trip; the meter's own script counts the
    paywalls it refuses, subscriptions/meter.py), else a row bump."""
    if not counters.in_redis():
        bump(name)
        return
    key = page_views_key(name, timezone.localdate())
    try:
        with counters.client().pipeline(transaction=False) as pipe:
            pipe.incr(key).expire(key, PAGE_VIEW_SECONDS).execute()
    except counters.UNREACHABLE:  # a dashboard figure, not worth a failed page
        log.warning("page view %s not counted: Redis unreachable", name)


def _page_views(name: str, since: date) -> int:
    """What count_page_view() counted in Redis from `since` to today."""
    if not counters.in_redis():
        return 0
    days = range((timezone.localdate() - since).days + 1)
    keys = [page_views_key(name, since + timedelta(days=n)) for n in days]
    return sum(int(v) for v in counters.client().mget(keys) if v)


def dashboard_numbers(now: datetime | None = None) -> dict:
    """The publisher dashboard's figures for this month (the admin's dashboard page shows them)."""
    now = now or timezone.now()
    month_start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    stat = dict(
        DailyStat.objects.filter(day__gte=month_start.date())
        .values_list("name")
        .annotate(total=Sum("value"))
        .values_list("name", "total")
    )
    mrr = monthly_revenue()
    counts = Subscription.objects.aggregate(
        active=Count("user", distinct=True, filter=Q(status=Subscription.Status.ACTIVE)),
        trialing=Count("user", distinct=True, filter=Q(status=Subscription.Status.TRIALING)),
        past_due=Count("user", distinct=True, filter=Q(status=Subscription.Status.PAST_DUE)),
    )
    counts["churned"] = Subscription.objects.churned(month_start).count()
    # Paying at the start of the month ≈ paying now + those who left since.
    base = counts["active"] + counts["past_due"] + counts["churned"]
    return {
        "month_start": month_start,
        "paywall_views": stat.get("paywall_view", 0) + _page_views("paywall_view", month_start.date()),
        "trials_started": stat.get("trial_started", 0),
        "trials_converted": stat.get("trial_converted", 0),
        "active": counts["active"],
        "trialing": counts["trialing"],
        "past_due": counts["past_due"],
        "mrr": " · ".join(money(cents, currency) for currency, cents in mrr.items()) or money(0),
        "mrr_cents": mrr,
        "churned": counts["churned"],
        "churn_rate": f"{100 * counts['churned'] / base:.1f}%" if base else "—",
        **_revenue(month_start),
    }


def monthly_revenue() -> dict[str, int]:
    """MRR per currency, in cents: what each paying subscription is charged (its own price, not
    its plan's current one), a month's worth (an annual plan / 12); trials and paused collection
    bring nothing yet. Never one total over several currencies."""
    totals: dict[str, float] = {}
    for sub in Subscription.objects.paying().select_related("plan"):
        currency = (sub.currency or (sub.plan.currency if sub.plan else "") or "usd").lower()
        totals[currency] = totals.get(currency, 0) + sub.monthly_cents()
    return {currency: round(cents) for currency, cents in sorted(totals.items(), key=lambda kv: kv[0] != "usd")}


# Stripe's figures for the dashboard are read at most this often (a walk of the month's
# balance transactions is one request per 100 of them).
REVENUE_CACHE_SECONDS = 300


def _revenue(since: datetime) -> dict:
    """This month's money per currency as Stripe's balance transactions report it: paid,
    refunded, disputed, fees and net (`revenue`, worded; `revenue_cents`, the figures). None
    when Stripe is not configured or cannot be reached. Kept REVENUE_CACHE_SECONDS."""
    from . import billing  # billing raises these counters: imported here, not at the top

    if not billing.is_configured():
        return {"revenue": None, "revenue_cents": None}
    key = f"dashboard:revenue:{int(since.timestamp())}"
    totals = cache.get(key)
    if totals is None:
        try:
            totals = billing.balance_summary(since)
        except stripe.StripeError:
            log.warning("publisher dashboard: balance transactions unavailable", exc_info=True)
            return {"revenue": None, "revenue_cents": None}
        cache.set(key, totals, REVENUE_CACHE_SECONDS)
    worded = {currency: {name: money(cents, currency) for name, cents in row.items()}
              for currency, row in totals.items()}
    return {"revenue": worded, "revenue_cents": totals}
