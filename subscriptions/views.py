import logging
from urllib.parse import urlencode

import stripe
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from newsroom import ratelimit

from . import access, account_page, billing, experiments, private_feeds
from .models import Plan, money
from .webhooks import fulfil_checkout_session

log = logging.getLogger(__name__)

# A longer plan is flagged "Best value" only when it saves at least this much over a year of the
# default plan: a few percent off is a rounding difference to a reader, not a reason to choose.
BEST_VALUE_MIN_SAVING_PERCENT = 15


@require_safe
def pricing(request: HttpRequest) -> HttpResponse:
    """The subscribe page: a card per plan, the one chosen on the paywall highlighted."""
    plans = list(Plan.objects.active())
    codes = {p.code for p in plans}
    default = next((p for p in plans if p.is_default), plans[0] if plans else None)
    # The reader's paywall terms (an experiment's arm, or the site's): the plan shown first,
    # the free trial offered, the daily free articles.
    terms = experiments.terms(request)
    first = next((p for p in plans if p.pk == terms.plan_id), default)
    chosen = request.GET.get("plan", "")
    picked = chosen in codes  # the reader chose it (on the paywall); else the default is only preselected
    if not picked:
        chosen = first.code if first else ""
    trial_available = not (request.user.is_authenticated and billing.had_trial(request.user))
    user = request.user
    cards = []
    for plan in plans:
        # The saving of a longer plan over a year of the default one.
        saving = default.yearly_cents() - plan.yearly_cents() if default and plan is not default else 0
        headline, billed = plan.price_parts()
        saving_percent = round(100 * saving / default.yearly_cents()) if saving > 0 else 0
        cards.append({
            "plan": plan,
            "trial_days": experiments.trial_offered(request, plan) if trial_available else 0,
            "headline": headline,
            "billed": billed,
            "saving": money(saving, plan.currency) if saving > 0 else "",
            "saving_percent": saving_percent,
            "best_value": saving_percent >= BEST_VALUE_MIN_SAVING_PERCENT,
            "login_query": urlencode({"next": reverse("subscriptions:pricing") + "?" + urlencode({"plan": plan.code})}),
        })
    configured = billing.is_configured()
    return render(
        request,
        "subscriptions/pricing.html",
        {
            "cards": cards,
            "chosen": chosen,
            "picked": picked,
            "on_sale": configured and any(p.stripe_price_id for p in plans),
            "stripe_configured": configured,
            "trial_available": trial_available,
            "lede_trial_days": next((c["trial_days"] for c in cards if c["plan"].code == chosen), 0),
            "has_live_subscription": user.is_authenticated and billing.has_live_subscription(user),
            "login_query": urlencode({"next": reverse("subscriptions:pricing") + "?" + urlencode({"plan": chosen})}),
            "free_per_day": terms.free_per_day,
        },
    )


def _verified(user) -> bool:
    return EmailAddress.objects.filter(user=user, verified=True).exists()


@login_required
@require_POST
def checkout(request: HttpRequest) -> HttpResponse:
    """Start Stripe Checkout for the chosen plan (303 to Stripe's page)."""
    plan = get_object_or_404(Plan, code=request.POST.get("plan", ""), is_active=True)
    # Each attempt costs several Stripe calls, and Stripe's rate limit is shared with the webhooks:
    # one account clicking away must not use it up. A page that says so, not a bare 429.
    if not ratelimit.hit("checkout", str(request.user.pk), settings.RATE_LIMIT_CHECKOUT):
        messages.warning(request, "You have started checkout several times in a short while. Please wait a "
                                  "minute and try again; nothing has been charged.")
        return redirect(reverse("subscriptions:pricing") + "?" + urlencode({"plan": plan.code}))
    if billing.is_configured() and plan.stripe_price_id:
        # Paused, unpaid or collection-paused: live in Stripe but paying nothing. A reader
        # who wants to pay again gets Checkout, once that subscription has ended.
        try:
            billing.subscriptions_replace_unpayable(request.user)
        except stripe.StripeError:
            log.exception("could not end the unpayable subscriptions of user %s", request.user.pk)
    if billing.has_live_subscription(request.user):
        messages.info(request, "You already have a subscription. You can change or cancel it here.")
        return redirect("subscriptions:account")
    if not billing.is_configured() or not plan.stripe_price_id:
        messages.info(request, "Subscriptions open soon: we can't take payments just yet.")
        return redirect("subscriptions:pricing")
    if not _verified(request.user):
        messages.warning(request, "Please confirm your email address before subscribing.")
        return redirect("account_email")
    experiments.join(request)  # the trial the subscribe page showed is the one Checkout gives
    success = request.build_absolute_uri(reverse("subscriptions:success")) + "?session_id={CHECKOUT_SESSION_ID}"
    cancel = request.build_absolute_uri(reverse("subscriptions:pricing") + "?" + urlencode({"plan": plan.code}))
    try:
        session = billing.create_checkout_session(request.user, plan, success_url=success, cancel_url=cancel)
    except stripe.StripeError:
        log.exception("checkout session for user %s failed", request.user.pk)
        messages.error(request, "We could not reach our payment provider. Please try again in a minute.")
        return redirect("subscriptions:pricing")
    return HttpResponseRedirect(session.url, status=303)


@login_required
@require_safe
def success(request: HttpRequest) -> HttpResponse:
    """Back from Checkout: ask Stripe what happened; never trust the URL alone."""
    sub = None
    session_id = request.GET.get("session_id", "")
    if session_id and billing.is_configured():
        try:
            session = billing.retrieve_checkout_session(session_id)
            if str(session.get("client_reference_id")) == str(request.user.pk):
                sub = fulfil_checkout_session(session)
                access.reload(request)
        except stripe.StripeError:
            # Unknown id or Stripe unreachable: the webhook (or reconcile) will catch up.
            log.warning("success page could not confirm session %s", session_id, exc_info=True)
    if sub is None:
        # The webhook may already have done the work.
        sub = request.user.subscriptions.select_related("plan").first()
    return render(request, "subscriptions/success.html", {"subscription": sub, "ent": access.entitlement(request)})


@login_required
@require_POST
def portal(request: HttpRequest) -> HttpResponse:
    """Send the reader to Stripe's Billing Portal (card, cancel, switch plan)."""
    if not billing.is_configured():
        messages.error(request, "Payments are not configured on this site yet.")
        return redirect("subscriptions:account")
    try:
        session = billing.portal_session(request.user, return_url=request.build_absolute_uri(
            reverse("subscriptions:account")))
    except stripe.StripeError:
        log.exception("portal session for user %s failed", request.user.pk)
        session = None
    if session is None:
        messages.error(request, "We could not open billing management. Please try again in a minute.")
        return redirect("subscriptions:account")
    return HttpResponseRedirect(session.url, status=303)


@login_required
@require_POST
def feed_replace(request: HttpRequest) -> HttpResponse:
    """A new private feed address; the old one stops working (for a leaked address)."""
    private_feeds.feed_token_replace(user=request.user)
    messages.success(
        request, "Your private feed has a new address. The old one no longer works: update your feed reader."
    )
    return redirect(reverse("subscriptions:account") + "#feed")


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """The reader's account page: who they are, their plan, emails, private feed, gift links, comments."""
    return render(request, "subscriptions/account.html", account_page.context(request))
