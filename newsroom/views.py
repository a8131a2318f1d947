import errno

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe
from django.views.static import serve


@require_safe
@cache_control(max_age=3600, public=True)
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /accounts/",
        "Disallow: /account/",
        "Disallow: /stripe/",
        f"Sitemap: {request.build_absolute_uri(reverse('django.contrib.sitemaps.views.sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


@require_safe
def media(request: HttpRequest, path: str) -> HttpResponse:
    """An uploaded file (with SERVE_MEDIA on). A name the file system cannot even look up
    (longer than it allows) names no file: a 404, as any other missing file."""
    try:
        return serve(request, path, document_root=settings.MEDIA_ROOT)
    except OSError as error:
        if error.errno == errno.ENAMETOOLONG:
            raise Http404("No such file.") from None
        raise


@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness plus a real round trip to the database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return JsonResponse({"status": "error", "database": str(exc.__class__.__name__)}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Anything the client sent that cannot be read (a NUL byte, a broken form): a page, not Django's bare text."""
    return render(request, "400.html", status=400)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors or database: this must render even when they are broken.
    return HttpResponse(loader.get_template("500.html").render(), status=500)
