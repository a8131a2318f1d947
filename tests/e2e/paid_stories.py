"""Builders shared by the gift, feed, registration-wall and crawler journeys."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.utils import timezone

from articles.models import Article, Author, Category
from subscriptions.models import ComplimentaryAccess
from tests.conftest import make_article, make_author, make_category, make_user


def paid_story(
    title: str, *, category: Category, author: Author, access: str = Article.Access.METERED
) -> tuple[Article, str]:
    """A story whose unique marker sentence sits right after the editor's paywall break."""
    marker = f"Paid sentence {uuid.uuid4().hex}."
    body = f"The opening of {title.lower()}.\n\n[paywall]\n\n{marker}\n\nThe end."
    return make_article(title=title, body=body, category=category, authors=[author], access=access), marker


def paid_stories(n: int, access: str = Article.Access.METERED) -> list[tuple[Article, str]]:
    category, author = make_category(), make_author()
    return [paid_story(f"Estuary story {i}", category=category, author=author, access=access) for i in range(n)]


def subscriber(email: str):
    """A reader with complimentary access (no Stripe needed)."""
    user = make_user(email)
    ComplimentaryAccess.objects.create(user=user, until=timezone.now() + timedelta(days=30), note="e2e")
    return user
