from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from subscriptions import access

from . import content, sending
from .forms import PreferencesForm
from .models import Delivery, Preference, Send


def current_choices(user) -> dict[str, bool]:
    """What the reader gets now, defaults included (subscribers get the digest until they say no)."""
    pref = sending.preference(user)
    digest = pref.digest if pref is not None else None
    if digest is None:
        digest = access.user_entitlement(user).entitled and not user.is_staff
    return {"digest": digest, "breaking": bool(pref and pref.breaking)}


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    form = PreferencesForm(request.POST or None, initial=current_choices(request.user))
    if request.method == "POST" and form.is_valid():
        Preference.objects.update_or_create(user=request.user, defaults=form.cleaned_data)
        messages.success(request, "Your email choices are saved.")
        return redirect("subscriptions:account" if request.POST.get("from") == "account" else "newsletter:preferences")
    pref = sending.preference(request.user)
    return render(
        request,
        "newsletter/preferences.html",
        {"form": form, "undeliverable": pref is not None and pref.undeliverable(request.user.email)},
    )


@csrf_exempt  # RFC 8058: mail providers POST here without cookies; the signed token is the credential
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (link scanners follow links); POST — the button, or a mail client's
    one-click `List-Unsubscribe=One-Click` — unsubscribes. No login needed."""
    try:
        user_id, kind, send_id = content.read_unsubscribe_token(token)
    except signing.BadSignature:
        return render(request, "newsletter/unsubscribe.html", {"invalid": True}, status=400)
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        return render(request, "newsletter/unsubscribe.html", {"invalid": True}, status=400)
    label = Send.Kind(kind).label.lower()
    if request.method in ("GET", "HEAD"):  # only a POST unsubscribes
        return render(request, "newsletter/unsubscribe.html", {"label": label, "email": user.email})
    Preference.objects.update_or_create(user=user, defaults={kind: False})
    if send_id is not None:
        Delivery.objects.filter(send_id=send_id, user=user, unsubscribed_at__isnull=True).update(
            unsubscribed_at=timezone.now()
        )
    return render(request, "newsletter/unsubscribe.html", {"label": label, "email": user.email, "done": True})
