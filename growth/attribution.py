"""Which stories and sources bring readers in: recorded here, on our own server, as counts.

Two things are remembered about a browser, both by us and for us only:

* the story a reader was reading when they chose to sign up or subscribe: a click on the
  paywall's or the registration wall's button carries it (the story page is the click's
  same-site Referer; any link may also say `?from=<article id>`); FromArticleMiddleware checks
  it is a published story and keeps it in the session (for an account, on its ReaderOrigin);
* the source of the first visit we saw from another site: its Referer's domain, classed as
  search, social, newsletter or another site, kept in a small first-party cookie set only on
  that response (so only that one page is not shared-cached). No referrer is "direct"; a gift
  link's visit is "gift". A page a shared cache answered never reaches us: a little inexact,
  and nothing is sent to anyone else.

Sign-ups, trials, first payments and gift redemptions become Conversion rows (unique per
account, subscription or gift), credited to the story and source known at the time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone

from subscriptions.models import Subscription, money

from .models import Conversion, ReaderOrigin, Source

FROM_SESSION_KEY = "growth_from"
GIFT_SESSION_KEY = "growth_gift"
SOURCE_COOKIE = "ledger_src"
SOURCE_COOKIE_SECONDS = 90 * 86400
# A story is credited when the conversion follows the click within this long.
FROM_WINDOW = timedelta(days=7)

SEARCH = ("google.", "bing.com", "duckduckgo.com", "search.yahoo.", "yahoo.com", "ecosia.org", "baidu.com",
          "yandex.", "kagi.com", "search.brave.com", "startpage.com", "qwant.com")
SOCIAL = ("facebook.com", "fb.com", "t.co", "twitter.com", "x.com", "linkedin.com", "lnkd.in", "reddit.com",
          "instagram.com", "threads.net", "bsky.app", "mastodon.", "news.ycombinator.com", "youtube.com",
          "tiktok.com", "pinterest.", "whatsapp.com", "telegram.org")
MAIL = ("mail.google.com", "outlook.live.com", "outlook.office.com", "mail.yahoo.com", "mail.proton.me",
        "fastmail.com", "icloud.com")
_DOMAIN = re.compile(r"[a-z0-9.-]{1,255}")


def _matches(domain: str, names: tuple[str, ...]) -> bool:
    return any(domain == n or domain.endswith("." + n) or (n.endswith(".") and (domain.startswith(n) or
               f".{n}" in f".{domain}")) for n in names)


def classify(referrer: str, query: str = "") -> tuple[str, str]:
    """(source, domain) of a visit from `referrer` with this query string; ("", "") for our own pages."""
    params = parse_qs(query)
    medium = (params.get("utm_medium") or [""])[0].lower()
    domain = (urlsplit(referrer).hostname or "").lower().removeprefix("www.") if referrer else ""
    own = (urlsplit(settings.SITE_URL).hostname or "").removeprefix("www.")
    if domain and (domain == own or domain in settings.ALLOWED_HOSTS):
        return "", ""
    if medium in ("email", "newsletter") or _matches(domain, MAIL):
        return Source.NEWSLETTER, domain
    if not domain:
        return Source.DIRECT, ""
    if _matches(domain, SEARCH):
        return Source.SEARCH, domain
    if _matches(domain, SOCIAL):
        return Source.SOCIAL, domain
    return Source.OTHER, domain


def source_of(request: HttpRequest) -> tuple[str, str]:
    """The first visit's source and domain kept in the cookie (checked: it is client-held), else direct."""
    value = request.COOKIES.get(SOURCE_COOKIE, "")
    source, _, domain = value.partition(":")
    if source in Source.values and (not domain or _DOMAIN.fullmatch(domain)):
        return source, domain
    return Source.DIRECT, ""


def article_from_param(value: str) -> int | None:
    """A `?from=` value that names a published story, else None."""
    from articles.models import Article

    if not value.isascii() or not value.isdigit() or len(value) > 12:
        return None
    pk = int(value)
    return pk if Article.objects.published().filter(pk=pk).exists() else None


def article_from_referrer(request: HttpRequest) -> int | None:
    """The published story whose page the reader clicked from (a same-site Referer), else None."""
    from articles import views as article_views
    from articles.models import Article

    parts = urlsplit(request.headers.get("Referer", ""))
    if not parts.path or parts.netloc != request.get_host():
        return None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    if match.func is not article_views.article_detail:
        return None
    return Article.objects.published().filter(slug=match.kwargs["slug"]).values_list("pk", flat=True).first()


# Pages a paywall or registration-wall button leads to (by URL name): subscribe, sign up, an offer.
LANDING_VIEWS = frozenset({"subscriptions:pricing", "account_signup", "subscriptions:offer"})


class FromArticleMiddleware:
    """Keeps the story a reader came from (below authentication): `?from=<article id>` on any page
    (an address that is no page, a 404, keeps nothing),
    or, on the pages the paywall's and the registration wall's buttons lead to, the story page the
    click came from (its same-site Referer). Those buttons' addresses stay as they are (pages and
    tests name them); either way only a published story's id is kept, in the session and on the
    account's ReaderOrigin."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        # The resolved view names a landing page: nothing to reverse on every request.
        if request.method != "GET" or not hasattr(request, "session"):
            return
        wanted = request.GET.get("from", "")
        if wanted:
            article_id = article_from_param(wanted)
        elif request.resolver_match.view_name in LANDING_VIEWS:
            article_id = article_from_referrer(request)
        else:
            article_id = None
        if article_id is not None:
            remember_article(request, article_id)


class FirstVisitMiddleware:
    """A browser's first page from another site: its source in a cookie (above the kept-page
    middleware, which answers most first visits; the shared-cache middleware sees the cookie and
    keeps that one response private)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        referrer = request.headers.get("Referer", "")
        gift_link = bool(request.GET.get("gift"))  # a subscriber's gift link (articles/gifts.py): never shared
        if SOURCE_COOKIE not in request.COOKIES and (referrer or gift_link) and request.method == "GET" \
                and response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
            source, domain = classify(referrer, request.META.get("QUERY_STRING", ""))
            if gift_link:
                source = Source.GIFT
            if source and source != Source.DIRECT:
                response.set_cookie(SOURCE_COOKIE, f"{source}:{domain}"[:300], max_age=SOURCE_COOKIE_SECONDS,
                                    secure=request.is_secure(), httponly=True, samesite="Lax")
        return response


def remember_article(request: HttpRequest, article_id: int) -> None:
    now = timezone.now()
    request.session[FROM_SESSION_KEY] = {"article": article_id, "at": int(now.timestamp())}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        ReaderOrigin.objects.update_or_create(user=user, defaults={"article_id": article_id, "article_at": now})


def _session_article(request: HttpRequest) -> int | None:
    kept = request.session.get(FROM_SESSION_KEY) if hasattr(request, "session") else None
    if not isinstance(kept, dict) or not isinstance(kept.get("article"), int) or not isinstance(kept.get("at"), int):
        return None
    if timezone.now().timestamp() - kept["at"] > FROM_WINDOW.total_seconds():
        return None
    return kept["article"]


def origin_record_signup(request: HttpRequest | None, user) -> ReaderOrigin:
    """A new account: its origin (the cookie's source, the session's story) and a sign-up conversion."""
    source, domain = source_of(request) if request is not None else (Source.DIRECT, "")
    if request is not None and hasattr(request, "session") and request.session.get(GIFT_SESSION_KEY):
        source, domain = Source.GIFT, ""  # made an account to redeem a gift
    article_id = _session_article(request) if request is not None else None
    origin, _ = ReaderOrigin.objects.update_or_create(user=user, defaults={
        "source": source, "referrer_domain": domain, "article_id": article_id,
        "article_at": timezone.now() if article_id else None})
    conversion_record(kind=Conversion.Kind.SIGNUP, key=f"user-{user.pk}", user=user)
    return origin


def conversion_record(*, kind: str, key: str, user=None, subscription_id: str = "", gift: bool = False) -> bool:
    """Count one conversion, once (True when it is new). Credited to the account's story (when the
    reader clicked it within FROM_WINDOW) and first-visit source; a gift's redemption to gift links."""
    origin = ReaderOrigin.objects.filter(user=user).first() if user is not None else None
    article_id = None
    if origin is not None and origin.article_id and origin.article_at \
            and timezone.now() - origin.article_at <= FROM_WINDOW:
        article_id = origin.article_id
    source = Source.GIFT if gift else (origin.source if origin is not None else Source.DIRECT)
    try:
        with transaction.atomic():
            Conversion.objects.create(kind=kind, key=key, user=user, article_id=article_id, source=source,
                                      stripe_subscription_id=subscription_id)
    except IntegrityError:
        return False
    return True


def subscription_conversions(sub: Subscription) -> None:
    """A subscription saved: a trial that started, or a first payment, is counted once each."""
    if sub.user_id is None or not sub.stripe_subscription_id:
        return
    if sub.status == Subscription.Status.TRIALING:
        conversion_record(kind=Conversion.Kind.TRIAL, key=f"sub-{sub.stripe_subscription_id}", user=sub.user,
                          subscription_id=sub.stripe_subscription_id)
    if sub.has_paid and sub.status == Subscription.Status.ACTIVE:
        conversion_record(kind=Conversion.Kind.PAID, key=f"sub-{sub.stripe_subscription_id}", user=sub.user,
                          subscription_id=sub.stripe_subscription_id)


def stories_report(since: datetime, until: datetime | None = None, *, source: str = "") -> list[dict]:
    """Stories by the readers they brought between `since` and `until`: free sign-ups, trials, paid
    conversions, gift redemptions, and the monthly revenue of the paid ones still paying."""
    rows = Conversion.objects.filter(created_at__gte=since, article__isnull=False)
    if until is not None:
        rows = rows.filter(created_at__lt=until)
    if source:
        rows = rows.filter(source=source)
    counted = (rows.values("article", "article__title", "article__slug")
               .annotate(signups=Count("pk", filter=Q(kind=Conversion.Kind.SIGNUP)),
                         trials=Count("pk", filter=Q(kind=Conversion.Kind.TRIAL)),
                         paid=Count("pk", filter=Q(kind=Conversion.Kind.PAID)),
                         gifts=Count("pk", filter=Q(kind=Conversion.Kind.GIFT))))
    paid_subs: dict[int, list[str]] = {}
    for article_id, sub_id in rows.filter(kind=Conversion.Kind.PAID).values_list("article", "stripe_subscription_id"):
        paid_subs.setdefault(article_id, []).append(sub_id)
    report = []
    for row in counted:
        cents = sum(s.monthly_cents() for s in Subscription.objects.paying().filter(
            stripe_subscription_id__in=paid_subs.get(row["article"], [])).select_related("plan"))
        report.append({**row, "revenue_cents": round(cents), "revenue": money(round(cents))})
    report.sort(key=lambda r: (-r["paid"], -r["trials"], -r["signups"], -r["gifts"], r["article__title"]))
    return report


def sources_report(since: datetime, until: datetime | None = None) -> list[dict]:
    """Conversions by first-visit source in the period."""
    rows = Conversion.objects.filter(created_at__gte=since)
    if until is not None:
        rows = rows.filter(created_at__lt=until)
    counts = {r["source"]: r for r in rows.values("source").annotate(
        signups=Count("pk", filter=Q(kind=Conversion.Kind.SIGNUP)),
        trials=Count("pk", filter=Q(kind=Conversion.Kind.TRIAL)),
        paid=Count("pk", filter=Q(kind=Conversion.Kind.PAID)),
        gifts=Count("pk", filter=Q(kind=Conversion.Kind.GIFT)))}
    return [{"source": value, "label": label, **{k: counts.get(value, {}).get(k, 0)
                                                for k in ("signups", "trials", "paid", "gifts")}}
            for value, label in Source.choices]


def article_figures(article_id: int) -> dict[str, int | str]:
    """One story's counts, all time, and the monthly revenue of the paid subscriptions it brought
    that still pay (its admin page shows them): {"signup": n, "trial": n, "paid": n, "gift": n,
    "revenue_cents": n, "revenue": "$…"}."""
    rows = Conversion.objects.filter(article_id=article_id)
    counts = rows.aggregate(**{kind: Count("pk", filter=Q(kind=kind)) for kind in Conversion.Kind.values})
    paid = rows.filter(kind=Conversion.Kind.PAID).values("stripe_subscription_id")
    cents = round(sum(s.monthly_cents() for s in Subscription.objects.paying()
                      .filter(stripe_subscription_id__in=paid).select_related("plan")))
    return {**counts, "revenue_cents": cents, "revenue": money(cents)}
