"""Deleting a reader's account while keeping the newsroom's records consistent.

What happens to what the reader leaves behind:

* Comments stay, shown as by "Deleted reader" (articles.models.deleted_reader):
  deleting them would take other readers' replies with them.
* Subscription rows stay with no user: they are the publisher's churn and
  revenue history, and their Stripe ids find the customer in Stripe.
* Everything else that is theirs goes: email addresses, the link to their
  Stripe customer, complimentary access, reports they filed, meter rows.

A subscription still open in Stripe must be cancelled (and have ended) first,
or Stripe would keep charging someone who can no longer log in. Staff accounts
are removed by an administrator in the admin, not here.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from articles.models import Comment

from .models import MeterDay, MeterRead, Subscription

# Stripe statuses after which a subscription can never bill again.
ENDED = {Subscription.Status.CANCELED, Subscription.Status.INCOMPLETE_EXPIRED}


class AccountDeletionRefused(Exception):
    """The account cannot be deleted now; the message is for the reader."""


def account_deletion_refusal(user) -> str | None:
    """Why this account may not be deleted right now, or None if it may."""
    if user.is_staff or user.is_superuser:
        return "Staff accounts can't be deleted here. Ask an administrator to remove yours in the admin."
    open_sub = (
        Subscription.objects.filter(user=user, stripe_subscription_id__isnull=False)
        .exclude(status__in=ENDED)
        .order_by("-created_at")
        .first()
    )
    if open_sub is None:
        return None
    if open_sub.status == Subscription.Status.INCOMPLETE:
        return (
            "A subscription checkout of yours hasn't finished. It lapses by itself within a day; "
            "you can delete your account after that."
        )
    if open_sub.cancel_at_period_end and open_sub.current_period_end:
        ends = date_format(timezone.localtime(open_sub.current_period_end), "F j, Y")
        return f"Your subscription is cancelled and ends on {ends}. You can delete your account once it has ended."
    return (
        "You still have a subscription. Cancel it first with Manage billing (Stripe's billing portal), "
        "then come back once it has ended to delete your account."
    )


def account_delete(*, user) -> None:
    """Delete the account, or raise AccountDeletionRefused."""
    with transaction.atomic():
        # The same lock billing.customer_for takes, so a checkout started in another
        # tab cannot slip a new Stripe customer in while the account goes.
        get_user_model().objects.select_for_update().only("pk").get(pk=user.pk)
        refusal = account_deletion_refusal(user)
        if refusal:
            raise AccountDeletionRefused(refusal)
        # Comments pass to the shared "Deleted reader" (Comment.user's on_delete);
        # their double-submit tokens must not collide with another leaver's there.
        Comment.objects.filter(user=user).exclude(submit_token="").update(submit_token="")
        reader = f"u:{user.pk}"  # see meter.reader_key
        MeterRead.objects.filter(reader=reader).delete()
        MeterDay.objects.filter(reader=reader).delete()
        user.delete()
