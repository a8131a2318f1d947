from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from . import meter


class MeterCookieMiddleware:
    """Sets the reader's meter cookie when meter.reader_key() minted a new one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        meter.set_cookie_if_needed(request, response)
        return response
