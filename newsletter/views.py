from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.mail import send_mail
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from newsroom import ratelimit
from newsroom.client_ip import client_ip
from subscriptions import access

from . import content, sending
from .forms import EMAIL_SIGNUP_CONSENT, EmailSignupForm, PreferencesForm
from .models import Delivery, EmailSignup, Preference, Send


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
        return _unsubscribe_signup(request, token)
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


def _unsubscribe_signup(request: HttpRequest, token: str) -> HttpResponse:
    """The unsubscribe link of an email-only reader (no account): the same page and rules."""
    try:
        signup_id, send_id = content.read_signup_unsubscribe_token(token)
    except signing.BadSignature:
        return render(request, "newsletter/unsubscribe.html", {"invalid": True}, status=400)
    signup = EmailSignup.objects.filter(pk=signup_id).first()
    if signup is None:
        return render(request, "newsletter/unsubscribe.html", {"invalid": True}, status=400)
    label = Send.Kind.DIGEST.label.lower()
    if request.method in ("GET", "HEAD"):
        return render(request, "newsletter/unsubscribe.html", {"label": label, "email": signup.email})
    now = timezone.now()
    EmailSignup.objects.filter(pk=signup.pk, unsubscribed_at__isnull=True).update(unsubscribed_at=now)
    if send_id is not None:
        Delivery.objects.filter(send_id=send_id, signup=signup, unsubscribed_at__isnull=True).update(
            unsubscribed_at=now
        )
    return render(request, "newsletter/unsubscribe.html", {"label": label, "email": signup.email, "done": True})


# --- Email-only sign-up (double opt-in) ---------------------------------------------------------

_CONFIRM_SALT = "newsletter.email-signup-confirm"


def confirmation_token(email: str) -> str:
    return signing.dumps(email.lower(), salt=_CONFIRM_SALT, compress=True)


def read_confirmation_token(token: str) -> str:
    """The address; raises signing.BadSignature (SignatureExpired included) for a forged, damaged or old link."""
    return signing.loads(token, salt=_CONFIRM_SALT, max_age=timedelta(days=settings.NEWSLETTER_CONFIRM_DAYS))


def signup_request(*, email: str, source: str) -> bool:
    """Record that `email` asked for the digest and send the confirmation link, unless the
    address already gets it or was sent a link in the last NEWSLETTER_CONFIRM_RESEND_MINUTES
    (no flood of confirmations to someone else's inbox). True if an email went out."""
    email = email.strip().lower()
    signup, _ = EmailSignup.objects.get_or_create(
        email=email, defaults={"source": source, "consent_text": EMAIL_SIGNUP_CONSENT}
    )
    now = timezone.now()
    not_receiving = Q(confirmed_at__isnull=True) | Q(unsubscribed_at__isnull=False)
    not_recent = Q(confirmation_sent_at__isnull=True) | Q(
        confirmation_sent_at__lt=now - timedelta(minutes=settings.NEWSLETTER_CONFIRM_RESEND_MINUTES)
    )
    # A conditional update claims the send: two requests at once send one email.
    claimed = EmailSignup.objects.filter(not_receiving, not_recent, pk=signup.pk).update(
        confirmation_sent_at=now, source=source or signup.source, consent_text=EMAIL_SIGNUP_CONSENT
    )
    if not claimed:
        return False
    url = content.absolute(reverse("newsletter:signup_confirm", args=[confirmation_token(email)]))
    context = {"url": url, "SITE_NAME": settings.SITE_NAME, "days": settings.NEWSLETTER_CONFIRM_DAYS}
    send_mail(
        f"Confirm your {settings.SITE_NAME} digest",
        render_to_string("newsletter/email/signup_confirm.txt", context),
        settings.NEWSLETTER_FROM_EMAIL,
        [email],
    )
    return True


# No CSRF token: the form sits on pages shared by every anonymous reader (the page cache and
# the proxy's cache), and a token would set a cookie and make each of them private. A forged
# POST gains nothing a direct one would not: this view reads no session or cookie, changes
# nothing for the browser that sent it, answers every address alike, is rate limited per
# client, and only the emailed link (double opt-in) starts any mail beyond the one confirmation.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def email_signup(request: HttpRequest) -> HttpResponse:
    """The one-field form. Every valid address gets the same answer (a redirect to "check
    your inbox"), whether it is new, waiting for confirmation or already confirmed."""
    form = EmailSignupForm(request.POST or None)
    if request.method == "POST":
        if not ratelimit.hit("newsletter-signup", client_ip(request), settings.RATE_LIMIT_NEWSLETTER_SIGNUP):
            return render(request, "429.html", status=429)
        if form.is_valid():
            signup_request(email=form.cleaned_data["email"], source=form.cleaned_data["source"])
            return redirect("newsletter:signup_sent")
    return render(request, "newsletter/signup.html", {"form": form, "consent": EMAIL_SIGNUP_CONSENT})


def email_signup_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "newsletter/signup_sent.html", {"days": settings.NEWSLETTER_CONFIRM_DAYS})


@require_http_methods(["GET", "HEAD", "POST"])
def email_signup_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (mail scanners follow links), the button's POST confirms."""
    try:
        email = read_confirmation_token(token)
    except signing.SignatureExpired:
        return render(request, "newsletter/signup_confirm.html", {"expired": True}, status=400)
    except signing.BadSignature:
        return render(request, "newsletter/signup_confirm.html", {"invalid": True}, status=400)
    signup = EmailSignup.objects.filter(email=email).first()
    if signup is None:
        return render(request, "newsletter/signup_confirm.html", {"invalid": True}, status=400)
    if request.method in ("GET", "HEAD"):
        return render(request, "newsletter/signup_confirm.html", {"email": email, "done": signup.receives_digest})
    now = timezone.now()
    EmailSignup.objects.filter(Q(confirmed_at__isnull=True) | Q(unsubscribed_at__isnull=False), pk=signup.pk).update(
        confirmed_at=now, unsubscribed_at=None
    )
    return render(request, "newsletter/signup_confirm.html", {"email": email, "done": True})
