"""Deploy checks of our own settings (`manage.py check --deploy`, which
scripts/serve-prod runs before it starts, refusing on any warning)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Tags, Warning, register
from django.http.request import validate_host


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
