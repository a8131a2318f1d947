"""The site's URLs plus /_bench/minimal/<size>/: the smallest Django view that
returns an HTML page of `size` bytes, through the same middleware on the same
server. bench/run.py reports the article page as a ratio to it."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from newsroom.urls import handler404, handler500  # noqa: F401


def minimal(request: HttpRequest, size: int) -> HttpResponse:
    head = b"<!doctype html><title>minimal</title><p>"
    return HttpResponse(head + b"x" * max(0, size - len(head)), content_type="text/html; charset=utf-8")


urlpatterns = [
    path("_bench/minimal/<int:size>/", minimal),
    path("", include("newsroom.urls")),
]
