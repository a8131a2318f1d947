"""What a shared cache in front of the site (nginx's proxy_cache, a CDN) may keep.

A page may be stored there only when it is the same for every anonymous reader
(home, sections, authors, search, feeds, sitemaps, free articles: views say so
with `shareable`) AND the request carried nothing that makes it personal: no
session cookie (a logged-in reader, or a flash message waiting in the session),
no messages cookie — and the response sets no cookie. Everything else is
`private, no-cache`: metered and subscribers-only articles (the meter decides
per reader), every page of a logged-in reader, forms with CSRF tokens.

The shared cache keeps a shareable page `SHARED_CACHE_SECONDS` (`s-maxage`) and
may serve it stale for `SHARED_CACHE_STALE_SECONDS` more while it fetches a
fresh copy (`stale-while-revalidate`); browsers keep nothing (`max-age=0`). So
a newly published or edited story reaches every reader within the cache time.
The proxy must skip its cache for requests that carry the session or messages
cookie (deploy/nginx-newsroom.conf, docs/production.md) — the page varies by
them, and `Vary: Cookie` alone would split the cache per meter cookie.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers

_MARK = "_same_for_every_anonymous_reader"


def personal_cookies() -> tuple[str, ...]:
    """Cookies whose presence makes a page personal (the proxy bypasses its cache on them)."""
    return (settings.SESSION_COOKIE_NAME, "messages")


def shareable(response: HttpResponse) -> HttpResponse:
    """Say that this response is the same for every anonymous reader (the
    middleware still keeps it private for a reader with a session)."""
    setattr(response, _MARK, True)
    return response


def shareable_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return shareable(view(request, *args, **kwargs))

    wrapped.__name__ = getattr(view, "__name__", type(view).__name__)
    wrapped.__doc__ = view.__doc__
    return wrapped


def private(response: HttpResponse) -> HttpResponse:
    """Pages that differ by reader must never sit in a shared cache."""
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ["Cookie"])
    return response


def decide(request: HttpRequest, response: HttpResponse) -> None:
    """Set Cache-Control on a response once every middleware has had its say."""
    if getattr(response, _MARK, False):
        may_share = (
            settings.SHARED_CACHE_SECONDS > 0
            and request.method in ("GET", "HEAD")
            and response.status_code == 200
            and not response.cookies
            and not any(name in request.COOKIES for name in personal_cookies())
        )
        if may_share:
            patch_cache_control(
                response,
                public=True,
                max_age=0,
                s_maxage=settings.SHARED_CACHE_SECONDS,
                stale_while_revalidate=settings.SHARED_CACHE_STALE_SECONDS,
            )
            patch_vary_headers(response, ["Cookie"])
        else:
            # Drop what the view set for everyone (e.g. the sitemap's framework headers) and keep it private.
            del response["Cache-Control"]
            private(response)
    elif "Cache-Control" not in response and response.get("Content-Type", "").startswith("text/html"):
        # HTML pages carry reader-specific parts (account links, ad slots, the meter).
        private(response)
