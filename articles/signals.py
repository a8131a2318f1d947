"""Signal receivers: cached article pages go stale when what they show changes."""

from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save

from subscriptions.models import Plan

from . import page_cache
from .models import Article, Author, Category, Comment, Tag
from .templatetags.newsroom import NAV_CACHE_KEY


def forget_sections(**kwargs) -> None:
    cache.delete(NAV_CACHE_KEY)


def forget_comments(instance: Comment, **kwargs) -> None:
    """Pages show the article's comment count, and its cached row carries it."""
    page_cache.forget_comments(instance.article.slug)


def connect() -> None:
    for model in (Article, Author, Category, Tag, Plan):
        post_save.connect(page_cache.invalidate, sender=model, dispatch_uid=f"page-cache-save-{model.__name__}")
        post_delete.connect(page_cache.invalidate, sender=model, dispatch_uid=f"page-cache-delete-{model.__name__}")
    post_save.connect(forget_comments, sender=Comment, dispatch_uid="page-cache-comment-save")
    post_delete.connect(forget_comments, sender=Comment, dispatch_uid="page-cache-comment-delete")
    post_save.connect(forget_sections, sender=Category, dispatch_uid="nav-sections-save")
    post_delete.connect(forget_sections, sender=Category, dispatch_uid="nav-sections-delete")
    m2m_changed.connect(page_cache.invalidate, sender=Article.authors.through, dispatch_uid="page-cache-authors")
    m2m_changed.connect(page_cache.invalidate, sender=Article.tags.through, dispatch_uid="page-cache-tags")
