"""Everything we hold about members, as one CSV (`manage.py export_members`, and the
admin's "Export members (CSV)" button): leaving is as easy as arriving.

The columns are the generic format `import_members --from csv` reads, so an
export can be imported again (into this site or a new one); the subscription
columns are for the reader's new home to match against its Stripe account
(`stripe_adopt` does that here). Members are the active accounts that are not
staff. Rows are streamed from one query, so an export of any size runs in
constant memory.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db.models import Case, Exists, IntegerField, OuterRef, Subquery, Value, When

from newsletter.models import Preference
from subscriptions.models import ComplimentaryAccess, MemberProfile, StripeCustomer, Subscription

COLUMNS = [
    "email", "name", "created_at", "verified", "newsletter", "breaking_news", "labels", "note", "comp_until",
    "stripe_customer_id", "subscription_status", "plan", "price", "stripe_price_id", "current_period_end",
]  # fmt: skip
NOT_OUR_PLAN = "not one of our plans"
_SUBSCRIPTION_FIELDS = ["status", "plan__name", "amount_cents", "currency", "interval", "interval_count",
                        "stripe_price_id", "current_period_end", "plan_id"]  # fmt: skip


def _members():
    best = (
        Subscription.objects.filter(user=OuterRef("pk"))
        .annotate(rank=Case(
            When(status__in=Subscription.ENTITLING_STATUSES, then=Value(0)),
            When(status__in=Subscription.LIVE_STATUSES, then=Value(1)),
            default=Value(2), output_field=IntegerField(),
        ))
        .order_by("rank", "-created_at")
    )  # fmt: skip
    preference = Preference.objects.filter(user=OuterRef("pk"))
    profile = MemberProfile.objects.filter(user=OuterRef("pk"))
    return (
        get_user_model().objects.filter(is_active=True, is_staff=False)
        .annotate(
            verified=Exists(EmailAddress.objects.filter(user=OuterRef("pk"), email__iexact=OuterRef("email"),
                                                        verified=True)),
            digest=Subquery(preference.values("digest")[:1]),
            breaking=Subquery(preference.values("breaking")[:1]),
            labels=Subquery(profile.values("labels")[:1]),
            note=Subquery(profile.values("note")[:1]),
            comp_until=Subquery(ComplimentaryAccess.objects.filter(user=OuterRef("pk")).order_by("-until")
                                .values("until")[:1]),
            customer=Subquery(StripeCustomer.objects.filter(user=OuterRef("pk")).values("customer_id")[:1]),
            **{f"sub_{f}": Subquery(best.values(f)[:1]) for f in _SUBSCRIPTION_FIELDS},
        )
        .order_by("pk")
    )  # fmt: skip


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def _when(value: Any) -> str:
    return value.isoformat() if value else ""


def rows() -> Iterator[list[str]]:
    """The header, then one row per member."""
    yield COLUMNS
    for u in _members().iterator(chunk_size=2000):
        price = Subscription(
            amount_cents=u.sub_amount_cents,
            currency=u.sub_currency or "",
            interval=u.sub_interval or "",
            interval_count=u.sub_interval_count,
        ).price_label()
        plan = u.sub_plan__name or (NOT_OUR_PLAN if u.sub_status and u.sub_stripe_price_id else "")
        yield [
            u.email, u.get_full_name(), _when(u.date_joined), _yes_no(u.verified), _yes_no(u.digest),
            _yes_no(u.breaking), u.labels or "", u.note or "", _when(u.comp_until), u.customer or "",
            u.sub_status or "", plan, price, u.sub_stripe_price_id or "", _when(u.sub_current_period_end),
        ]  # fmt: skip


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def csv_lines() -> Iterator[str]:
    writer = csv.writer(_Echo())
    return (writer.writerow(row) for row in rows())


def write_csv(out: Any) -> int:
    """Write the export to a text file; returns the number of members."""
    writer = csv.writer(out)
    count = -1
    for row in rows():
        writer.writerow(row)
        count += 1
    return count
