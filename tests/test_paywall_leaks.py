"""Nothing leaks: every URL that can output article text, for every persona.

A marker sentence, a picture and an embed sit after the teaser of a metered
and a subscribers-only article. It may appear only on the article page, and only for readers the
access module lets read it in full. Crawler user agents, search/social
referrers and a client-sent X-Forwarded-For change nothing — unless
CRAWLER_FULL_TEXT is on and DNS confirms the crawler. A live gift link and a
live private feed are capabilities: whoever holds one reads; a dead one
(revoked, expired, a lapsed giver's, another article's, replaced) gives nothing.
"""

import json
import re
import secrets
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Gift, InlineImage
from subscriptions import private_feeds
from subscriptions.models import FeedToken

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
    settings.FREE_ARTICLES_PER_DAY_REGISTERED = 3  # the registration wall: one more for an account
    metered = make_article(category=category, authors=[author], title="Harbor contracts under review")


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
    fillers = [make_article(category=category, authors=[author]) for _ in range(3)]
    return {"metered": metered, "locked": locked, "fillers": fillers}


def persona_client(name: str, site: dict, request, headers: dict) -> Client:
    client = Client(**headers)
    if name in ("free_reader_over_limit",):
        client.force_login(make_user())
    elif name in ("lapsed", "subscriber", "editor"):
        client.force_login(request.getfixturevalue(name))
    if name.endswith("over_limit") or name == "lapsed":
        logged_in = name != "anonymous_over_limit"
        limit = settings.FREE_ARTICLES_PER_DAY_REGISTERED if logged_in else settings.FREE_ARTICLES_PER_DAY
        for filler in site["fillers"][:limit]:
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


def test_a_metered_storys_feed_item_escapes_its_summary(category, author, client) -> None:
    story = make_article(category=category, authors=[author])
    story.standfirst = 'A summary with <img src=x onerror="alert(1)">'
    story.save()
    body = client.get("/feed/").content.decode()
    assert MARKER not in body
    # The description is HTML inside XML: escaped once for HTML, once more for XML.
    assert "&amp;lt;img src=x" in body and "&lt;img src=x" not in body


@pytest.mark.parametrize("url", ["/", "/search/?q=story"])
def test_listings_are_shared_cacheable_only_without_a_session(url, article, client, subscriber) -> None:
    response = client.get(url)
    assert "public" in response["Cache-Control"] and "s-maxage" in response["Cache-Control"]
    client.force_login(subscriber)
    response = client.get(url)
    assert "private" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]


# --- Gift links, private feeds, verified crawlers (issue 15) ---------------------------------

CRAWLER = {"HTTP_USER_AGENT": HEADER_SETS["googlebot"]["HTTP_USER_AGENT"], "REMOTE_ADDR": "66.249.66.1"}


@pytest.fixture
def new_paths(site, subscriber, lapsed, settings, dns_zone) -> dict[str, bool | None]:
    """url -> True (any reader sees the paid text there), False (only if the article page
    would show it to them anyway), None (404). Gifts and feeds are capabilities: whoever
    holds a live one reads, whoever holds a dead one gets what they would get without it."""
    settings.CRAWLER_FULL_TEXT = True
    dns_zone.host("66.249.66.1", "crawl-66-249-66-1.googlebot.com")
    now = timezone.now()

    def gift(article, giver, **extra) -> str:
        defaults = {"token": secrets.token_urlsafe(32), "expires_at": now + timedelta(days=30)}
        return Gift.objects.create(article=article, giver=giver, **{**defaults, **extra}).token

    paths: dict[str, bool | None] = {}
    for key in ("metered", "locked"):
        url = site[key].get_absolute_url()
        paths[f"{url}?gift={gift(site[key], subscriber)}"] = True
        paths[f"{url}?gift={gift(site[key], subscriber, revoked_at=now)}"] = False
        paths[f"{url}?gift={gift(site[key], subscriber, expires_at=now - timedelta(seconds=1))}"] = False
        paths[f"{url}?gift={gift(site[key], lapsed)}"] = False
        other = "locked" if key == "metered" else "metered"
        paths[f"{url}?gift={gift(site[other], subscriber)}"] = False
        paths[f"{url}?gift={'A' * 43}"] = False
        paths[f"{url}?gift="] = False
    live = private_feeds.feed_token_get_or_create(user=subscriber).token
    lapsed_feed = private_feeds.feed_token_get_or_create(user=lapsed).token
    replaced = private_feeds.feed_token_get_or_create(user=make_user()).token
    private_feeds.feed_token_replace(user=FeedToken.objects.get(token=replaced).user)
    paths[reverse("articles:private_feed", kwargs={"token": live})] = True
    paths[reverse("articles:private_feed", kwargs={"token": lapsed_feed})] = False
    paths[reverse("articles:private_feed", kwargs={"token": replaced})] = None
    paths[reverse("articles:private_feed", kwargs={"token": "unknown"})] = None
    paths[reverse("subscriptions:account")] = False
    return paths


def is_article_page(url: str, site: dict) -> str | None:
    for key in ("metered", "locked"):
        if url.startswith(site[key].get_absolute_url()):
            return key
    return None


@pytest.mark.parametrize("persona", [*PERSONAS, "verified_crawler", "spoofed_crawler"])
def test_gifts_feeds_and_crawlers_leak_nothing(persona, site, new_paths, request) -> None:
    if persona == "verified_crawler":
        client = Client(**CRAWLER)
    elif persona == "spoofed_crawler":
        # Claims Googlebot from an address DNS does not confirm: an anonymous reader, here over the limit.
        client = Client(HTTP_USER_AGENT=CRAWLER["HTTP_USER_AGENT"], REMOTE_ADDR="203.0.113.9")
        for filler in site["fillers"][: settings.FREE_ARTICLES_PER_DAY]:
            assert MARKER in client.get(filler.get_absolute_url()).content.decode()
    else:
        client = persona_client(persona, site, request, {})
    crawler = persona == "verified_crawler"
    urls = {**new_paths, **{url: False for url, (k, page) in article_urls(site).items() if page}}
    for url, opens in urls.items():
        response = client.get(url)
        if opens is None:
            assert response.status_code == 404, url
            continue
        assert response.status_code in (200, 302), url  # the account page sends the anonymous to log in
        body = response.content.decode()
        key = is_article_page(url, site)
        if key:
            expected = opens or may_read(persona, key) or crawler
            if not url.endswith("?gift=") and "?gift=" in url:
                assert response["X-Robots-Tag"] == "noindex, noarchive", url
                assert response["Referrer-Policy"] == "no-referrer", url
            check_structured_data(body, expected)
        else:
            expected = bool(opens)
        assert (MARKER in body) is expected, f"{persona}: {url}"
        assert "private" in response.get("Cache-Control", "private"), url
    # Making a gift shows a link, never the text.
    for key in ("metered", "locked"):
        response = client.post(reverse("articles:gift", kwargs={"slug": site[key].slug}))
        assert MARKER not in response.content.decode()


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
