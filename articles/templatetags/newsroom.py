from django import template
from django.core.cache import cache

from articles.models import Category

register = template.Library()


@register.simple_tag
def nav_categories() -> list[Category]:
    """Section names for the navigation, cached briefly: they change rarely."""
    categories = cache.get("nav_categories")
    if categories is None:
        categories = list(Category.objects.only("name", "slug", "position"))
        cache.set("nav_categories", categories, 300)
    return categories


@register.simple_tag
def srcset(article) -> str:  # noqa: ANN001
    """`srcset` from the renditions made on save (see articles/images.py)."""
    from django.core.files.storage import default_storage

    sizes = (article.hero_renditions or {}).get("sizes", {})
    ordered = sorted(sizes.items(), key=lambda kv: int(kv[0]))
    return ", ".join(f"{default_storage.url(path)} {width}w" for width, path in ordered)


@register.filter(needs_autoescape=False)
def comment_text(value: str) -> str:
    """A reader's plain-text comment as safe HTML: everything escaped, web
    links made clickable with rel="nofollow ugc", line breaks kept."""
    from django.utils.html import urlize
    from django.utils.safestring import mark_safe
    from django.utils.text import normalize_newlines

    html = urlize(normalize_newlines(value or ""), nofollow=True, autoescape=True)
    html = html.replace('rel="nofollow"', 'rel="nofollow ugc"')
    return mark_safe(html.replace("\n", "<br>"))  # noqa: S308 - urlize escaped everything that is not a link


@register.filter
def display_name(user) -> str:  # noqa: ANN001
    return user.get_full_name() or user.username
