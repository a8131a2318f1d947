"""The share row under a story: plain links to share addresses (no third-party script),
a "Copy link" button that a first-party script reveals, and nothing in it that differs
between readers, so the page cache and the CSP are unaffected (issue 29)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from django.test import Client

from articles.models import Article
from articles.sharing import share_links

from .conftest import make_article

pytestmark = pytest.mark.django_db


def share_row(html: str) -> str:
    return re.search(r'<div class="share".*?</div>', html, re.S).group(0)


def test_each_link_carries_the_storys_public_address_and_title(settings, category) -> None:
    story = make_article(category=category, title="Ships & shipyards: who pays?")
    address = f"{settings.SITE_URL}{story.get_absolute_url()}"
    links = {link.network: link.url for link in share_links(story)}
    assert set(links) == {"Email", "Bluesky", "Facebook", "LinkedIn", "X"}

    mail = urlsplit(links["Email"])
    assert mail.scheme == "mailto" and "+" not in mail.query  # spaces as %20: mail clients keep a + as a +
    assert parse_qs(mail.query) == {"subject": [story.title], "body": [f"{story.title}\n\n{address}"]}
    assert parse_qs(urlsplit(links["Bluesky"]).query) == {"text": [f"{story.title} {address}"]}
    assert parse_qs(urlsplit(links["Facebook"]).query) == {"u": [address]}
    assert parse_qs(urlsplit(links["LinkedIn"]).query) == {"url": [address]}
    assert parse_qs(urlsplit(links["X"]).query) == {"text": [story.title], "url": [address]}
    for network in ("Bluesky", "Facebook", "LinkedIn", "X"):
        assert links[network].startswith("https://"), network


def test_the_article_page_shows_the_row_with_the_script_only_buttons_hidden(settings, article) -> None:
    html = Client().get(article.get_absolute_url()).content.decode()
    row = share_row(html)
    assert 'aria-labelledby="share-title"' in row and "Share this story" in row
    assert 'role="status"' not in row  # the page's messages are its one status; the row only has a live region
    address = f"{settings.SITE_URL}{article.get_absolute_url()}"
    assert f'data-share-copy="{address}" hidden>Copy link</button>' in row
    assert f'data-share-native="{address}"' in row and "hidden>Share…</button>" in row
    assert f'href="mailto:?subject={quote(article.title)}' in row
    # Our own script, from our own origin; no network's widget, no inline script.
    assert '<script src="/static/js/share.js" defer></script>' in html
    assert not re.search(r"<script(?![^>]*(src=\"/static/|type=\"application/ld\+json\"))", html)
    for network in ("facebook", "bsky", "linkedin", "x.com"):
        assert not re.search(rf"<(script|iframe|img)[^>]+{network}", html), network


def test_a_gift_link_or_a_query_never_reaches_the_share_row(settings, article) -> None:
    plain = share_row(Client().get(article.get_absolute_url()).content.decode())
    gifted = share_row(Client().get(article.get_absolute_url() + "?gift=secret-token&utm_source=x").content.decode())
    assert gifted == plain
    assert "secret-token" not in gifted and "utm_source" not in gifted


def test_every_anonymous_reader_and_a_subscriber_get_the_same_row(subscriber, category) -> None:
    story = make_article(category=category, access=Article.Access.SUBSCRIBERS)
    anonymous = share_row(Client().get(story.get_absolute_url()).content.decode())
    reader = Client()
    reader.force_login(subscriber)
    assert share_row(reader.get(story.get_absolute_url()).content.decode()) == anonymous


def test_the_title_is_escaped_in_the_row(category) -> None:
    story = make_article(category=category, title='Quotes "here" <b>and</b> there')
    row = share_row(Client().get(story.get_absolute_url()).content.decode())
    assert "<b>" not in row
    assert 'data-share-title="Quotes &quot;here&quot; &lt;b&gt;and&lt;/b&gt; there"' in row
