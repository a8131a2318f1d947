from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import access
from .models import Plan


@require_GET
def pricing(request: HttpRequest) -> HttpResponse:
    plans = list(Plan.objects.active())
    return render(
        request,
        "subscriptions/pricing.html",
        {"plans": plans, "stripe_configured": bool(settings.STRIPE_SECRET_KEY)},
    )


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """The reader's account page: email, password, subscription, comments."""
    return render(
        request,
        "subscriptions/account.html",
        {
            "ent": access.entitlement(request),
            "subscription": request.user.subscriptions.select_related("plan").first(),
            "comments": request.user.comments.select_related("article").order_by("-created_at")[:50],
        },
    )
