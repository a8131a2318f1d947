from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import models


class PlanQuerySet(models.QuerySet):
    def active(self) -> PlanQuerySet:
        return self.filter(is_active=True).order_by("position", "amount_cents")


class Plan(models.Model):
    """A price a reader can subscribe at. Stripe ids are filled by `stripe_sync_plans`."""

    class Interval(models.TextChoices):
        WEEK = "week", "week"
        MONTH = "month", "month"
        YEAR = "year", "year"

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    interval = models.CharField(max_length=5, choices=Interval.choices, default=Interval.WEEK)
    trial_days = models.PositiveSmallIntegerField(default=14)
    is_default = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)
    stripe_product_id = models.CharField(max_length=255, blank=True)
    stripe_price_id = models.CharField(max_length=255, blank=True, db_index=True)

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["position", "amount_cents"]

    def __str__(self) -> str:
        return f"{self.name} ({self.price_display}/{self.interval})"

    @property
    def price_display(self) -> str:
        return f"${Decimal(self.amount_cents) / 100:.2f}"

    @property
    def monthly_cents(self) -> int:
        """One period's price as a monthly amount (the dashboard's MRR)."""
        return round(self.amount_cents * {"week": 52 / 12, "month": 1, "year": 1 / 12}[self.interval])


DEFAULT_PLAN_CACHE_KEY = "subscriptions:default_plan"


def default_plan() -> Plan | None:
    """The plan the paywall advertises. Cached (it is on every paywalled page);
    saving or deleting any Plan clears the cache (see receivers.py)."""
    plan = cache.get(DEFAULT_PLAN_CACHE_KEY)
    if plan is None:
        plan = Plan.objects.active().filter(is_default=True).first() or Plan.objects.active().first()
        cache.set(DEFAULT_PLAN_CACHE_KEY, plan or False, 300)
    return plan or None


class StripeCustomer(models.Model):
    """One Stripe customer per user, created once (see billing.customer_for)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stripe_customer")
    customer_id = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.customer_id


class SubscriptionQuerySet(models.QuerySet):
    def live(self) -> SubscriptionQuerySet:
        """Subscriptions that give access and would bill again: a second Checkout would double-bill."""
        return self.filter(status__in=Subscription.LIVE_STATUSES)


class Subscription(models.Model):
    """Local mirror of a Stripe subscription. Written by billing.sync_subscription
    (from webhooks, the Checkout success page and reconcile), and by staff in the
    admin before billing is configured."""

    class Status(models.TextChoices):
        TRIALING = "trialing", "Trialing"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        INCOMPLETE = "incomplete", "Incomplete"
        INCOMPLETE_EXPIRED = "incomplete_expired", "Incomplete (expired)"
        UNPAID = "unpaid", "Unpaid"
        PAUSED = "paused", "Paused"
        CANCELED = "canceled", "Canceled"

    LIVE_STATUSES = (Status.TRIALING, Status.ACTIVE, Status.PAST_DUE)
    # After these a subscription can never bill again.
    ENDED_STATUSES = (Status.CANCELED, Status.INCOMPLETE_EXPIRED)

    # NULL once the reader deleted their account: the billing record stays for
    # the publisher's figures and for finding it in Stripe by its ids.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="subscriptions"
    )
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.SET_NULL, related_name="subscriptions")
    stripe_subscription_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_customer_id = models.CharField(max_length=255, blank=True, db_index=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.INCOMPLETE)
    trial_end = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    canceled_at = models.DateTimeField(null=True, blank=True)
    past_due_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "status"])]

    def __str__(self) -> str:
        return f"{self.user or 'deleted account'} · {self.status}"

    def in_grace(self, now: datetime) -> bool:
        """Past due, but still within PAST_DUE_GRACE_DAYS of the failed payment: still reads."""
        if self.status != self.Status.PAST_DUE:
            return False
        return now < (self.past_due_since or now) + timedelta(days=settings.PAST_DUE_GRACE_DAYS)


class ComplimentaryAccess(models.Model):
    """Free access granted by staff until a date, without Stripe."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="complimentary")
    until = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "complimentary access"
        indexes = [models.Index(fields=["user", "until"])]

    def __str__(self) -> str:
        return f"{self.user} until {self.until:%Y-%m-%d}"


class MeterDay(models.Model):
    """How many metered articles one reader has opened on one local day.

    `reader` is "u:<user id>", "a:<cookie id>" or "ip:<address>". The count is
    raised only by a conditional UPDATE in meter.py, never read-then-written.
    """

    reader = models.CharField(max_length=80)
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["reader", "day"], name="meter_day_unique")]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.reader} {self.day}: {self.count}"


class MeterRead(models.Model):
    """One distinct article a reader opened in full on a day (re-opening is free)."""

    reader = models.CharField(max_length=80)
    day = models.DateField()
    article = models.ForeignKey("articles.Article", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["reader", "day", "article"], name="meter_read_unique")]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.reader} {self.day}: article {self.article_id}"


class DailyStat(models.Model):
    """Counters for the publisher dashboard (paywall views, trials started, ...)."""

    day = models.DateField()
    name = models.CharField(max_length=40)
    value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "name"], name="daily_stat_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.name}={self.value}"


class StripeEvent(models.Model):
    """Every webhook event id we have processed; the unique id makes redelivery a no-op."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
