"""An anonymous reader's kept article page, answered before the per-reader middleware.

Most article pages go to readers without an account, and theirs is kept after
the meter's answer: one call to Redis spends the credit and finds the page
(page_cache.anonymous_page). For such a request the middleware below this one —
sessions, CSRF, authentication, messages, allauth — decides nothing (no session,
no form token, no user), yet costs more than that call and the page together.
So this middleware answers it itself, with the view's own response
(views.respond_kept) and the meter's cookie for a new reader. It sits below
everything that makes headers for every response (security, CSP, frame options,
NUL-byte refusal, the shared-cache decision), so those are made for this
response as for any other; nothing is learned from another response. A page that
needs a CSRF cookie, and anything that is not an anonymous article GET, goes the
usual way; a credit spent here for an answer whose page is not kept is handed to
the view (page_cache.hand_over), never spent twice.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils.cache import patch_vary_headers

from subscriptions import meter

from . import page_cache, views


class KeptPageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        slug = _anonymous_article(request)
        if slug is None:
            return self.get_response(request)
        served = page_cache.anonymous_page(request, slug)  # WRITES: may spend the reader's credit
        if served is None or served.html is None or request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
            page_cache.hand_over(request, served)  # the view goes on from the meter's answer
            return self.get_response(request)
        response = views.respond_kept(served)
        # What the session and CommonMiddleware below would have added to this response.
        patch_vary_headers(response, ["Cookie"])
        response["Content-Length"] = str(len(response.content))
        meter.set_cookie_if_needed(request, response)
        return response


def _anonymous_article(request: HttpRequest) -> str | None:
    """The article's slug, if this is a request anonymous_page() may answer."""
    if not page_cache.in_one_call(request):
        return None
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    return match.kwargs["slug"] if match.func is views.article_detail else None
