from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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
