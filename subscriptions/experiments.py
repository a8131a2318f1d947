"""Paywall experiments: which terms a reader without a subscription meets, and what came of it.

The terms are the daily free limit, the paywall box's headline and text, the plan it
offers and the free trial's length (models.PaywallTerms). The site's own are
PaywallSettings (staff edit them; an experiment's winner is written there), over
settings.FREE_ARTICLES_PER_DAY and the template's words. `terms(request)` is the one
place that says which terms a request gets: the meter's limit, the paywall box, the
page cache's key and Checkout's trial all follow it.

Assignment. One experiment runs at a time (a database constraint). A reader takes
part when a hash of the browser's meter id (the `reader` cookie the meter follows;
an account without one: its id) and the experiment's id falls inside the
experiment's share; the same hash picks the arm. Nothing is stored per reader to
decide it, so it is the same on every page, logged in or out, in every worker.
Search engines and other crawlers (by their claim alone: they must see what any
reader sees), staff and readers whose account opens everything never take part.

Counting, cheap on the article path. With Redis the meter's own Lua function counts
an arm's readers (a HyperLogLog of the reader keys it was called for: about 0.8%
error, 12 kB an arm) and the paywalls it refused, in the call it makes anyway; without
Redis (a first local run) they are ExperimentReader rows and a column. Successes
are ExperimentReader rows of accounts: an account is put in its browser's arm when
it signs up or logs in during the experiment, and a trial or a paid subscription
(webhooks.py) or the sign-up itself marks it, once.

Statistics: see `verdict()` and docs/paywall.md — an always-valid sequential test
(mSPRT), so looking every day does not make a false winner more likely than stated.
"""

from __future__ import annotations

import copy
import hashlib
import math
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from allauth.account.signals import user_signed_up
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, F, Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from newsroom import versioned_cache

from . import counters, crawlers, meter
from .models import Experiment, ExperimentReader, ExperimentVariant, PaywallSettings, PaywallTerms, Plan

# -- Terms -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Terms:
    """The terms one reader meets. `name` says them in the page cache's keys: two
    requests with the same name get the same page. A term left empty (None) is the
    site's setting, read when used (FREE_ARTICLES_PER_DAY, the plan's trial)."""

    free_articles: int | None = None
    headline: str = ""
    text: str = ""
    plan_id: int | None = None
    trial_days: int | None = None
    experiment_id: int | None = None
    variant_id: int | None = None
    label: str = ""
    digest: str = field(default="", compare=False)

    @property
    def free_per_day(self) -> int:
        return settings.FREE_ARTICLES_PER_DAY if self.free_articles is None else self.free_articles

    @property
    def name(self) -> str:
        return f"{self.digest}:{self.free_per_day}"

    def daily_limit(self, *, logged_in: bool) -> int:
        """A logged-in reader keeps the registration wall's extra articles on top."""
        return self.free_per_day + (self.registration_extra if logged_in else 0)

    @property
    def registration_extra(self) -> int:
        return max(0, settings.FREE_ARTICLES_PER_DAY_REGISTERED - settings.FREE_ARTICLES_PER_DAY)

    def offered_trial_days(self, plan: Plan | None) -> int:
        """The free trial offered with `plan` on these terms."""
        if self.trial_days is not None:
            return self.trial_days
        return plan.trial_days if plan is not None else 0



def _terms(row: PaywallTerms, over: Terms, **extra) -> Terms:
    """`row`'s terms, each empty one taken from `over`."""
    values = {
        "free_articles": over.free_articles if row.free_articles_per_day is None else row.free_articles_per_day,
        "headline": row.headline or over.headline,
        "text": row.text or over.text,
        "plan_id": row.plan_first_id or over.plan_id,
        "trial_days": over.trial_days if row.trial_days is None else row.trial_days,
        **extra,
    }
    return Terms(**values, digest=hashlib.blake2b(repr(sorted(values.items())).encode(), digest_size=8).hexdigest())


@dataclass(frozen=True)
class Running:
    experiment_id: int
    share: int
    starts_at: datetime
    ends_at: datetime | None
    arms: tuple[Terms, ...]

    def live(self, now: datetime) -> bool:
        return self.starts_at <= now and (self.ends_at is None or now < self.ends_at)


@dataclass(frozen=True)
class State:
    site: Terms
    running: Running | None


# Each worker keeps the terms it read this long, then asks the shared cache whether they
# changed (one small GET): a change reaches every worker within it.
LOCAL_SECONDS = 15
# A token that every save of the terms or of an experiment replaces (the receivers at the end
# of this module): while it equals a worker's, that worker's copy is current.
_VERSION_KEY = versioned_cache.version_key("paywall-terms:version")  # every release's: a change reaches both
_local: tuple[float, str, State] | None = None


def _load() -> State:
    row = PaywallSettings.objects.first() or PaywallSettings()
    site = _terms(row, Terms())
    experiment = Experiment.objects.filter(status=Experiment.Status.RUNNING).first()
    if experiment is None:
        return State(site, None)
    arms = tuple(
        _terms(v, site, experiment_id=experiment.pk, variant_id=v.pk, label=v.label)
        for v in experiment.variants.order_by("label")
    )
    running = Running(experiment.pk, experiment.share, experiment.starts_at, experiment.ends_at, arms)
    return State(site, running if len(arms) >= 2 else None)


def state() -> State:
    """The site's terms and the running experiment, from this worker's memory: no query on
    a page. Every LOCAL_SECONDS the shared cache's version token says whether a save
    replaced them (then they are read from the database again). A token the cache lost
    (flushed, restarted) is put back as this worker's: nothing to read again."""
    global _local
    now = time.monotonic()
    if _local is not None and now - _local[0] < LOCAL_SECONDS:
        return _local[2]
    version = cache.get(_VERSION_KEY)
    if _local is not None and version in (None, _local[1]):
        if version is None:
            cache.add(_VERSION_KEY, _local[1], None)
        _local = (now, _local[1], _local[2])
        return _local[2]
    if version is None:
        version = uuid.uuid4().hex
        cache.add(_VERSION_KEY, version, None)
    loaded = _load()
    _local = (now, version, loaded)
    return loaded


def forget() -> None:
    """The terms or an experiment changed: every worker reads them again (now, and when
    the change commits: a worker may have read the old rows in between)."""

    def again() -> None:
        global _local
        _local = None
        cache.set(_VERSION_KEY, uuid.uuid4().hex, None)

    again()
    transaction.on_commit(again)


def bucket(reader_id: str, experiment_id: int) -> int:
    """A number fixed for this reader and experiment, evenly spread."""
    digest = hashlib.blake2b(f"{experiment_id}:{reader_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def assign(reader_id: str, running: Running) -> Terms | None:
    """The arm this reader is in, or None outside the experiment's share."""
    number = bucket(reader_id, running.experiment_id)
    if number % 100 >= running.share:
        return None
    return running.arms[(number // 100) % len(running.arms)]


def _browser_id(request: HttpRequest) -> str | None:
    """The identifier the meter follows this browser by: its cookie id (minted by the
    meter for a new reader), else a logged-in reader's account."""
    anon = getattr(request, "_meter_anon_id", None) or meter.anonymous_id(request)
    if anon:
        return f"a:{anon}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"u:{user.pk}"
    return None


def _may_take_part(request: HttpRequest) -> bool:
    if crawlers.claimed_crawler(request) is not None:
        return False
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return True
    from . import access  # access asks the meter, which asks this module: imported when needed

    return not user.is_staff and not access.entitlement(request).entitled


_ON_REQUEST = "_paywall_terms"


def terms(request: HttpRequest) -> Terms:
    """The terms this request's reader meets — the one place that says. Decided once
    per request (so the meter, the page and its cache key always agree)."""
    found = request.__dict__.get(_ON_REQUEST)
    if found is not None:
        return found
    current = state()
    chosen = current.site
    running = current.running
    if running is not None and running.live(timezone.now()) and _may_take_part(request):
        reader = _browser_id(request)
        chosen = (reader and assign(reader, running)) or current.site
    request.__dict__[_ON_REQUEST] = chosen
    return chosen


def plan_offered(terms_: Terms) -> Plan | None:
    """The plan the paywall offers on these terms (the default plan unless they name one), with
    the trial they offer as its `trial_days`: a copy for showing, never saved."""
    from .models import default_plan

    plan = None
    if terms_.plan_id is not None:
        plan = Plan.objects.filter(pk=terms_.plan_id, is_active=True).first()
    plan = plan or default_plan()
    if plan is None:
        return None
    shown = copy.copy(plan)
    shown.trial_days = terms_.offered_trial_days(plan)
    return shown


def _account_arm(user) -> Terms | None:
    """The arm of the running experiment this account was put in (at sign-up, log-in or
    Checkout), if any."""
    running = state().running
    if running is None or user is None or not user.is_authenticated:
        return None
    variant_id = (
        ExperimentReader.objects.filter(experiment_id=running.experiment_id, user=user)
        .values_list("variant_id", flat=True)
        .first()
    )
    return next((arm for arm in running.arms if arm.variant_id == variant_id), None)


def trial_days_for(user, plan: Plan) -> int:
    """The free trial Checkout gives this account with `plan`: its arm's, when the account
    is in the running experiment, else the site's terms'. (views.checkout puts an account
    that is not in it yet into its browser's arm first: `join`.)"""
    return (_account_arm(user) or state().site).offered_trial_days(plan)


def trial_offered(request: HttpRequest, plan: Plan) -> int:
    """The free trial the subscribe page promises this reader with `plan`, the one Checkout
    will give: an account already in the experiment keeps its arm's; anyone else is shown
    their browser's arm's (which `join` makes the account's at Checkout)."""
    arm = _account_arm(getattr(request, "user", None)) or terms(request)
    return arm.offered_trial_days(plan)


def join(request: HttpRequest) -> None:
    """A logged-in reader starting Checkout takes part in the arm their browser is in, if
    their account is in none yet (an account logged in before the experiment began): the
    trial Checkout gives is the one the subscribe page showed, and a success counts."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and state().running is not None:
        _account_joins(request, user, succeeded=False)


# -- Counting ----------------------------------------------------------------------------


def counted_as(request: HttpRequest, arm: Terms) -> tuple[str, str]:
    """For the meter's Lua function: the arm's Redis keys' stem and the reader's id in its
    count of readers ("", "" outside an experiment: nothing to count)."""
    if arm.variant_id is None:
        return "", ""
    return counters.key("experiment", arm.experiment_id, arm.label), _browser_id(request) or ""


def count_in_database(request: HttpRequest, reader: str, refused: bool) -> None:
    """Where the meter counts in the database: this reader met their arm, and maybe its paywall.
    (In Redis the meter's Lua function counts both in its own call: meter.CONSUME_FUNCTION.)"""
    arm = terms(request)
    if arm.variant_id is None:
        return
    ExperimentReader.objects.bulk_create(
        [ExperimentReader(experiment_id=arm.experiment_id, variant_id=arm.variant_id, reader=_browser_id(request)
                          or reader)],  # fmt: skip
        ignore_conflicts=True,
    )
    if refused:
        ExperimentVariant.objects.filter(pk=arm.variant_id).update(paywall_views=F("paywall_views") + 1)


def _account_joins(request: HttpRequest, user, *, succeeded: bool) -> None:
    """Put the account in the arm its browser is in (the first arm it was seen in stays)."""
    if request is None or user is None:
        return
    request.__dict__.pop(_ON_REQUEST, None)  # decided again, now with the account
    arm = terms(request)
    if arm.variant_id is None:
        return
    row, _ = ExperimentReader.objects.get_or_create(
        experiment_id=arm.experiment_id,
        reader=f"account:{user.pk}",
        defaults={"variant_id": arm.variant_id, "user": user},
    )
    if succeeded:
        _succeed(Q(pk=row.pk, experiment__metric=Experiment.Metric.SIGNUP))


def _succeed(rows: Q) -> int:
    """Mark these accounts' success, once: a conditional update, exact under redelivery."""
    running = Q(experiment__status=Experiment.Status.RUNNING, succeeded_at__isnull=True)
    return ExperimentReader.objects.filter(rows & running).update(succeeded_at=timezone.now())


def count_success(subscription) -> None:
    """A subscription was written from Stripe (webhooks.py): a trial or a payment in the
    running experiment counts for the arm its reader's account is in, once."""
    if subscription is None or subscription.user_id is None:
        return
    mine = Q(user_id=subscription.user_id, joined_at__lte=subscription.created_at)
    if subscription.trial_end is not None or subscription.status == subscription.Status.TRIALING:
        _succeed(mine & Q(experiment__metric=Experiment.Metric.TRIAL))
    if subscription.has_paid:
        _succeed(mine & Q(experiment__metric=Experiment.Metric.PAID))


@receiver(user_signed_up)
def _on_sign_up(sender, request, user, **kwargs) -> None:
    _account_joins(request, user, succeeded=True)


@receiver(user_logged_in)
def _on_log_in(sender, request, user, **kwargs) -> None:
    _account_joins(request, user, succeeded=False)


@receiver([post_save, post_delete], sender=PaywallSettings)
@receiver([post_save, post_delete], sender=Experiment)
@receiver([post_save, post_delete], sender=ExperimentVariant)
@receiver([post_save, post_delete], sender=Plan)
def _terms_changed(sender, **kwargs) -> None:
    forget()


# -- Staff's actions ---------------------------------------------------------------------


def experiment_end(*, experiment: Experiment, winner: ExperimentVariant | None) -> None:
    """End the experiment. With a winner, its terms become the site's: each term the
    winning arm sets is written to PaywallSettings (the others stay as they were)."""
    if winner is not None and winner.experiment_id != experiment.pk:
        raise ValueError("The winner must be one of this experiment's arms.")
    with transaction.atomic():
        experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
        if winner is not None:
            site = PaywallSettings.objects.select_for_update().first() or PaywallSettings()
            for name in PaywallTerms.TERMS:
                value = getattr(winner, name)
                if value not in (None, ""):
                    setattr(site, name, value)
            site.save()
        experiment.status = Experiment.Status.ENDED
        experiment.winner = winner
        experiment.ends_at = min(experiment.ends_at or timezone.now(), timezone.now())
        experiment.save()


# -- Results -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ArmResult:
    label: str
    describe: str
    readers: int
    paywall_views: int
    successes: int

    @property
    def rate(self) -> float:
        return self.successes / self.readers if self.readers else 0.0

    @property
    def rate_label(self) -> str:
        return f"{100 * self.rate:.1f}%" if self.readers else "—"


def results(experiment: Experiment) -> list[ArmResult]:
    """Readers, paywall views and successes per arm, from wherever they are counted."""
    variants = list(
        experiment.variants.annotate(
            n_readers=Count("readers", filter=Q(readers__user__isnull=True)),
            n_successes=Count("readers", filter=Q(readers__succeeded_at__isnull=False)),
        ).order_by("label")
    )
    redis_readers: list[int] = [0] * len(variants)
    redis_views: list[int] = [0] * len(variants)
    if counters.in_redis():
        stems = [counters.key("experiment", experiment.pk, v.label) for v in variants]
        try:
            client = counters.client()
            with client.pipeline(transaction=False) as pipe:
                for stem in stems:
                    pipe.pfcount(stem + ":readers").get(stem + ":paywall")
                answers = pipe.execute()
            redis_readers = [int(n) for n in answers[0::2]]
            redis_views = [int(n or 0) for n in answers[1::2]]
        except counters.UNREACHABLE:
            pass
    return [
        ArmResult(v.label, v.describe(), v.n_readers + r, v.paywall_views + w, v.n_successes)
        for v, r, w in zip(variants, redis_readers, redis_views, strict=True)
    ]


def forget_counts(experiment_id: int, labels: list[str]) -> None:
    """An experiment is deleted: its Redis counts go with it."""
    if counters.in_redis():
        stems = [counters.key("experiment", experiment_id, label) for label in labels]
        try:
            counters.client().delete(*(stem + suffix for stem in stems for suffix in (":readers", ":paywall")))
        except counters.UNREACHABLE:
            pass


# -- Statistics --------------------------------------------------------------------------
#
# An always-valid sequential test: the mixture sequential probability ratio test (mSPRT,
# Johari, Pekelis and Walsh, "Always Valid Inference", 2017 — what Optimizely's Stats
# Engine runs), for the difference of two conversion rates with the normal approximation.
# For the difference d = rate(arm) - rate(A), with V its estimated variance and a normal
# mixture of width TAU over alternatives, the test's likelihood ratio against "no
# difference" is  sqrt(V / (V + TAU²)) · exp(TAU² d² / (2 V (V + TAU²))).  The chance it
# EVER reaches 1/alpha when there is no difference is at most alpha, however often it is
# looked at. Its confidence sequence (the set of differences not yet rejected) gives
# "no difference larger than X". Arms B, C, D are each compared with A at
# alpha / (arms - 1) (Bonferroni), so the whole experiment's false-winner rate stays at alpha.

ALPHA = 0.05
TAU = 0.02  # the size of difference the test is tuned to find fastest: 2 percentage points
# Below these the normal approximation is too rough to trust: no verdict at all.
MIN_READERS = 200
MIN_SUCCESSES = 10


@dataclass(frozen=True)
class Comparison:
    label: str
    difference: float  # rate(arm) - rate(A)
    low: float
    high: float

    @property
    def better(self) -> bool:
        return self.low > 0

    @property
    def worse(self) -> bool:
        return self.high < 0


def compare(
    a: tuple[int, int], b: tuple[int, int], alpha: float = ALPHA, tau: float = TAU
) -> tuple[float, float, float]:
    """(difference, low, high): b's rate minus a's, with its always-valid (1 - alpha)
    confidence interval. `a` and `b` are (readers, successes)."""
    (na, sa), (nb, sb) = a, b
    pa, pb = sa / na, sb / nb
    # Each rate's variance, never quite zero (no successes yet is not certainty).
    va = max(pa * (1 - pa), 1 / na) / na
    vb = max(pb * (1 - pb), 1 / nb) / nb
    v, t2 = va + vb, tau * tau
    half = math.sqrt(v * (v + t2) / t2 * (2 * math.log(1 / alpha) + math.log((v + t2) / v)))
    d = pb - pa
    return d, d - half, d + half


def comparisons(arms: list[tuple[str, int, int]], alpha: float = ALPHA) -> list[Comparison] | None:
    """Each arm after the first against the first, or None while any arm is too small to judge.
    `arms`: (label, readers, successes)."""
    if len(arms) < 2 or any(n < MIN_READERS for _, n, _ in arms):
        return None
    if sum(s for _, _, s in arms) < MIN_SUCCESSES:
        return None
    base = arms[0]
    each = alpha / (len(arms) - 1)
    return [Comparison(label, *compare(base[1:], (n, s), each)) for label, n, s in arms[1:]]


def verdict(arms: list[tuple[str, int, int]], alpha: float = ALPHA) -> tuple[str, str | None]:
    """A plain sentence on the arms so far, and the winning label when there is one."""
    found = comparisons(arms, alpha)
    confidence = f"{100 * (1 - alpha):.0f}%"
    if found is None:
        return "Not enough readers yet: keep the experiment running.", None
    base = arms[0][0]
    better = [c for c in found if c.better]
    if better:
        best = max(better, key=lambda c: c.difference)
        return (f"{best.label} is better than {base} with {confidence} confidence "
                f"(by {_points(best.low)} to {_points(best.high)}).", best.label)  # fmt: skip
    if all(c.worse for c in found):
        return f"{base} is better than every other arm with {confidence} confidence.", base
    worse = [c.label for c in found if c.worse]
    widest = max(max(abs(c.low), abs(c.high)) for c in found)
    sentence = f"No difference larger than {_points(widest, signed=False)} between {base} and the other arms so far."
    if worse:
        sentence += f" {', '.join(worse)} {'is' if len(worse) == 1 else 'are'} worse than {base}."
    return sentence, None


def _points(rate: float, *, signed: bool = True) -> str:
    return f"{100 * rate:+.1f} points" if signed else f"{100 * abs(rate):.1f} points"
