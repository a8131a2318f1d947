"""What a reader sees first on the reading pages: pictures in WebP and JPEG at
card sizes, times HTML accepts, the meter before the story, ads between
sections of text (never above the opening, never under the paywall), one of
each story on the home page."""

from __future__ import annotations

import json
import re
from io import BytesIO

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from articles.models import Article, Author, Tag
from articles.rendering import render_body, split_for_ad
from articles.search import HOME_LATEST
from subscriptions.models import default_plan
from tests.conftest import make_article, make_category

pytestmark = pytest.mark.django_db

LONG_BODY = "First.\n\nSecond.\n\nThird.\n\nFourth.\n\n## What next\n\nFifth.\n\nLast."


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path


def with_picture(article: Article) -> Article:
    buffer = BytesIO()
    Image.new("RGB", (1600, 900), (30, 60, 90)).save(buffer, format="JPEG")
    article.hero_image.save("harbour.jpg", ContentFile(buffer.getvalue()), save=True)
    return article


def test_the_ad_break_never_comes_before_the_opening_and_prefers_a_subheading() -> None:
    before, after = split_for_ad(render_body(LONG_BODY))
    assert before.count("<p>") == 4 and after.startswith("<h2>What next</h2>")
    short, rest = split_for_ad(render_body("One.\n\nTwo.\n\nThree.\n\nFour."))
    assert rest == "" and short.count("<p>") == 4  # too short to carry an ad inside


def test_renditions_come_in_webp_and_jpeg_down_to_card_sizes() -> None:
    article = with_picture(make_article())
    renditions = article.hero_renditions
    assert sorted(map(int, renditions["sizes"])) == sorted(map(int, renditions["webp"])) == [320, 640, 960, 1600]
    assert all(path.endswith(".webp") for path in renditions["webp"].values())


def test_a_new_reader_sees_the_meter_first_the_hero_first_and_an_ad_between_sections(client) -> None:
    article = with_picture(make_article(body=LONG_BODY))
    page = client.get(article.get_absolute_url()).content.decode()
    assert page.index('class="meter-note"') < page.index("<h1")
    assert "2 free articles left today." in page
    hero = re.search(r'<figure class="hero">.*?</figure>', page, re.S).group(0)
    assert '<source type="image/webp" srcset="' in hero and 'fetchpriority="high"' in hero and "lazy" not in hero
    for stamp in re.findall(r'<time datetime="([^"]+)"', page):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", stamp), stamp
    body = page[page.index('class="article__body"') : page.index('class="author-box"')]
    ad = body.index('aria-label="Advertisement in the story"')
    assert body[:ad].count("<p>") == 4 and "What next" in body[ad:]


def test_no_ad_sits_under_the_paywall(client, settings) -> None:
    settings.FREE_ARTICLES_PER_DAY = 0
    page = client.get(make_article(body=LONG_BODY).get_absolute_url()).content.decode()
    after_paywall = page[page.index('class="paywall"') :]
    assert 'class="author-box"' in after_paywall and 'class="ad-slot' not in after_paywall
    assert 'aria-label="Advertisement in the story"' not in page


def test_the_home_page_shows_each_story_once(client) -> None:
    sections = [make_category(), make_category()]
    for i in range(HOME_LATEST + 10):
        make_article(category=sections[i % 2], title=f"Harbour story {i}")
    page = client.get("/").content.decode()
    links = re.findall(r'<h[23] class="(?:card|lead-story)__title"[^>]*><a href="([^"]+)"', page)
    assert len(links) == len(set(links)) == HOME_LATEST + 1 + 2 * 4


@pytest.mark.parametrize("both_meter_stores", ["redis"], indirect=True)
@pytest.mark.parametrize("page_cache_seconds", [0, 300])
def test_the_byline_and_author_boxes_come_with_the_article_in_one_statement(
    client, settings, both_meter_stores, page_cache_seconds
) -> None:
    """Two authors and two topics, read with the story itself (Article.byline, Article.topics):
    by name, linked, with role, bio and portrait; the structured data names the same people."""
    settings.PAGE_CACHE_SECONDS = page_cache_seconds
    zoe = Author.objects.create(name="Zoë Quist", slug="zoe-quist", role="Harbor reporter", bio="Covers <the> port.")
    ada = Author.objects.create(name="Ada Brandt", slug="ada-brandt", photo="authors/ada.jpg")
    story = make_article(authors=[zoe, ada])
    shipping = Tag.objects.create(name="Shipping", slug="shipping")
    story.tags.set([shipping, Tag.objects.create(name="Audits", slug="audits")])
    client.get("/subscribe/")  # warm the small caches: navigation ...
    default_plan()  # ... and the plan the paywall advertises
    with CaptureQueriesContext(connection) as queries:
        page = client.get(story.get_absolute_url()).content.decode()
    # The story with its byline and topics, then the "More from" cards: no query per author or topic.
    assert len([q for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]) == 2
    byline = re.search(r'<p class="byline">(.*?)</p>', page, re.S).group(1)
    assert re.findall(r'<a href="([^"]+)">([^<]+)</a>', byline) == [
        ("/author/ada-brandt/", "Ada Brandt"), ("/author/zoe-quist/", "Zoë Quist")]  # fmt: skip
    boxes = re.findall(r'<aside class="author-box" aria-label="About ([^"]+)">(.*?)</aside>', page, re.S)
    assert [name for name, _ in boxes] == ["Ada Brandt", "Zoë Quist"]
    assert '<img class="author-box__photo" src="/media/authors/ada.jpg"' in boxes[0][1]
    assert "Harbor reporter" in boxes[1][1] and "Covers &lt;the&gt; port." in boxes[1][1]
    assert re.findall(r'<nav class="article__tags".*?</nav>', page, re.S)[0].count("<li>") == 2
    assert page.index('href="/topic/audits/"') < page.index('href="/topic/shipping/"')
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))
    article_data = next(d for d in (data if isinstance(data, list) else [data]) if d.get("@type") == "NewsArticle")
    assert [a["name"] for a in article_data["author"]] == ["Ada Brandt", "Zoë Quist"]
    assert article_data["keywords"] == ["Audits", "Shipping"]
