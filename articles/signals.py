"""Signal receivers: cached article pages go stale when what they show changes."""

from django.db.models.signals import m2m_changed, post_delete, post_save

from subscriptions.models import Plan

from . import page_cache
from .models import Article, Author, Category


def connect() -> None:
    # Comments are not here: anonymous pages show only their count, which is in the key.
    for model in (Article, Author, Category, Plan):
        post_save.connect(page_cache.invalidate, sender=model, dispatch_uid=f"page-cache-save-{model.__name__}")
        post_delete.connect(page_cache.invalidate, sender=model, dispatch_uid=f"page-cache-delete-{model.__name__}")
    m2m_changed.connect(page_cache.invalidate, sender=Article.authors.through, dispatch_uid="page-cache-authors")
