from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers


class PrivateByDefaultMiddleware:
    """HTML pages carry reader-specific parts (account links, ad slots, the
    meter), so unless a view says otherwise they must not be stored by a
    shared cache. Views that are the same for everyone (robots.txt, feeds)
    set their own Cache-Control."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Cache-Control" not in response and response.get("Content-Type", "").startswith("text/html"):
            patch_cache_control(response, private=True, no_cache=True)
            patch_vary_headers(response, ["Cookie"])
        return response
