"""The account page's list of a reader's gift links.

The account page belongs to subscriptions, which never imports articles; the
template loads this tag library instead, so the list lives with the gifts."""

from django import template

from articles import gifts
from articles.models import Gift

register = template.Library()


@register.inclusion_tag("articles/_account_gifts.html", takes_context=True)
def account_gifts(context) -> dict:
    request = context["request"]
    user = request.user
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "gifts": list(Gift.objects.filter(giver=user).select_related("article")[:100]),
        "left": gifts.gifts_left(user),
    }
