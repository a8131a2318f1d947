"""Gift links: make one from an article's page, revoke one from the account page.

Thin views: who may gift is access.may_give_gifts; the rules (monthly limit,
same link for the same article) are in articles/gifts.py."""

from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_POST

from subscriptions import access

from . import gifts
from .models import Article


@login_required
@require_POST
def gift_create(request: HttpRequest, slug: str) -> HttpResponse:
    article = get_object_or_404(Article.objects.published(), slug=slug)
    if not access.may_give_gifts(request.user):
        messages.warning(request, "Gift links are for subscribers. Subscribe to share articles with anyone.")
        return redirect("subscriptions:pricing")
    try:
        gift, created = gifts.gift_create(giver=request.user, article=article, label=request.POST.get("label", ""))
    except gifts.GiftRefused as exc:
        messages.error(request, str(exc))
        return redirect(article.get_absolute_url())
    link = request.build_absolute_uri(gift.get_absolute_url())
    subject = f"A gift from {settings.SITE_NAME}: {article.title}"
    response = render(
        request,
        "articles/gift_created.html",
        {
            "article": article,
            "gift": gift,
            "created": created,
            "link": link,
            "left": gifts.gifts_left(request.user),
            "gift_days": settings.GIFT_LINK_DAYS,
            "mailto": f"mailto:?subject={quote(subject)}&body={quote(link)}",
        },
    )
    # The page holds the secret link: not for any cache, nor for other sites' referrer logs.
    patch_cache_control(response, private=True, no_store=True)
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


@login_required
@require_POST
def gift_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    if gifts.gift_revoke(giver=request.user, gift_id=pk):
        messages.success(request, "The gift link is revoked: it no longer opens the article.")
    else:
        messages.info(request, "That gift link was already revoked.")
    return redirect(reverse("subscriptions:account") + "#gifts")
