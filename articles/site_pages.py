"""The newsroom's pages about itself: /about/, /contact/, /corrections/, /privacy/, /terms/.

Editors write them in the admin (articles.Page); they are the same for every
reader, so the shared cache in front of the site may keep them. The about page
carries the organisation's JSON-LD (as the home page does), which names the others
as its principles.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.views.decorators.http import require_safe

from newsroom import shared_cache

from .models import Page

# Each has its own address (articles/urls.py: "about/" named "page_about", …), before the article page's "<slug>/".
SLUGS = Page.Slug.values


@require_safe
@shared_cache.shareable_view
def page(request: HttpRequest, slug: str) -> HttpResponse:
    site_page = get_object_or_404(Page, slug=slug)
    return TemplateResponse(request, "articles/page.html", {"page": site_page})
