"""Nothing leaks: every URL that can output article text, for every persona.

A marker sentence, a picture and an embed sit after the teaser of a metered
and a subscribers-only article. It may appear only on the article page, and only for readers the
access module lets read it in full. Crawler user agents, search/social
referrers and a client-sent X-Forwarded-For change nothing.
"""

import json
import re

import pytest
from django.test import Client

from articles.models import Article, InlineImage

from .conftest import MARKER, make_article, make_user
from .test_editor_desk import png

pytestmark = pytest.mark.django_db

PERSONAS = ["anonymous_fresh", "anonymous_over_limit", "free_reader_over_limit", "lapsed", "subscriber", "editor"]
ENTITLED = {"subscriber", "editor"}
HEADER_SETS = {
    "plain": {},
    "googlebot": {
        "HTTP_USER_AGENT": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "REMOTE_ADDR": "66.249.66.1",
    },
    "search_referrer": {"HTTP_REFERER": "https://www.google.com/"},
    "social_referrer": {"HTTP_REFERER": "https://t.co/abc", "HTTP_USER_AGENT": "facebookexternalhit/1.1"},
    "forwarded_for": {"HTTP_X_FORWARDED_FOR": "66.249.66.1"},
}


# What the paid part holds besides text: a picture (its file names) and an embed (its id).
PAID_PICTURE = "paid-picture"
PAID_EMBED = "PaidVideo01"
PAID_BITS = (MARKER, PAID_PICTURE, PAID_EMBED)


def paid_body(image: InlineImage) -> str:
    return (
        "Opening paragraph number one, public.\n\nSecond paragraph, still public.\n\n"
        "Third paragraph, the end of the teaser.\n\n"
        f"{MARKER}\n\n> A pull quote that only readers with access see.\n\n"
        f"[image {image.pk}]\n\nhttps://www.youtube.com/watch?v={PAID_EMBED}\n\nA closing paragraph."
    )


@pytest.fixture
def site(category, author, settings, tmp_path):
    settings.FREE_ARTICLES_PER_DAY = 2
    settings.MEDIA_ROOT = tmp_path
    picture = InlineImage.objects.create(image=png(f"{PAID_PICTURE}.png"), alt="A paid picture", caption="Paid.")
    metered = make_article(
        category=category, authors=[author], title="Harbor contracts under review", body=paid_body(picture)
    )
    locked = make_article(
        category=category,
        authors=[author],
        access=Article.Access.SUBSCRIBERS,
        title="Inside the procurement memo",
        body=paid_body(picture),
    )
    fillers = [make_article(category=category, authors=[author]) for _ in range(2)]
    return {"metered": metered, "locked": locked, "fillers": fillers}


def persona_client(name: str, site: dict, request, headers: dict) -> Client:
    client = Client(**headers)
    if name in ("free_reader_over_limit",):
        client.force_login(make_user())
    elif name in ("lapsed", "subscriber", "editor"):
        client.force_login(request.getfixturevalue(name))
    if name.endswith("over_limit") or name == "lapsed":
        for filler in site["fillers"]:
            assert MARKER in client.get(filler.get_absolute_url()).content.decode()
    return client


def article_urls(site: dict) -> dict[str, tuple[str, bool]]:
    """url -> (label, is an article page of a non-free article)."""
    urls: dict[str, tuple[str, bool]] = {}
    for key in ("metered", "locked"):
        article = site[key]
        base = article.get_absolute_url()
        for suffix in ("", "?print=1", "?format=json", "?amp=1", "?output=amp"):
            urls[base + suffix] = (key, True)
    category = site["metered"].category
    author = site["metered"].authors.first()
    listing = [
        "/",
        category.get_absolute_url(),
        author.get_absolute_url(),
        "/search/?q=paid+paragraph+marker",
        "/search/?q=Harbor",
        "/feed/",
        f"/category/{category.slug}/feed/",
        "/sitemap.xml",
        "/sitemap-news.xml",
        "/subscribe/",
    ]
    for url in listing:
        urls[url] = ("listing", False)
    return urls


def may_read(persona: str, key: str) -> bool:
    if persona in ENTITLED:
        return True
    return persona == "anonymous_fresh" and key == "metered"


@pytest.mark.parametrize("header_set", list(HEADER_SETS))
@pytest.mark.parametrize("persona", PERSONAS)
def test_paid_text_reaches_only_readers_who_may_read_it(persona, header_set, site, request) -> None:
    client = persona_client(persona, site, request, HEADER_SETS[header_set])
    for url, (key, is_article_page) in article_urls(site).items():
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        expected = is_article_page and may_read(persona, key)
        for bit in PAID_BITS:
            assert (bit in body) is expected, f"{persona}/{header_set}: {url} ({bit})"
        if is_article_page:
            assert "private" in response["Cache-Control"], url
            assert response["X-Robots-Tag"] == "noarchive", url
            check_structured_data(body, expected)


def check_structured_data(html: str, full: bool) -> None:
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(blocks) == 1
    data = json.loads(blocks[0])
    assert data["@type"] == "NewsArticle"
    assert data["isAccessibleForFree"] is False
    assert data["hasPart"]["cssSelector"] == ".paywalled-content"
    assert (MARKER in data["articleBody"]) is full
    og = re.search(r'<meta property="og:description" content="([^"]*)"', html)
    assert og and og.group(1).startswith("Summary of story")


def test_the_teaser_is_shown_where_the_full_text_is_not(site, client, settings) -> None:
    settings.FREE_ARTICLES_PER_DAY = 0
    body = client.get(site["metered"].get_absolute_url()).content.decode()
    assert "Opening paragraph number one" in body
    assert "Third paragraph, the end of the teaser." in body
    assert "A pull quote that only readers" not in body
    assert "A closing paragraph." not in body


def test_an_editors_paywall_break_ends_the_teaser_early(category, author, client, settings) -> None:
    settings.FREE_ARTICLES_PER_DAY = 0
    article = make_article(
        category=category, authors=[author], body="First, public.\n\n[paywall]\n\nSecond, paid only.\n\nThird."
    )
    body = client.get(article.get_absolute_url()).content.decode()
    assert "First, public." in body
    assert "Second, paid only." not in body
    assert "[paywall]" not in body


def test_free_articles_are_whole_everywhere_and_indexable(category, author, client) -> None:
    free = make_article(category=category, authors=[author], access=Article.Access.FREE)
    response = client.get(free.get_absolute_url())
    assert MARKER in response.content.decode()
    assert "X-Robots-Tag" not in response
    assert MARKER in client.get("/feed/").content.decode()


@pytest.mark.parametrize("url", ["/", "/search/?q=story"])
def test_listings_are_shared_cacheable_only_without_a_session(url, article, client, subscriber) -> None:
    response = client.get(url)
    assert "public" in response["Cache-Control"] and "s-maxage" in response["Cache-Control"]
    client.force_login(subscriber)
    response = client.get(url)
    assert "private" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]


def test_pages_that_differ_by_reader_are_never_shared_cacheable(article, client) -> None:
    for url in ("/subscribe/", article.get_absolute_url()):  # a metered article: the meter decides per reader
        response = client.get(url)
        assert "private" in response["Cache-Control"], url
        assert "Cookie" in response["Vary"], url


# Phrases only in the paid part of both articles (after the teaser): the marker
# sentence, quoted and not, and the pull quote.
ORACLE_QUERIES = ['"paid paragraph marker sentence"', "marker sentence lives here", "pull quote only readers access"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_search_is_no_oracle_on_paid_text(persona, site, request) -> None:
    """Whether an article comes back for a phrase says whether the phrase is in it:
    a reader who may not read the paid part must not match an article by it."""
    client = persona_client(persona, site, request, {})
    paid = {site["metered"].pk, site["locked"].pk}
    for query in ORACLE_QUERIES:
        response = client.get("/search/", {"q": query})
        assert response.status_code == 200
        found = {a.pk for a in response.context["articles"]} & paid
        assert found == (paid if persona in ENTITLED else set()), f"{persona}: {query}"
        if persona not in ENTITLED:
            assert "Nothing matched" in response.content.decode()
    # The public text (headline, summary, teaser) finds them for everyone.
    for query in ["Harbor contracts", "procurement memo", f'"{site["locked"].standfirst}"', "opening paragraph"]:
        found = {a.pk for a in client.get("/search/", {"q": query}).context["articles"]}
        assert found & paid, f"{persona}: {query}"


def test_search_pages_through_no_paid_matches(site, request) -> None:
    """Pagination, ordering and the result count cannot betray a paid match either."""
    client = persona_client("anonymous_fresh", site, request, {})
    for params in [{"q": "marker", "page": "1"}, {"q": "marker sentence", "page": "last"}]:
        response = client.get("/search/", params)
        assert response.status_code in (200, 404)
        if response.status_code == 200:
            assert response.context["paginator"].count == 0
