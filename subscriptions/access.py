"""May this reader read this article in full? The only place that decides.

Every view and output that can show article text (page, feeds, structured
data, search results, comments, newsletters) asks `decide()` (or
`decide_for_user()` where there is no request, `full_text_filter()` for
search) and shows what the answer allows. Templates never decide. Deciding
never writes.

A metered article for a reader without a subscription is "teaser, unless a
credit opens it" (`decision.needs_credit`). Only the article page spends one,
visibly, at its call site:

    decision = access.decide(request, article)
    if decision.needs_credit:
        decision = access.spend_credit(request, article)
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from datetime import datetime

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Now
from django.http import HttpRequest
from django.utils import timezone

from newsroom import versioned_cache

from . import crawlers, meter
from .models import ComplimentaryAccess, Subscription, trial_used


class Reason(enum.StrEnum):
    FREE_ARTICLE = "free article"
    STAFF = "staff"
    SUBSCRIBER = "subscriber"
    TRIAL = "trial"
    GRACE = "payment grace period"
    COMPLIMENTARY = "complimentary"
    METER_CREDIT = "metered credit used"
    METER_ALREADY_READ = "already read today"
    METER_EXHAUSTED = "meter exhausted"
    CREDIT_NEEDED = "a free-article credit would open it"
    GIFT = "gift"
    VERIFIED_CRAWLER = "verified crawler"
    ADDRESS_LIMIT = "shared address limit"
    SUBSCRIBERS_ONLY = "subscribers only"


ENTITLED = {Reason.STAFF, Reason.SUBSCRIBER, Reason.TRIAL, Reason.GRACE, Reason.COMPLIMENTARY}


@dataclass(frozen=True)
class Entitlement:
    """What a reader's account gives them, independent of any article."""

    reason: Reason | None = None
    subscription_status: str = ""
    payment_failed: bool = False
    until: datetime | None = None
    email_verified: bool = False
    # Had their free trial (models.trial_used): the paywall offers them none.
    trial_used: bool = False

    @property
    def entitled(self) -> bool:
        return self.reason in ENTITLED


@dataclass(frozen=True)
class Decision:
    full: bool
    reason: Reason
    entitlement: Entitlement
    credits_left: int | None = None

    @property
    def show_ads(self) -> bool:
        return not self.entitlement.entitled

    @property
    def paywalled(self) -> bool:
        return not self.full

    @property
    def needs_credit(self) -> bool:
        """Teaser now; spend_credit() may open it in full."""
        return self.reason == Reason.CREDIT_NEEDED


NONE = Entitlement()


@functools.cache
def _account_query():
    """Users annotated with their best live subscription, complimentary access and
    verified email. Built once (resolving the subqueries is costly); filtered per user."""
    best = (
        Subscription.objects.live()
        .filter(user=OuterRef("pk"))
        .annotate(
            # Collection paused: active in Stripe, but paying nothing, so reading nothing.
            shown_status=Case(
                When(collection_paused=True, then=Value(Subscription.Status.PAUSED.value)),
                default=F("status"),
                output_field=CharField(),
            ),
            rank=Case(
                When(collection_paused=True, then=Value(2)),
                When(status=Subscription.Status.ACTIVE, then=Value(0)),
                When(status=Subscription.Status.TRIALING, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            ),
        )
        .order_by("rank", "-created_at")
    )
    return get_user_model().objects.annotate(
        trial_used=ExpressionWrapper(trial_used(), output_field=BooleanField()),
        sub_status=Subquery(best.values("shown_status")[:1]),
        sub_since=Subquery(best.values("past_due_since")[:1]),
        sub_end=Subquery(best.values("current_period_end")[:1]),
        comp_until=Subquery(
            ComplimentaryAccess.objects.filter(user=OuterRef("pk"), until__gt=Now())
            .order_by("-until")
            .values("until")[:1]
        ),
        email_verified=Exists(EmailAddress.objects.filter(user=OuterRef("pk"), verified=True)),
    )


ENTITLEMENT_SECONDS = 600


def _version_key(user_id: int | str) -> str:
    return versioned_cache.version_key(f"entitlement:version:{user_id}")


def forget_entitlement(user_id: int | None) -> None:
    """The user, their subscription, complimentary access or email changed: their
    cached account is stale (now and when the change commits)."""
    if user_id is not None:
        versioned_cache.retire(_version_key(user_id))


def account(user_id: int):
    """The user with what their entitlement is made of annotated on it (sub_status,
    sub_since, sub_end, comp_until, email_verified), or None: how the logged-in
    reader is loaded on every request (auth_backends.py). One query, kept in the
    shared cache until any of them changes (receivers.py calls forget_entitlement),
    so a subscriber's page needs no query."""

    def load():  # the query is built only when the account is not kept (about 20 µs)
        return _account_query().filter(pk=user_id).first()

    return versioned_cache.kept(f"account:{user_id}", _version_key(user_id), ENTITLEMENT_SECONDS, load)


def _user_entitlement(user) -> Entitlement:
    if user.is_staff:
        return Entitlement(reason=Reason.STAFF, email_verified=True)
    now = timezone.now()
    # The logged-in reader comes annotated (account()); a user from elsewhere (a job, a form) is looked up.
    row = user if hasattr(user, "sub_status") else account(user.pk)
    if row is None:
        return NONE
    status = row.sub_status or ""
    verified = row.email_verified
    if status == Subscription.Status.ACTIVE:
        return Entitlement(Reason.SUBSCRIBER, status, until=row.sub_end, email_verified=verified)
    if status == Subscription.Status.TRIALING:
        return Entitlement(Reason.TRIAL, status, until=row.sub_end, email_verified=verified)
    if status == Subscription.Status.PAST_DUE:
        if Subscription(status=status, past_due_since=row.sub_since).in_grace(now):
            return Entitlement(Reason.GRACE, status, payment_failed=True, email_verified=verified)
    if row.comp_until and row.comp_until > now:  # the row may be older than the clock
        return Entitlement(Reason.COMPLIMENTARY, until=row.comp_until, email_verified=verified)
    return Entitlement(
        subscription_status=status, payment_failed=status == Subscription.Status.PAST_DUE, email_verified=verified,
        trial_used=bool(getattr(row, "trial_used", False)),
    )


def entitlement(request: HttpRequest) -> Entitlement:
    """The reader's entitlement, computed once per request."""
    cached = getattr(request, "_entitlement", None)
    if cached is not None:
        return cached
    result = user_entitlement(getattr(request, "user", None))
    request._entitlement = result  # type: ignore[attr-defined]
    return result


def reload(request: HttpRequest) -> None:
    """The reader's account changed during this request (checkout fulfilled): load it
    again, so what this request shows from here on follows the change."""
    request.user = account(request.user.pk)
    request.__dict__.pop("_entitlement", None)


def _decide(ent: Entitlement, article) -> Decision:
    if article.access == article.Access.FREE:
        return Decision(full=True, reason=Reason.FREE_ARTICLE, entitlement=ent)
    if ent.entitled:
        return Decision(full=True, reason=ent.reason, entitlement=ent)  # type: ignore[arg-type]
    if article.access == article.Access.SUBSCRIBERS:
        return Decision(full=False, reason=Reason.SUBSCRIBERS_ONLY, entitlement=ent)
    return Decision(full=False, reason=Reason.CREDIT_NEEDED, entitlement=ent)


def may_give_gifts(user) -> bool:
    """Gift links are made, and keep working, only while their giver may read everything."""
    return user.is_active and user_entitlement(user).entitled


def decide(request: HttpRequest, article, *, gift_from=None) -> Decision:
    """What this reader may see of this article, and why. Writes nothing: a
    metered article the reader has no subscription for comes back as a teaser
    that `needs_credit`.

    `gift_from` is the giver of a live gift link for this article that the
    request carries (articles/gifts.py finds it): it opens the article, without
    a credit, while the giver may still read everything. A Googlebot/Bingbot
    whose address DNS confirms (crawlers.py) reads it too, with CRAWLER_FULL_TEXT on."""
    decision = _decide(entitlement(request), article)
    if decision.full:
        return decision
    if gift_from is not None and may_give_gifts(gift_from):
        return Decision(full=True, reason=Reason.GIFT, entitlement=decision.entitlement)
    if settings.CRAWLER_FULL_TEXT and crawlers.is_verified(request):
        return Decision(full=True, reason=Reason.VERIFIED_CRAWLER, entitlement=decision.entitlement)
    return decision


def decide_for_user(user, article) -> Decision:
    """decide() without a request (newsletters, jobs); None or an anonymous user is anyone."""
    return _decide(user_entitlement(user), article)


def spend_credit(request: HttpRequest, article, spent: meter.MeterResult | None = None) -> Decision:
    """WRITES: opens a metered article with one of the reader's free articles
    for today, if any is left (re-reading one already opened today is free).
    Call it once per page view that shows the article, after decide() said
    `needs_credit`; the meter keeps it exact under concurrency. `spent`: the
    meter's answer if this view already had it (articles/page_cache.anonymous_page)."""
    ent = entitlement(request)
    result = spent or meter.consume(request, article.pk)
    if not result.granted:
        # The reader may have credits of their own: it is their address's backstop that refused.
        reason = Reason.ADDRESS_LIMIT if result.by_ip_backstop else Reason.METER_EXHAUSTED
        return Decision(full=False, reason=reason, entitlement=ent, credits_left=0)
    reason = Reason.METER_ALREADY_READ if result.already_read else Reason.METER_CREDIT
    return Decision(full=True, reason=reason, entitlement=ent, credits_left=result.remaining)


def full_text_filter(request: HttpRequest, model) -> Q:
    """Which articles' full text this reader may search, as a filter on `model` (Article).

    A search result is a yes/no answer about the text it matched, so a reader may
    match an article by its full text only where they may read that text without
    spending anything: every article for readers entitled to everything (staff,
    subscribers), only free articles for everyone else. A metered article costs a
    credit to read, a subscribers-only one is not theirs: those match by their
    public text (headline, summary, teaser) alone. An empty Q() means "all".
    """
    if entitlement(request).entitled:
        return Q()
    return Q(access=model.Access.FREE)


def visible_html(article, decision: Decision) -> str:
    """The only HTML of the body a page may show for this decision."""
    return article.body_html if decision.full else article.teaser_html


def redact(article, decision: Decision) -> None:
    """Strip the paid text off the instance so no template can print it by mistake."""
    if not decision.full:
        article.body = ""
        article.body_html = article.teaser_html


def can_comment(request: HttpRequest) -> bool:
    """Comments are for logged-in subscribers (and staff) with a verified email."""
    return may_comment(entitlement(request))


def may_comment(ent: Entitlement) -> bool:
    """can_comment() for an entitlement already known."""
    return ent.entitled and ent.email_verified


def user_entitlement(user) -> Entitlement:
    """The account's entitlement without a request (emails, jobs)."""
    return _user_entitlement(user) if user is not None and user.is_authenticated else NONE


def may_read_in_full(ent: Entitlement, article) -> bool:
    """Pure: the full text without spending a meter credit — free articles, or an
    entitled reader. What an email or any other channel without a page view may show."""
    return _decide(ent, article).full
