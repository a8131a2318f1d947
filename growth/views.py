"""Offer pages, buying a gift subscription, and redeeming one (URLs in subscriptions/urls.py)."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlencode

import stripe
from allauth.account.models import EmailAddress
from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from subscriptions import access, billing
from subscriptions.models import Plan, money

from . import attribution, gifts, offers
from .models import GiftSubscription, Offer

log = logging.getLogger(__name__)


def _plan_cards(plans: list[Plan]) -> list[dict]:
    return [{"plan": p, "headline": p.price_parts()[0], "billed": p.price_parts()[1]} for p in plans]


@require_http_methods(["GET", "HEAD", "POST"])
def offer(request: HttpRequest, code: str) -> HttpResponse:
    """An offer's page: its plans at the discounted price in words, and the way to Checkout.
    An offer that ended (or that Stripe no longer honours) says so, with the usual plans."""
    found = offers.offer_open(code)
    if found is None:
        if not Offer.objects.filter(code=code).exists():
            raise Http404("No such offer")
        plans = list(Plan.objects.active())
        return render(request, "growth/offer_ended.html", {"cards": _plan_cards(plans)}, status=410)
    plans = offers.offer_plans(found)
    if request.method == "POST":
        return _offer_checkout(request, found, plans)
    next_url = reverse("subscriptions:offer", args=[found.code])
    return render(request, "growth/offer.html", {
        "offer": found,
        "cards": [{"plan": p, "words": found.price_words(p)} for p in plans],
        "has_live_subscription": request.user.is_authenticated and billing.has_live_subscription(request.user),
        "trial_available": not (request.user.is_authenticated and billing.had_trial(request.user)),
        "next_query": urlencode({"next": next_url}),
    })


def _offer_checkout(request: HttpRequest, found: Offer, plans: list[Plan]) -> HttpResponse:
    page = reverse("subscriptions:offer", args=[found.code])
    if not request.user.is_authenticated:
        return redirect(reverse("account_login") + "?" + urlencode({"next": page}))
    plan = next((p for p in plans if p.code == request.POST.get("plan", "")), None)
    if plan is None:
        messages.error(request, "Please choose one of the plans below.")
        return redirect(page)
    if billing.has_live_subscription(request.user):
        messages.info(request, "You already have a subscription. You can change or cancel it here.")
        return redirect("subscriptions:account")
    if not EmailAddress.objects.filter(user=request.user, verified=True).exists():
        messages.warning(request, "Please confirm your email address before subscribing.")
        return redirect("account_email")
    success = request.build_absolute_uri(reverse("subscriptions:success")) + "?session_id={CHECKOUT_SESSION_ID}"
    try:
        session = billing.create_checkout_session(request.user, plan, success_url=success,
                                                  cancel_url=request.build_absolute_uri(page), offer=found)
    except stripe.InvalidRequestError:
        # Stripe refused the promotion code (used up or expired between the page and the click).
        log.warning("offer %s refused at Checkout for user %s", found.code, request.user.pk, exc_info=True)
        messages.error(request, "This offer has just ended. Our usual plans are below.")
        return redirect("subscriptions:pricing")
    except stripe.StripeError:
        log.exception("offer checkout for user %s failed", request.user.pk)
        messages.error(request, "We could not reach our payment provider. Please try again in a minute.")
        return redirect(page)
    return HttpResponseRedirect(session.url, status=303)


class GiftForm(forms.Form):
    months = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect, initial=12, label="How long")
    recipient_name = forms.CharField(max_length=100, required=False, label="Their name")
    recipient_email = forms.EmailField(label="Their email address")
    message = forms.CharField(max_length=1000, required=False, label="Your message (optional)",
                              widget=forms.Textarea(attrs={"rows": 4}))
    deliver_on = forms.DateField(label="Send it on", widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text="Today, or a day of your choice within a year.")
    buyer_name = forms.CharField(max_length=100, required=False, label="Your name (shown to them)")
    buyer_email = forms.EmailField(label="Your email address (for the receipt)")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["months"].choices = [
            (m, f"{m} months: {money(gifts.gift_price_cents(m), settings.GIFT_CURRENCY)}")
            for m in GiftSubscription.MONTHS]
        self.fields["deliver_on"].initial = timezone.localdate()

    def clean_deliver_on(self):
        day = self.cleaned_data["deliver_on"]
        today = timezone.localdate()
        if day < today:
            raise forms.ValidationError("That day has passed: choose today or a later day.")
        if day > today + timedelta(days=366):
            raise forms.ValidationError("Choose a day within a year.")
        return day


@require_http_methods(["GET", "HEAD", "POST"])
def gift(request: HttpRequest) -> HttpResponse:
    """Buy a subscription for someone else: paid once, sent on the chosen day."""
    initial = {"buyer_email": request.user.email} if request.user.is_authenticated else {}
    form = GiftForm(request.POST or None, initial=initial)
    on_sale = billing.is_configured()
    if request.method == "POST" and on_sale and form.is_valid():
        data = form.cleaned_data
        made = gifts.gift_create(buyer=request.user, **data)
        thanks = request.build_absolute_uri(reverse("subscriptions:gift_thanks")) + "?session_id={CHECKOUT_SESSION_ID}"
        try:
            session = billing.gift_checkout_session(made, success_url=thanks,
                                                    cancel_url=request.build_absolute_uri(request.path))
        except stripe.StripeError:
            log.exception("gift checkout %s failed", made.pk)
            messages.error(request, "We could not reach our payment provider. Please try again in a minute.")
        else:
            return HttpResponseRedirect(session.url, status=303)
    return render(request, "growth/gift.html", {"form": form, "on_sale": on_sale})


@require_safe
def gift_thanks(request: HttpRequest) -> HttpResponse:
    """Back from Checkout: ask Stripe what was paid (the webhook may already have said)."""
    paid = None
    session_id = request.GET.get("session_id", "")
    if session_id.startswith("cs_") and billing.is_configured():
        try:
            paid = gifts.gift_paid(billing.retrieve_checkout_session(session_id))
        except stripe.StripeError:
            log.warning("gift thanks page could not confirm session %s", session_id, exc_info=True)
    if paid is None or paid.status == GiftSubscription.Status.UNPAID:
        return render(request, "growth/gift_thanks.html", {"gift": None})
    return render(request, "growth/gift_thanks.html", {"gift": paid})


@require_http_methods(["GET", "HEAD", "POST"])
def redeem(request: HttpRequest, token: str) -> HttpResponse:
    """The recipient's page: make an account or log in, then start reading in one click."""
    found = gifts.gift_for_token(token)
    if found is None:
        return render(request, "growth/redeem_invalid.html", status=404)
    user = request.user
    paying = user.is_authenticated and gifts.paying_subscriber(user)
    if request.method == "POST" and user.is_authenticated:
        try:
            found = gifts.gift_redeem(gift_id=found.pk, user=user)
        except gifts.GiftNotRedeemable as why:
            messages.error(request, str(why))
            return redirect(request.path)
        access.reload(request)
        messages.success(request, f"Your {found.months} months have started: every story is open to you "
                                  f"until {found.access.until:%B} {found.access.until.day}, {found.access.until:%Y}.")
        return redirect("articles:home")
    if request.method == "POST":
        return redirect(reverse("account_login") + "?" + urlencode({"next": request.path}))
    if not user.is_authenticated and hasattr(request, "session"):
        request.session[attribution.GIFT_SESSION_KEY] = True  # an account made from here came from a gift
    return render(request, "growth/redeem.html", {
        "gift": found, "paying": paying, "next_query": urlencode({"next": request.path}),
        "mine": found.redeemed_by_id is not None and found.redeemed_by_id == getattr(user, "pk", None),
    })
