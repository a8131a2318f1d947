"""Deploy checks of our own settings (`manage.py check --deploy`, which
scripts/serve-prod runs before it starts, refusing on any warning)."""

import os
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.http.request import validate_host

STRIPE_API = "https://api.stripe.com"


@register(Tags.security, deploy=True)
def site_url(app_configs, **kwargs) -> list[Warning]:
    """SITE_URL is the address feeds, sitemaps, structured data and emails send readers
    to: left at its development default, every such link points at 127.0.0.1."""
    url = urlsplit(settings.SITE_URL)
    warnings = []
    if not url.hostname or not validate_host(url.hostname, settings.ALLOWED_HOSTS):
        warnings.append(
            Warning(
                f"SITE_URL ({settings.SITE_URL}) is not an address this site answers (ALLOWED_HOSTS).",
                hint="Set SITE_URL to the public address readers use, e.g. https://news.example.org.",
                id="newsroom.W001",
            )
        )
    if settings.SECURE_SSL_REDIRECT and url.scheme != "https":
        warnings.append(
            Warning(
                f"SITE_URL ({settings.SITE_URL}) is not https, but the site redirects every request to https.",
                hint="Give SITE_URL the https:// address.",
                id="newsroom.W002",
            )
        )
    return warnings


@register(Tags.security, deploy=True)
def trusted_proxies(app_configs, **kwargs) -> list[Warning]:
    """gunicorn listens where only the proxy in front reaches it (gunicorn.conf.py), so the
    client's address is the one that proxy forwards; TRUSTED_PROXIES names it."""
    warnings = []
    if "TRUSTED_PROXY_COUNT" in os.environ:
        warnings.append(
            Warning(
                "TRUSTED_PROXY_COUNT is no longer read: it believed X-Forwarded-For from anyone, "
                "including a client that reached gunicorn directly.",
                hint="Name your proxies instead, e.g. TRUSTED_PROXIES=127.0.0.1, and remove TRUSTED_PROXY_COUNT.",
                id="newsroom.W003",
            )
        )
    if not settings.TRUSTED_PROXIES:
        warnings.append(
            Warning(
                "TRUSTED_PROXIES is empty: behind a proxy every reader would share its address "
                "(one meter backstop, one log-in and search budget for everyone).",
                hint="Set TRUSTED_PROXIES to the proxy's address or network, e.g. 127.0.0.1 for nginx on this host.",
                id="newsroom.W004",
            )
        )
    return warnings


@register(Tags.security, deploy=True)
def stripe_is_real(app_configs, **kwargs) -> list[Error]:
    """Production takes real money. ./scripts/dev points the site at a local Stripe (a test
    fake, newsroom/dev_stripe.py) with test-mode keys; a deployment started with those
    would show readers a checkout that charges nobody and subscribe them for free."""
    errors = []
    if settings.STRIPE_API_BASE and settings.STRIPE_API_BASE.rstrip("/") != STRIPE_API:
        errors.append(
            Error(
                f"STRIPE_API_BASE ({settings.STRIPE_API_BASE}) is not Stripe: payments would go to a stand-in.",
                hint=f"Unset STRIPE_API_BASE in production (the stripe library then uses {STRIPE_API}).",
                id="newsroom.E001",
            )
        )
    test_keys = [
        name
        for name in ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY")
        if getattr(settings, name).startswith(("sk_test_", "pk_test_", "rk_test_"))
    ]
    if test_keys:
        errors.append(
            Error(
                f"{' and '.join(test_keys)} {'is a test-mode key' if len(test_keys) == 1 else 'are test-mode keys'}: "
                "no reader would be charged.",
                hint="Set the live keys (sk_live_…, pk_live_…) from Stripe's dashboard, or no keys at all "
                "to run without subscriptions.",
                id="newsroom.E002",
            )
        )
    return errors
