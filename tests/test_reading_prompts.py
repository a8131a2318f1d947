"""The end of a story asks once: an anonymous reader gets the digest form at the story's end
(not again in the footer), a logged-in reader without a subscription gets the plans when
payments are open, a subscriber gets nothing; a topic page's headings go h1, then h2."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from articles.models import Article, Tag

from .conftest import make_article, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plans")]


def _page(article: Article, user=None) -> str:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client.get(article.get_absolute_url()).content.decode()


@pytest.mark.parametrize("payments", [True, False])
def test_a_free_reader_is_asked_once_at_the_end_and_a_subscriber_not_at_all(payments, settings, subscriber) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_prompts" if payments else ""
    story = make_article(access=Article.Access.FREE)
    anonymous = _page(story)
    assert anonymous.count('<form class="email-signup') == 1 and 'class="end-prompt"' not in anonymous
    free = _page(story, make_user("free.prompt@example.com"))
    assert free.count('class="end-prompt"') == (1 if payments else 0)
    assert "email-signup" not in free
    paid = _page(story, subscriber)
    assert 'class="end-prompt"' not in paid and "email-signup" not in paid


def test_a_topic_pages_headings_go_in_order() -> None:
    tag = Tag.objects.create(name="Harbour works", slug="harbour-works")
    make_article(title="Dredging starts in May").tags.add(tag)
    body = Client().get(tag.get_absolute_url()).content.decode()
    main = body.split("<main", 1)[1].split("</main>", 1)[0]
    levels = [int(n) for n in re.findall(r"<h([1-6])\b", main)]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), levels
