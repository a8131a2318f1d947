"""Signal receivers (imported by ArticlesConfig.ready): cached article pages
and the section menu go stale when what they show changes."""

from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from subscriptions.models import Plan

from . import page_cache
from .models import Article, Author, Category, Comment, Tag
from .templatetags.newsroom import NAV_CACHE_KEY


@receiver([post_save, post_delete], sender=Article)
@receiver([post_save, post_delete], sender=Author)
@receiver([post_save, post_delete], sender=Category)
@receiver([post_save, post_delete], sender=Plan)
@receiver([post_save, post_delete], sender=Tag)
@receiver(m2m_changed, sender=Article.authors.through)
@receiver(m2m_changed, sender=Article.tags.through)
def forget_pages(**kwargs) -> None:
    page_cache.invalidate()


@receiver([post_save, post_delete], sender=Comment)
def forget_comments(instance: Comment, **kwargs) -> None:
    """Pages show the article's comment count, and its cached row carries it."""
    page_cache.forget_comments(instance.article.slug)


@receiver([post_save, post_delete], sender=Category)
def forget_sections(**kwargs) -> None:
    cache.delete(NAV_CACHE_KEY)
