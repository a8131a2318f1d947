"""The footer's "Feeds" link leads to a page that explains feeds in plain words and
lists the site's feeds by section, not to raw XML (issue 29)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from articles.models import Article

from .conftest import make_category

pytestmark = pytest.mark.django_db


def test_the_feeds_page_explains_feeds_and_lists_one_per_section(settings) -> None:
    sections = [make_category("Defense"), make_category("Culture")]
    response = Client().get("/feeds/")
    html = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert "feed reader" in html
    assert f'<a href="{reverse("articles:feed")}">' in html
    assert f"<code>{settings.SITE_URL}{reverse('articles:feed')}</code>" in html
    for section in sections:
        feed = reverse("articles:category_feed", args=[section.slug])
        assert f'<a href="{feed}">{section.name}</a><code>{settings.SITE_URL}{feed}</code>' in html
    # Subscribers learn about their private feed and where to find it.
    assert "private feed" in html and f'href="{reverse("subscriptions:account")}#feed"' in html


def test_every_footer_links_to_the_feeds_page_and_the_head_still_offers_the_feed_itself(article) -> None:
    for path in ("/", article.get_absolute_url(), "/search/"):
        html = Client().get(path).content.decode()
        footer = html[html.index('<footer class="site-footer">') :]
        assert f'href="{reverse("articles:feeds")}">Feeds</a>' in footer, path
        assert f'href="{reverse("articles:feed")}"' not in footer, path  # no XML from the footer
        # Feed readers still discover the XML from the page's head.
        assert f'type="application/rss+xml" title="The Ledger" href="{reverse("articles:feed")}"' in html, path


def test_the_feeds_page_is_the_same_for_every_anonymous_reader_so_shared_caches_may_keep_it() -> None:
    response = Client().get("/feeds/")
    assert "s-maxage" in response["Cache-Control"], response["Cache-Control"]


def test_no_story_can_take_the_feeds_pages_address(category) -> None:
    story = Article(title="Feeds", slug="feeds", standfirst="x", body="x", category=category)
    with pytest.raises(ValidationError, match="site's own pages"):
        story.full_clean()
