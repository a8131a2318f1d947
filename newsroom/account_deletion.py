"""Deleting a reader's account while keeping the newsroom's records consistent.

A flow over both apps (comments in `articles`, billing and the meter in
`subscriptions`), so it lives above them: neither app imports the other's way.

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

from allauth.core import ratelimit
from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_http_methods

from articles.models import Comment
from subscriptions import billing, meter
from subscriptions.models import Subscription


class AccountDeletionRefused(Exception):
    """The account cannot be deleted now; the message is for the reader."""


def account_deletion_refusal(user) -> str | None:
    """Why this account may not be deleted right now, or None if it may."""
    if user.is_staff or user.is_superuser:
        return "Staff accounts can't be deleted here. Ask an administrator to remove yours in the admin."
    open_sub = (
        Subscription.objects.filter(user=user, stripe_subscription_id__isnull=False)
        .exclude(status__in=Subscription.ENDED_STATUSES)
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
        meter.forget_user(user)
        user.delete()


class DeleteAccountForm(forms.Form):
    """Asks for the current password, so an unattended logged-in browser cannot delete the account."""

    password = forms.CharField(
        label="Your current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, user, *args, **kwargs) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That isn't your current password.")
        return password


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def delete_account(request: HttpRequest) -> HttpResponse:
    """Ask for the password, then delete the account."""
    user = request.user
    refusal = account_deletion_refusal(user)
    form = DeleteAccountForm(user, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if refusal:
            status = 403
        # Guessing the password here is limited like allauth's own re-authentication.
        elif limited := ratelimit.consume_or_429(request, action="reauthenticate", user=user):
            return limited
        elif form.is_valid():
            try:
                account_delete(user=user)
            except AccountDeletionRefused as exc:  # a subscription started meanwhile
                refusal, status = str(exc), 403
            else:
                logout(request)
                messages.success(request, "Your account is deleted. Thank you for reading.")
                return redirect("articles:home")
        else:
            status = 400
    return render(
        request,
        "account/delete_account.html",
        {
            "form": form,
            "refusal": refusal,
            "comment_count": user.comments.count(),
            "has_password": user.has_usable_password(),
            "stripe_configured": billing.is_configured(),
            "has_customer": hasattr(user, "stripe_customer"),
        },
        status=status,
    )
