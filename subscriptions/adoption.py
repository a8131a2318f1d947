"""Taking on the subscriptions a newsroom's Stripe account already bills (`manage.py stripe_adopt`).

A newsroom moving in from Ghost or Substack keeps its Stripe account: its paying
readers go on being charged there. Until their subscriptions are ours, the webhook
ignores them ("unknown customer") and the readers get no access. Adoption walks
the account's customers and subscriptions and gives each subscription to its reader:

* by the Stripe customer `import_members` recorded for them (StripeCustomer), else
* by the customer's email: case-insensitive, to exactly one reader whose address
  is verified. An unverified address may be anyone's sign-up, so it is reported,
  never trusted with someone else's subscription; so is an email that several
  Stripe customers, or several readers, share. Nothing is guessed.

A subscription whose metadata names another site (`site` is not STRIPE_SITE_ID)
is left alone. One on a price none of our plans has had is adopted as it is: its
reader keeps paying what they chose. Adopting records the subscription exactly
as a webhook would (billing.adopt_subscription -> sync_subscription, same locks),
so the reader's cached entitlement is retired (receivers.py) and their next page
is in full; later webhooks for it find a subscription we know. Safe to run again:
a subscription already ours is counted and left to the webhooks and reconcile.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db.models import Q

from . import billing
from .models import StripeCustomer, Subscription


@dataclass
class AdoptionReport:
    seen: int = 0
    adopted: int = 0
    by_customer_id: int = 0
    by_email: int = 0
    not_our_plans: int = 0
    already_ours: int = 0
    other_site: int = 0
    unmatched: int = 0
    ended_unmatched: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self, *, dry_run: bool) -> str:
        verb = "would adopt" if dry_run else "adopted"
        return (
            f"{self.seen} Stripe subscriptions seen: {verb} {self.adopted} "
            f"({self.by_customer_id} by customer id, {self.by_email} by email; "
            f"{self.not_our_plans} on prices that are not one of our plans), {self.already_ours} already ours, "
            f"{self.other_site} of another site skipped, {self.unmatched} not matched to a reader "
            f"(and {self.ended_unmatched} ended ones of unknown customers)"
        )


def _readers_by_email(email: str) -> list:
    """Readers whose account (or any of its addresses) is `email`, in any case."""
    has_address = EmailAddress.objects.filter(email__iexact=email).values("user_id")
    return list(get_user_model().objects.filter(Q(email__iexact=email) | Q(pk__in=has_address)).distinct()[:3])


def _match(customer_id: str, email: str, emails_seen: Counter) -> tuple[Any, str, str]:
    """(reader, how, why not): the reader a subscription's customer belongs to, or why none is."""
    linked = StripeCustomer.objects.filter(customer_id=customer_id).select_related("user").first()
    if linked is not None:
        return linked.user, "customer id", ""
    if not email:
        return None, "", f"customer {customer_id} has no email and no reader is linked to it"
    if emails_seen[email] > 1:
        return None, "", f"{emails_seen[email]} Stripe customers share the email {email}: ambiguous, not adopted"
    readers = _readers_by_email(email)
    if not readers:
        return None, "", f"no reader has the email {email} (customer {customer_id})"
    if len(readers) > 1:
        return None, "", f"several readers have the email {email}: ambiguous, not adopted"
    (reader,) = readers
    if not EmailAddress.objects.filter(user=reader, email__iexact=email, verified=True).exists():
        return None, "", (f"the reader with {email} has not verified it: not adopted (once they confirm it, run again)")
    return reader, "email", ""


def adopt_all(*, dry_run: bool, say: Callable[[str], None] = lambda line: None) -> AdoptionReport:
    """Walk the Stripe account and adopt what is ours to adopt; `say` gets a line per
    subscription adopted (or that would be) and per problem."""
    report = AdoptionReport()
    site = billing.site_id()
    emails: dict[str, str] = {}  # customer id -> lower-cased email
    emails_seen: Counter[str] = Counter()
    for customer in billing.all_customers():
        if customer.get("deleted"):
            continue
        email = (customer.get("email") or "").strip().lower()
        emails[customer["id"]] = email
        if email:
            emails_seen[email] += 1
    for stripe_sub in billing.all_subscriptions():
        report.seen += 1
        sub_id = stripe_sub["id"]
        if (owner := billing.subscription_site(stripe_sub)) and owner != site:
            report.other_site += 1
            say(f"skipped {sub_id}: its metadata says it belongs to {owner!r}, this site is {site!r}")
            continue
        if Subscription.objects.filter(stripe_subscription_id=sub_id).exists():
            report.already_ours += 1
            continue
        customer_id = billing._id(stripe_sub.get("customer")) or ""
        reader, how, why_not = _match(customer_id, emails.get(customer_id, ""), emails_seen)
        if reader is None:
            if stripe_sub["status"] in Subscription.ENDED_STATUSES:
                report.ended_unmatched += 1
                continue
            report.unmatched += 1
            report.problems.append(f"{sub_id} ({stripe_sub['status']}): {why_not}")
            say(f"not adopted {sub_id} ({stripe_sub['status']}): {why_not}")
            continue
        ours = billing._plan_for_price(billing._price_id(stripe_sub)) is not None
        other = StripeCustomer.objects.filter(user=reader).exclude(customer_id=customer_id).first()
        if other is not None:
            report.problems.append(
                f"{sub_id}: {reader.email} is already linked to customer {other.customer_id}; the subscription "
                f"(customer {customer_id}) is adopted, but the billing portal opens {other.customer_id}"
            )
        if not dry_run:
            billing.adopt_subscription(stripe_sub, user=reader)
        report.adopted += 1
        report.by_customer_id += how == "customer id"
        report.by_email += how == "email"
        report.not_our_plans += not ours
        plan_note = "" if ours else ", on a price that is not one of our plans"
        say(
            f"{'would adopt' if dry_run else 'adopted'} {sub_id} ({stripe_sub['status']}{plan_note}) "
            f"for {reader.email}, matched by {how}"
        )
    return report
