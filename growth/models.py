"""Offers (Stripe coupons and promotion codes) and gift subscriptions.

An Offer is written by staff in the admin and made real in Stripe by
billing.offer_sync (a coupon and its promotion code; both are immutable in Stripe, so
changed terms make new ones and retire the old code). A GiftSubscription is paid once
through Checkout (mode=payment); redeeming it grants ComplimentaryAccess for the
months bought, so subscriptions/access.py needs no rule of its own for gifts.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from subscriptions.models import MAX_TRIAL_DAYS, ComplimentaryAccess, Plan, money


class OfferQuerySet(models.QuerySet):
    def open(self, now: datetime | None = None) -> OfferQuerySet:
        """Offers a reader can take now: active, not past their end, synced to Stripe."""
        now = now or timezone.now()
        return self.filter(is_active=True).filter(models.Q(ends_at=None) | models.Q(ends_at__gt=now))


class Offer(models.Model):
    class Kind(models.TextChoices):
        PERCENT = "percent", "Percent off"
        AMOUNT = "amount", "Amount off"
        TRIAL = "trial", "A longer free trial"

    class Duration(models.TextChoices):
        ONCE = "once", "The first billing period"
        REPEATING = "repeating", "A number of months"
        FOREVER = "forever", "Every period, for as long as they subscribe"

    code = models.SlugField(
        max_length=40, unique=True,
        help_text="The offer's address, /offer/<code>/, and the promotion code readers may type at Checkout "
                  "(letters, digits and dashes).",
    )  # fmt: skip
    name = models.CharField(max_length=80, help_text="Shown to readers, e.g. “Spring offer”.")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PERCENT)
    percent_off = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(100)])
    amount_off_cents = models.PositiveIntegerField(null=True, blank=True, help_text="In cents.")
    currency = models.CharField(max_length=3, default="usd")
    duration = models.CharField(max_length=10, choices=Duration.choices, default=Duration.ONCE)
    duration_in_months = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(36)],
        help_text="For “a number of months”: how many months the discount lasts.",
    )  # fmt: skip
    trial_days = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(MAX_TRIAL_DAYS)],
        help_text="For a longer free trial: its length in days (a reader who had a trial gets none).",
    )  # fmt: skip
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             help_text="Empty: every plan.")  # fmt: skip
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty: until staff end it.")
    max_redemptions = models.PositiveIntegerField(null=True, blank=True, validators=[MinValueValidator(1)],
                                                  help_text="Empty: no limit.")  # fmt: skip
    is_active = models.BooleanField(default=True)
    stripe_coupon_id = models.CharField(max_length=255, blank=True)
    stripe_promotion_code_id = models.CharField(max_length=255, blank=True, db_index=True)
    # The terms the Stripe objects above were made for (billing.offer_sync compares).
    stripe_terms = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    objects = OfferQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        problems: dict[str, str] = {}
        if self.kind == self.Kind.PERCENT and not self.percent_off:
            problems["percent_off"] = "Say how many percent off."
        if self.kind == self.Kind.AMOUNT and not self.amount_off_cents:
            problems["amount_off_cents"] = "Say how much off, in cents."
        if self.kind == self.Kind.AMOUNT and self.plan and self.amount_off_cents \
                and self.amount_off_cents >= self.plan.amount_cents:
            problems["amount_off_cents"] = f"That is the whole price of {self.plan.name} or more."
        if self.kind == self.Kind.TRIAL and not self.trial_days:
            problems["trial_days"] = "Say how many days the trial lasts."
        if self.kind != self.Kind.TRIAL and self.duration == self.Duration.REPEATING and not self.duration_in_months:
            problems["duration_in_months"] = "Say for how many months."
        if self.ends_at and not self.pk and self.ends_at <= timezone.now():
            problems["ends_at"] = "The end must be in the future."
        if problems:
            raise ValidationError(problems)

    @property
    def is_discount(self) -> bool:
        return self.kind != self.Kind.TRIAL

    def terms_key(self) -> str:
        """What the Stripe coupon and promotion code are made of: when it changes, they are made anew."""
        terms = [self.code, self.kind, self.percent_off, self.amount_off_cents, self.currency.lower(),
                 self.duration, self.duration_in_months, self.plan.stripe_product_id if self.plan else "",
                 int(self.ends_at.timestamp()) if self.ends_at else "", self.max_redemptions]
        return hashlib.sha256(repr(terms).encode()).hexdigest()[:32]

    def applies_to(self, plan: Plan) -> bool:
        return self.plan_id is None or self.plan_id == plan.pk

    def redemptions(self) -> int:
        return self.redemption_rows.count()

    def is_open(self, now: datetime | None = None) -> bool:
        """May a reader take it now? (Stripe checks again at Checkout: this is what the page shows.)"""
        now = now or timezone.now()
        if not self.is_active or (self.ends_at and self.ends_at <= now):
            return False
        if self.is_discount and not self.stripe_promotion_code_id:
            return False
        return not (self.max_redemptions and self.redemptions() >= self.max_redemptions)

    def discounted_cents(self, plan: Plan) -> int:
        if self.kind == self.Kind.PERCENT:
            return round(plan.amount_cents * (100 - (self.percent_off or 0)) / 100)
        if self.kind == self.Kind.AMOUNT:
            return max(0, plan.amount_cents - (self.amount_off_cents or 0))
        return plan.amount_cents

    def price_words(self, plan: Plan) -> str:
        """The plan's price under this offer, in words: "$1.00 for your first 4 weeks, then $2.00 every 4 weeks"."""
        count = plan.interval_count
        period = f"{count} {plan.interval}s" if count > 1 else plan.interval
        full = f"{plan.price_display} every {period}"
        if self.kind == self.Kind.TRIAL:
            return f"Free for {self.trial_days} days, then {full}"
        cut = money(self.discounted_cents(plan), plan.currency)
        if self.duration == self.Duration.FOREVER:
            return f"{cut} every {period}, for as long as you subscribe"
        if self.duration == self.Duration.ONCE:
            return f"{cut} for your first {period}, then {full}"
        months = self.duration_in_months or 1
        return f"{cut} every {period} for your first {months} month{'s' if months > 1 else ''}, then {full}"


class OfferRedemption(models.Model):
    """A Checkout completed with an offer's promotion code (one row per Checkout Session)."""

    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="redemption_rows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    stripe_checkout_session_id = models.CharField(max_length=255, unique=True)
    stripe_subscription_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.offer.code} by user {self.user_id}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class GiftSubscription(models.Model):
    class Status(models.TextChoices):
        UNPAID = "unpaid", "Waiting for payment"
        PAID = "paid", "Paid, waiting for its delivery date"
        DELIVERED = "delivered", "Sent to the recipient"
        REDEEMED = "redeemed", "Redeemed"
        REFUNDED = "refunded", "Refunded"

    MONTHS = (3, 6, 12)

    months = models.PositiveSmallIntegerField(choices=[(m, f"{m} months") for m in MONTHS])
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")  # fmt: skip
    buyer_email = models.EmailField()
    buyer_name = models.CharField(max_length=100, blank=True)
    recipient_email = models.EmailField()
    recipient_name = models.CharField(max_length=100, blank=True)
    message = models.TextField(max_length=1000, blank=True)
    deliver_on = models.DateField(default=timezone.localdate)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UNPAID)
    stripe_checkout_session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    # Only a hash of the redeem link's token: a leaked database redeems nothing. Made when the
    # gift is sent (resending makes a new one, and the old link stops working).
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    delivered_at = models.DateTimeField(null=True, blank=True)
    redeemed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="gifts_redeemed")  # fmt: skip
    redeemed_at = models.DateTimeField(null=True, blank=True)
    access = models.OneToOneField(ComplimentaryAccess, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="gift")  # fmt: skip
    refunded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "deliver_on"])]

    def __str__(self) -> str:
        return f"{self.months}-month gift for {self.recipient_email}"

    @property
    def price_display(self) -> str:
        return money(self.amount_cents, self.currency)


class Source(models.TextChoices):
    SEARCH = "search", "Search"
    SOCIAL = "social", "Social"
    NEWSLETTER = "newsletter", "Newsletter"
    GIFT = "gift", "Gift links"
    DIRECT = "direct", "Direct"
    OTHER = "other", "Other sites"


class ReaderOrigin(models.Model):
    """Where an account came from: the source and referring domain of the browser's first visit we
    saw, and the last story a paywall or registration-wall button carried (growth/attribution.py).
    Counts are made from it; nothing of it leaves the site."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="origin")
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.DIRECT)
    referrer_domain = models.CharField(max_length=255, blank=True)
    article = models.ForeignKey("articles.Article", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")  # fmt: skip
    article_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"origin of user {self.user_id}"


class Conversion(models.Model):
    """One sign-up, trial, first payment or gift redemption, credited to the story and source the
    reader came from. Unique per (kind, key): a redelivered webhook or a second save counts nothing."""

    class Kind(models.TextChoices):
        SIGNUP = "signup", "Free sign-up"
        TRIAL = "trial", "Trial started"
        PAID = "paid", "Paid subscription"
        GIFT = "gift", "Gift redeemed"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    key = models.CharField(max_length=255, help_text="The user, subscription or gift it is about.")
    article = models.ForeignKey("articles.Article", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="conversions")  # fmt: skip
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.DIRECT)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")  # fmt: skip
    stripe_subscription_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="conversion_once")]
        indexes = [models.Index(fields=["created_at", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"
