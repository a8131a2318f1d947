
from django import template
from django.contrib.auth import password_validation
from django.utils import timezone
from django.utils.safestring import mark_safe

from articles import rendering
from articles.models import Category
from newsroom import versioned_cache
from subscriptions import billing

register = template.Library()


# Retired by any section's save or delete (articles/receivers.py, before the pages that show it).
SECTIONS_VERSION = versioned_cache.version_key("articles:sections")


@register.simple_tag
def password_rules() -> str:
    """The password validators (AUTH_PASSWORD_VALIDATORS) as one plain sentence, instead of
    Django's list of "Your password can't be…" lines."""
    parts, at_least = [], ""
    for validator in password_validation.get_default_password_validators():
        match validator:
            case password_validation.MinimumLengthValidator(min_length=n):
                at_least = f"at least {n} characters"
            case password_validation.NumericPasswordValidator():
                parts.append("not only numbers")
            case password_validation.CommonPasswordValidator():
                parts.append("not a password many people use")
            case password_validation.UserAttributeSimilarityValidator():
                parts.append("not close to your email address or name")
            case _:
                return password_validation.password_validators_help_text_html()  # a rule we can't word
    if not (at_least or parts):
        return ""
    head = f"Use {at_least}" if at_least else "Any length will do"
    if not parts:
        return head + "."
    rest = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"{head}: {rest}."


@register.simple_tag
def payments_open() -> bool:
    """Whether a reader can pay today: with no Stripe keys the site must not sell a trial it cannot start."""
    return billing.is_configured()


def _sections() -> list[Category]:
    return list(Category.objects.only("name", "slug", "position"))


@register.simple_tag(takes_context=True)
def nav_categories(context) -> list[Category]:
    """Section names for the navigation (header and footer): from the shared
    cache, once per request, while no section has changed (SECTIONS_VERSION)."""
    request = context.get("request")
    categories = getattr(request, "_nav_categories", None)
    if categories is None:
        categories = versioned_cache.kept("articles:nav-sections", SECTIONS_VERSION, 300, _sections)
        if request is not None:
            request._nav_categories = categories
    return categories


@register.simple_tag(takes_context=True)
def news_media_organization(context) -> str:
    """The newsroom's NewsMediaOrganization JSON-LD (home and about pages)."""
    from articles.structured_data import news_media_organization as organization

    return organization(context["request"])


@register.simple_tag
def picture(article, sizes: str = "", eager: bool = False) -> str:
    """A story's main picture with its renditions (rendering.picture): a tag, not an
    included template, because it is on every card."""
    return rendering.picture(
        article.hero_renditions or {}, article.hero_image.url, article.hero_alt or article.title,
        sizes or "100vw", eager=eager,
    )


@register.filter(needs_autoescape=False)
def comment_text(value: str) -> str:
    """A reader's plain-text comment as safe HTML: everything escaped, web
    links made clickable with rel="nofollow ugc", line breaks kept."""
    from django.utils.html import urlize
    from django.utils.text import normalize_newlines

    html = urlize(normalize_newlines(value or ""), nofollow=True, autoescape=True)
    html = html.replace('rel="nofollow"', 'rel="nofollow ugc"')
    return mark_safe(html.replace("\n", "<br>"))


@register.filter
def display_name(user) -> str:
    return user.get_full_name() or user.username


@register.filter
def machine_time(value) -> str:
    """A datetime for `<time datetime>` and meta tags: local time to the second
    with its offset. (`date:'c'` keeps microseconds, which HTML does not allow.)"""

    if not value:
        return ""
    return timezone.localtime(value).replace(microsecond=0).isoformat()
