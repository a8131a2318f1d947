"""The site's URLs plus two reference views, through the same middleware on the
same server (bench/run.py reports the article page as a ratio to the first):

/_bench/minimal/<size>/ — the smallest Django view that returns an HTML page of
  `size` bytes.
/_bench/meter-call/<article id>/<size>/ — the same page after the one thing no
  metered article view can skip: the meter's call to its store
  (subscriptions.meter.consume; Redis in production). Its ratio is the ceiling for an article view
  behind the whole middleware (a kept anonymous page answered before it can do better).
"""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from newsroom.urls import handler404, handler500  # noqa: F401
from subscriptions import meter


def minimal(request: HttpRequest, size: int) -> HttpResponse:
    head = b"<!doctype html><title>minimal</title><p>"
    return HttpResponse(head + b"x" * max(0, size - len(head)), content_type="text/html; charset=utf-8")


def meter_call(request: HttpRequest, article_id: int, size: int) -> HttpResponse:
    meter.consume(request, article_id)
    return minimal(request, size)


urlpatterns = [
    path("_bench/minimal/<int:size>/", minimal),
    path("_bench/meter-call/<int:article_id>/<int:size>/", meter_call),
    path("", include("newsroom.urls")),
]
