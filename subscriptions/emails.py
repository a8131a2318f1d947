"""Billing emails, sent through Django's mail setup (the same one allauth uses)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .models import Subscription

log = logging.getLogger(__name__)


def price_of(sub: Subscription) -> str:
    """What this reader is billed, as Stripe bills their subscription (recorded on every sync),
    not the plan's current price: after a price change the two differ, and the reader keeps
    paying what they signed up for. The plan's wording only while Stripe has not said."""
    return sub.price_label() or (sub.plan.price_label() if sub.plan else "")


def _send(name: str, sub: Subscription, **extra: Any) -> None:
    email = sub.user.email
    if not email:
        return
    site = getattr(settings, "SITE_URL", "").rstrip("/")
    context = {"sub": sub, "user": sub.user, "SITE_NAME": settings.SITE_NAME, "price": price_of(sub),
               "account_url": site + reverse("subscriptions:account"), **extra}
    subject = render_to_string(f"subscriptions/email/{name}_subject.txt", context).strip()
    body = render_to_string(f"subscriptions/email/{name}_message.txt", context)
    try:
        send_mail(f"[{settings.SITE_NAME}] {subject}", body, settings.DEFAULT_FROM_EMAIL, [email])
    except Exception:  # a mail outage must not turn a processed webhook into a retry loop
        log.exception("could not send %s email to user %s", name, sub.user_id)


def welcome(sub: Subscription) -> None:
    _send("welcome", sub)


def trial_ending(sub: Subscription) -> None:
    _send("trial_ending", sub)


def _grace_until(sub: Subscription) -> datetime | None:
    """When a past-due reader's full access stops (None when it has stopped already, or the
    subscription is not past due): Stripe retries for weeks, but access lasts only the grace
    period (Subscription.in_grace, as access.py decides), so a retry's email after it must
    not promise reading on."""
    if not sub.in_grace(timezone.now()) or sub.past_due_since is None:
        return None
    return sub.past_due_since + timedelta(days=settings.PAST_DUE_GRACE_DAYS)


def payment_failed(sub: Subscription) -> None:
    _send("payment_failed", sub, grace_until=_grace_until(sub))


def payment_action_required(sub: Subscription, url: str) -> None:
    """A renewal waits for the card holder to confirm it with their bank: the link to do it."""
    _send("payment_action_required", sub, pay_url=url, grace_until=_grace_until(sub))


def duplicate_canceled(sub: Subscription) -> None:
    _send("duplicate_canceled", sub)


def trial_refused(sub: Subscription) -> None:
    _send("trial_refused", sub)
