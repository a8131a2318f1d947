from collections.abc import Callable

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, QueryDict

from . import shared_cache


class SharedCacheMiddleware:
    """The last word on Cache-Control (newsroom/shared_cache.py). First in
    MIDDLEWARE, so it sees the response after every other middleware has set
    its cookies: a response that sets one is never shared."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        shared_cache.decide(request, response)
        return response


class RejectNulBytesMiddleware:
    """A NUL byte anywhere a client controls — path, query, form fields, cookies — is a 400.

    No legitimate browser sends one, and PostgreSQL cannot store or compare text
    holding one (psycopg2 refuses the query), so without this any view that
    passes such a value to the database answers 500. One check here instead of
    one in every view. Bodies that are not forms (the Stripe webhook's JSON) are
    left to their views.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.has_nul(request):
            raise BadRequest("NUL byte in the request")
        return self.get_response(request)

    @staticmethod
    def has_nul(request: HttpRequest) -> bool:
        if "\x00" in request.path or _in(request.GET):
            return True
        if any("\x00" in k or "\x00" in v for k, v in request.COOKIES.items()):
            return True
        if request.method == "POST" and request.content_type in ("application/x-www-form-urlencoded", FORM_DATA):
            return _in(request.POST)
        return False


FORM_DATA = "multipart/form-data"


def _in(data: QueryDict) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in data.lists())
