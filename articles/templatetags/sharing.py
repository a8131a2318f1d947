from django import template

from articles import sharing
from articles.models import Article

register = template.Library()


@register.inclusion_tag("includes/share.html")
def share_row(article: Article) -> dict:
    """The share row under a story (articles/sharing.py decides the links)."""
    return {"article": article, "url": sharing.public_url(article), "links": sharing.share_links(article)}
