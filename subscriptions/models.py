from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models.functions import SHA256
from django.utils import timezone

from newsroom import versioned_cache


class PlanQuerySet(models.QuerySet):
    def active(self) -> PlanQuerySet:
        return self.filter(is_active=True).order_by("position", "amount_cents")


class Plan(models.Model):
    """What a reader can subscribe to, and the terms it is sold at.

    `amount_cents` is charged every `interval_count` `interval`s. Stripe prices
    are immutable, so the terms only change through billing.plan_change_price
    (the admin calls it), which creates the new Stripe price first; every price
    the plan ever had stays in `prices`, so subscribers on an old price still
    map to their plan. `stripe_price_id` is the price Checkout sells now."""

    class Interval(models.TextChoices):
        WEEK = "week", "week"
        MONTH = "month", "month"
        YEAR = "year", "year"

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    interval = models.CharField(max_length=5, choices=Interval.choices, default=Interval.WEEK)
    interval_count = models.PositiveSmallIntegerField(
        default=1, help_text="Bill every this many intervals, e.g. 4 with week: billed every 4 weeks."
    )
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
        return f"{self.name} ({self.price_label()})"

    @property
    def price_display(self) -> str:
        """What one billing period costs, e.g. "$2.00"."""
        return money(self.amount_cents, self.currency)

    def price_label(self) -> str:
        """The one wording of a plan's price, used by the paywall, the subscribe
        page, the account page and emails: "$24.00/year", or when several
        intervals are billed together "$0.50/week, billed $2.00 every 4 weeks"."""
        headline, billed = self.price_parts()
        return f"{headline}, {billed}" if billed else headline

    def price_parts(self) -> tuple[str, str]:
        """price_label in two parts, for a page that sets them apart. A per-interval figure
        leads only when it is exact ("$0.50/week", "billed $2.00 every 4 weeks"); otherwise
        what is billed leads and the per-interval figure is marked as rounded ("$2.99 every
        4 weeks", "about $0.75 a week"): $2.99 is not four charges of $0.75."""
        count = self.interval_count or 1
        if count == 1:
            return f"{self.price_display}/{self.interval}", ""
        every = f"{self.price_display} every {count} {self.interval}s"
        if self.amount_cents % count:
            return every, f"about {money(round(self.amount_cents / count), self.currency)} a {self.interval}"
        return f"{money(self.amount_cents // count, self.currency)}/{self.interval}", f"billed {every}"

    def yearly_cents(self) -> int:
        """What a year of this plan costs (to state the annual plan's saving)."""
        per_year = {"week": 52, "month": 12, "year": 1}[self.interval] / self.interval_count
        return round(self.amount_cents * per_year)

    def terms(self) -> tuple[int, str, str, int]:
        return (self.amount_cents, self.currency, self.interval, self.interval_count)


# How many of an interval make a month (a year is 52 weeks, as Stripe's MRR counts them).
PER_MONTH = {"day": 365 / 12, "week": 52 / 12, "month": 1, "year": 1 / 12}

# What Stripe refuses (docs.stripe.com/currencies, docs.stripe.com/api/prices): the least it
# charges per currency, in the currency's smallest unit; an interval longer than three years.
MINIMUM_CHARGE = {"usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50, "czk": 1500,
                  "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50, "jpy": 50, "mxn": 1000,
                  "myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200, "sek": 300, "sgd": 50, "thb": 1000}
MAX_INTERVALS = {"week": 156, "month": 36, "year": 3}
MAX_TRIAL_DAYS = 730


def stripe_refusal(*, amount_cents: int, currency: str, interval: str, interval_count: int,
                   trial_days: int) -> dict[str, str]:
    """Why Stripe would refuse to sell these terms, by field (empty when it would not)."""
    problems = {}
    currency = currency.lower()
    if currency not in MINIMUM_CHARGE:
        problems["currency"] = (f"Stripe does not charge in the currency {currency.upper()} here; use one of "
                                f"{', '.join(sorted(MINIMUM_CHARGE))}.")
    elif 0 < amount_cents < MINIMUM_CHARGE[currency]:
        problems["amount_cents"] = (f"Stripe's minimum charge in {currency.upper()} is "
                                    f"{MINIMUM_CHARGE[currency]} (in cents or the currency's smallest unit).")
    if interval_count > MAX_INTERVALS.get(interval, 0):
        problems["interval_count"] = (f"Stripe bills at most every three years "
                                      f"({MAX_INTERVALS.get(interval)} {interval}s).")
    if trial_days > MAX_TRIAL_DAYS:
        problems["trial_days"] = f"Stripe allows a free trial of at most {MAX_TRIAL_DAYS} days."
    return problems


# Currencies Stripe counts in whole units (docs.stripe.com/currencies#zero-decimal): 500 JPY is 500, not 5.00.
ZERO_DECIMAL_CURRENCIES = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()
)


def money(cents: int, currency: str = "usd") -> str:
    """An amount in Stripe's smallest unit of its currency, said the way a reader reads it."""
    currency = currency.lower()
    if currency in ZERO_DECIMAL_CURRENCIES:
        return f"{cents:,} {currency.upper()}"
    if currency == "usd":
        return f"${Decimal(cents) / 100:.2f}"
    return f"{Decimal(cents) / 100:.2f} {currency.upper()}"


class PlanPrice(models.Model):
    """A Stripe price a plan has had. Never deleted: subscriptions made at an
    old price keep billing at it in Stripe, and their events name its id."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="prices")
    stripe_price_id = models.CharField(max_length=255, unique=True)
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    interval = models.CharField(max_length=5, choices=Plan.Interval.choices)
    interval_count = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.stripe_price_id

    def terms(self) -> tuple[int, str, str, int]:
        return (self.amount_cents, self.currency, self.interval, self.interval_count)


class Sha256Hex(SHA256):
    """SHA256 in hex, with PostgreSQL's own sha256() (Django's needs the pgcrypto extension)."""

    def as_postgresql(self, compiler, connection, **extra):
        return models.Func.as_sql(
            self, compiler, connection, template="ENCODE(SHA256(CONVERT_TO(%(expressions)s, 'UTF8')), 'hex')", **extra
        )


def trial_used() -> models.Q:
    """A user filter: has this reader had their free trial — a subscription that got past
    incomplete, or their email (hashed as billing._digest does; kept after account deletion)
    claimed one? Checkout offers no trial to them, and the paywall and subscribe page offer none."""
    from django.db.models.functions import Lower, Trim

    return models.Q(
        models.Exists(Subscription.objects.filter(user=models.OuterRef("pk")).exclude(status=Subscription.Status.INCOMPLETE))
    ) | models.Q(
        models.Exists(TrialClaim.objects.filter(kind=TrialClaim.Kind.EMAIL,
                                                digest=Sha256Hex(Lower(Trim(models.OuterRef("email"))))))
    )


class TrialClaim(models.Model):
    """Who has had a free trial: a hash of a card fingerprint or of an email
    address, and the subscription that used it. No user link, so it outlives
    account deletion (one trial per person, not per account)."""

    class Kind(models.TextChoices):
        CARD = "card", "card fingerprint"
        EMAIL = "email", "email address"

    kind = models.CharField(max_length=5, choices=Kind.choices)
    digest = models.CharField(max_length=64)
    stripe_subscription_id = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "digest"], name="trial_claim_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.digest[:12]}…"


# Retired by any plan's save or delete (articles/receivers.py, before the pages that show it).
PLANS_VERSION = versioned_cache.version_key("subscriptions:plans")


def default_plan() -> Plan | None:
    """The plan the paywall advertises. Kept in the shared cache (it is on every
    paywalled page) while no plan has changed."""

    def load() -> Plan | None:
        return Plan.objects.active().filter(is_default=True).first() or Plan.objects.active().first()

    return versioned_cache.kept("subscriptions:default-plan", PLANS_VERSION, 300, load)


class StripeCustomer(models.Model):
    """One Stripe customer per user, created once (see billing.customer_for)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stripe_customer")
    customer_id = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.customer_id


class SubscriptionQuerySet(models.QuerySet):
    def live(self) -> SubscriptionQuerySet:
        """Subscriptions that can still bill: a second Checkout would double-bill."""
        return self.filter(status__in=Subscription.LIVE_STATUSES)

    def entitling(self) -> SubscriptionQuerySet:
        """Subscriptions that can give access (past due only within the grace period: Subscription.in_grace)."""
        return self.filter(status__in=Subscription.ENTITLING_STATUSES, collection_paused=False)

    def paying(self) -> SubscriptionQuerySet:
        """Subscriptions Stripe collects money for: the dashboard's MRR (trials pay nothing yet)."""
        return self.filter(status__in=(Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE),
                           collection_paused=False)

    def churned(self, since) -> SubscriptionQuerySet:
        """Readers who left since `since`: paid at least once, not ended by the site itself."""
        return self.filter(status=Subscription.Status.CANCELED, canceled_at__gte=since, has_paid=True,
                           ended_by_site__in=("", Subscription.EndedBySite.REFUND, Subscription.EndedBySite.DISPUTE))


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

    class EndedBySite(models.TextChoices):
        DUPLICATE = "duplicate", "a reader's second subscription"
        REPLACED = "replaced", "replaced by a new Checkout (paused or unpaid)"
        REFUND = "refund", "its latest payment was refunded in full"
        DISPUTE = "dispute", "its payment was disputed"

    LIVE_STATUSES = (Status.TRIALING, Status.ACTIVE, Status.PAST_DUE, Status.UNPAID, Status.PAUSED)
    ENTITLING_STATUSES = (Status.TRIALING, Status.ACTIVE, Status.PAST_DUE)
    # After these a subscription can never bill again.
    ENDED_STATUSES = (Status.CANCELED, Status.INCOMPLETE_EXPIRED)

    # NULL once the reader deleted their account: the billing record stays for
    # the publisher's figures and for finding it in Stripe by its ids.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="subscriptions"
    )
    # PROTECT: a plan people subscribed to is deactivated, never deleted.
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.PROTECT, related_name="subscriptions")
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
    # The price the reader pays, as Stripe bills it (billing.sync_subscription records it
    # on every sync). `plan` is None for a price none of our plans ever had: a
    # subscription adopted from the site the newsroom moved from (stripe_adopt) keeps
    # the price its reader chose there.
    stripe_price_id = models.CharField(max_length=255, blank=True)
    amount_cents = models.PositiveIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    interval = models.CharField(max_length=5, blank=True)
    interval_count = models.PositiveSmallIntegerField(null=True, blank=True)
    # Stripe's `pause_collection`: the status stays active, nothing is charged, nothing is read.
    collection_paused = models.BooleanField(default=False)
    # Set once Stripe has shown the subscription active (a period paid): churn counts only these.
    has_paid = models.BooleanField(default=False)
    # Why the site itself ended it ("" when the reader or Stripe did): duplicates and
    # replacements are no reader leaving, so churn leaves them out.
    ended_by_site = models.CharField(max_length=20, blank=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "status"])]

    def __str__(self) -> str:
        return f"{self.user or 'deleted account'} · {self.status}"

    def price_label(self) -> str:
        """What the reader pays, e.g. "$2.00 every 4 weeks" ("" when Stripe has not said)."""
        if self.amount_cents is None:
            return ""
        count = self.interval_count or 1
        every = f"{count} {self.interval}s" if count > 1 else self.interval
        return f"{money(self.amount_cents, self.currency or 'usd')} every {every}".strip()

    def monthly_cents(self) -> float:
        """What this subscription brings in a month at the price it pays (the dashboard's MRR)."""
        amount, interval, count = self.amount_cents, self.interval, self.interval_count
        if amount is None and self.plan is not None:  # not synced since the price was recorded
            amount, interval, count = self.plan.amount_cents, self.plan.interval, self.plan.interval_count
        if amount is None or interval not in PER_MONTH:
            return 0
        return amount * PER_MONTH[interval] / (count or 1)

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


class FeedToken(models.Model):
    """The secret in a reader's private full-text RSS address (subscriptions/private_feeds.py).

    One per reader; replacing it makes a new token, so the old address dies at once."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feed_token")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"feed token of {self.user}"


class MemberProfile(models.Model):
    """What the site a newsroom moved from knew about a reader that has no other home
    here: its staff's labels and note, and where the reader came from. Written by
    `manage.py import_members`, read back out by `export_members` (members/)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="member_profile")
    labels = models.CharField(max_length=500, blank=True, help_text="Comma-separated, as the old site had them.")
    note = models.TextField(blank=True)
    source = models.CharField(max_length=20, blank=True, help_text="ghost, substack or csv")
    source_id = models.CharField(max_length=100, blank=True, help_text="The member's id on the old site.")
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "member profile"

    def __str__(self) -> str:
        return f"member profile of {self.user}"

    def label_list(self) -> list[str]:
        return split_labels(self.labels)


def split_labels(text: str) -> list[str]:
    """"VIP, Press ,, vip" -> ["VIP", "Press"]: trimmed, blanks and repeats (any case) dropped."""
    seen: dict[str, str] = {}
    for label in (text or "").split(","):
        label = label.strip()
        if label and label.lower() not in seen:
            seen[label.lower()] = label
    return list(seen.values())


class PaywallTerms(models.Model):
    """What a reader without a subscription meets: the daily free limit, the paywall box's
    words, the plan it shows first and the free trial it offers. An empty field keeps the
    site's own (settings.FREE_ARTICLES_PER_DAY, the template's words, the default plan, the
    plan's trial days)."""

    free_articles_per_day = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(100)], help_text="Empty: the site's own limit."
    )
    headline = models.CharField(max_length=120, blank=True, help_text="Empty: the usual headline.")
    text = models.CharField(max_length=600, blank=True, help_text="Empty: the usual text. Plain text only.")
    plan_first = models.ForeignKey(
        Plan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The plan the paywall offers. Empty: the default plan.",
    )  # fmt: skip
    trial_days = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(MAX_TRIAL_DAYS)],
        help_text="Free trial days offered and given at Checkout (0: none). Empty: the plan's own.",
    )  # fmt: skip

    TERMS = ("free_articles_per_day", "headline", "text", "plan_first", "trial_days")

    class Meta:
        abstract = True


class PaywallSettings(PaywallTerms):
    """The paywall's terms the site reads (one row). Staff change them in the admin, and
    ending an experiment with a winner writes the winner's terms here."""

    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "paywall settings"

    def __str__(self) -> str:
        return "Paywall settings"


class Experiment(models.Model):
    """A test of two to four sets of paywall terms (subscriptions/experiments.py)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        RUNNING = "running", "Running"
        ENDED = "ended", "Ended"

    class Metric(models.TextChoices):
        TRIAL = "trial", "Trial started"
        PAID = "paid", "Paid subscription"
        SIGNUP = "signup", "Free sign-up"

    name = models.CharField(max_length=120)
    share = models.PositiveSmallIntegerField(
        default=100, validators=[MaxValueValidator(100)],
        help_text="Percent of readers without a subscription who take part; the rest meet the usual terms.",
    )  # fmt: skip
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty: until staff end it.")
    metric = models.CharField(max_length=10, choices=Metric.choices, default=Metric.TRIAL,
                              help_text="What counts as a success.")  # fmt: skip
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    winner = models.ForeignKey("ExperimentVariant", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")  # fmt: skip
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=models.Q(status="running"),
                                    name="one_running_experiment"),  # fmt: skip
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        problems = {}
        if self.ends_at and self.starts_at and self.ends_at <= self.starts_at:
            problems["ends_at"] = "The end must come after the start."
        if self.winner_id and self.pk and self.winner.experiment_id != self.pk:
            problems["winner"] = "The winner must be one of this experiment's variants."
        if self.status == self.Status.RUNNING:
            others = Experiment.objects.filter(status=self.Status.RUNNING).exclude(pk=self.pk)
            if others.exists():
                problems["status"] = f"“{others.first()}” is running: one experiment runs at a time."
        if problems:
            raise ValidationError(problems)


class ExperimentVariant(PaywallTerms):
    """One arm of an experiment: the terms its readers meet."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="variants")
    label = models.CharField(max_length=1, help_text="A, B, C or D.")
    # Paywall views counted where there is no Redis (with Redis: subscriptions/experiments.py).
    paywall_views = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["experiment", "label"]
        constraints = [models.UniqueConstraint(fields=["experiment", "label"], name="experiment_variant_unique")]

    def __str__(self) -> str:
        return f"{self.label}: {self.describe()}"

    def describe(self) -> str:
        """The terms this variant changes, in a few words."""
        parts = []
        if self.free_articles_per_day is not None:
            parts.append(f"{self.free_articles_per_day} free a day")
        if self.headline:
            parts.append(f"“{self.headline}”")
        if self.plan_first_id:
            parts.append(f"plan {self.plan_first}")
        if self.trial_days is not None:
            parts.append(f"{self.trial_days}-day trial")
        return ", ".join(parts) or "the usual terms"


class ExperimentReader(models.Model):
    """A reader the experiment met. Without `user`: a browser the meter counted (its id,
    kept here only where there is no Redis; with Redis the arm's count of readers is a
    HyperLogLog). With `user` ("account:<id>"): an account, recorded at sign-up and log-in
    so a later trial or payment, which has no browser, is credited to the arm it was in."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="readers")
    variant = models.ForeignKey(ExperimentVariant, on_delete=models.CASCADE, related_name="readers")
    reader = models.CharField(max_length=80)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")  # fmt: skip
    joined_at = models.DateTimeField(default=timezone.now)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["experiment", "reader"], name="experiment_reader_unique")]
        indexes = [models.Index(fields=["user", "experiment"])]

    def __str__(self) -> str:
        return f"{self.reader} in {self.variant.label}"
