"""An anonymous reader's kept article page, answered before the rest of the middleware.

Most article pages go to readers without an account, and theirs is kept after
the meter's answer: one call to Redis spends the credit and finds the page
(page_cache.anonymous_page). For such a request the middleware below this one —
sessions, CSRF, authentication, messages, CSP and security headers — decides
nothing (no session, no form token, no user), yet costs more than that call and
the page together. So this middleware, just inside SharedCacheMiddleware (which
still decides Cache-Control), answers it itself: the view's own response
(views.respond_kept), the meter's cookie for a new reader, and the headers the
rest of the stack added to the same kind of page (free or metered, http or
https) the last time this worker answered one in full. A worker's first such
page, and anything else, goes the usual way; a credit spent here for an answer
whose page is not kept is handed to the view (page_cache.hand_over), never spent twice.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from newsroom.middleware import RejectNulBytesMiddleware
from subscriptions import meter

from . import page_cache, views

# (free article, https) -> the headers the middleware stack added to such a page.
_STACK_HEADERS: dict[tuple[bool, bool], list[tuple[str, str]]] = {}
_PER_RESPONSE = {"Set-Cookie", "Content-Length"}


@receiver(setting_changed)
def _forget_headers(**kwargs) -> None:
    _STACK_HEADERS.clear()


class KeptPageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        slug = _anonymous_article(request)
        if slug is None:
            return self.get_response(request)
        served = page_cache.anonymous_page(request, slug)  # WRITES: may spend the reader's credit
        kind = served is not None and served.html is not None and (served.is_free, request.is_secure())
        if kind in _STACK_HEADERS and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):  # a form: the CSRF cookie
            response = views.respond_kept(served)
            for header, value in _STACK_HEADERS[kind]:
                response.headers.setdefault(header, value)
            response["Content-Length"] = str(len(response.content))
            meter.set_cookie_if_needed(request, response)
            return response
        page_cache.hand_over(request, served)
        response = self.get_response(request)
        if kind and response.status_code == 200:
            _STACK_HEADERS[kind] = [(h, v) for h, v in response.items() if h not in _PER_RESPONSE]
        return response


def _anonymous_article(request: HttpRequest) -> str | None:
    """The article's slug, if this is a request anonymous_page() may answer and the
    rest of the stack would neither refuse nor redirect."""
    if not settings.KEPT_PAGES_EARLY or not page_cache.in_one_call(request):
        return None
    if settings.SECURE_SSL_REDIRECT and not request.is_secure():
        return None
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    if match.func is not views.article_detail or RejectNulBytesMiddleware.has_nul(request):
        return None
    return match.kwargs["slug"]
