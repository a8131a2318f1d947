"""NewsArticle JSON-LD, built only from what the reader may see; and the
newsroom's own NewsMediaOrganization, which points at the pages saying how it works.

For a paywalled article Google's documented markup is used:
`isAccessibleForFree: false` and `hasPart` pointing at the CSS class of the
paywalled part. `articleBody` is never more than the text shown on the page.
"""

import json

from django.conf import settings
from django.http import HttpRequest
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import mark_safe
from django.utils.safestring import SafeString

from subscriptions.access import Decision

from .models import Article
from .rendering import plain_text

PAYWALL_CSS_CLASS = "paywalled-content"
_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def news_article(request: HttpRequest, article: Article, decision: Decision, visible_html: str) -> SafeString:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "description": article.standfirst,
        "datePublished": article.publish_at.isoformat(),
        "dateModified": article.modified_at.isoformat(),  # real edits only, not every save
        "mainEntityOfPage": request.build_absolute_uri(article.get_absolute_url()),
        "articleSection": article.category.name,
        "keywords": [t.name for t in article.topics],
        "author": [
            {"@type": "Person", "name": a.name, "url": request.build_absolute_uri(a.get_absolute_url())}
            for a in article.byline
        ],
        "isAccessibleForFree": article.is_free,
        "articleBody": plain_text(visible_html),
    }
    if article.hero_image:
        data["image"] = [request.build_absolute_uri(article.hero_image.url)]
    if not article.is_free:
        data["hasPart"] = {
            "@type": "WebPageElement",
            "isAccessibleForFree": False,
            "cssSelector": f".{PAYWALL_CSS_CLASS}",
        }
    return _script(data)


def _script(data: dict) -> SafeString:
    payload = json.dumps(data, ensure_ascii=False).translate(_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{payload}</script>')


def news_media_organization(request: HttpRequest) -> SafeString:
    """Who publishes the site, with links to the pages that say how (schema.org's
    publishingPrinciples and its kin: Google and the Trust Project read these)."""

    def url(slug: str) -> str:
        return request.build_absolute_uri(reverse(f"articles:page_{slug}"))

    home = request.build_absolute_uri(reverse("articles:home"))
    return _script(
        {
            "@context": "https://schema.org",
            "@type": "NewsMediaOrganization",
            "@id": home + "#organization",
            "name": settings.SITE_NAME,
            "url": home,
            "logo": request.build_absolute_uri(static("apple-touch-icon.png")),
            "publishingPrinciples": url("about"),
            "masthead": url("about"),
            "correctionsPolicy": url("corrections"),
            "actionableFeedbackPolicy": url("contact"),
            "contactPoint": {"@type": "ContactPoint", "contactType": "newsroom", "url": url("contact")},
        }
    )
