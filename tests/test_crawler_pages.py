"""Verified search-engine crawlers read paid text; anyone claiming to be one does not.

The DNS answers come from a real server on loopback (tests/dns_fake.py) that
the site's resolver asks; nothing is patched. The markup Google asks for
(NewsArticle hasPart.cssSelector) wraps exactly the text a reader without a
subscription could not normally read, on full, teaser and gift pages."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from articles.models import Article
from subscriptions.models import MeterDay

from .conftest import MARKER, make_article
from .dns_fake import Zone

pytestmark = pytest.mark.django_db

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
BINGBOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"


class _Selector(HTMLParser):
    """Text inside elements with a given class (nested divs counted)."""

    def __init__(self, css_class: str) -> None:
        super().__init__()
        self.css_class, self.depth, self.inside, self.count = css_class, 0, [], 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if self.depth:
            self.depth += 1
        elif self.css_class in (dict(attrs).get("class") or "").split():
            self.depth, self.count = 1, self.count + 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.inside.append(data)


def structured(html: str) -> dict:
    (block,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return json.loads(block)


def paywalled_text(html: str) -> tuple[str, int]:
    """(text inside the element hasPart names, how many such elements)."""
    selector = structured(html)["hasPart"]["cssSelector"]
    assert selector.startswith(".")
    parser = _Selector(selector[1:])
    parser.feed(html)
    return " ".join(parser.inside), parser.count


def assert_marked_up(html: str, *, full: bool) -> None:
    data = structured(html)
    assert data["isAccessibleForFree"] is False
    assert data["hasPart"] == {
        "@type": "WebPageElement",
        "isAccessibleForFree": False,
        "cssSelector": ".paywalled-content",
    }
    inside, count = paywalled_text(html)
    assert count >= 1  # Google allows several paywalled sections (an in-story ad may split it)
    assert (MARKER in inside) is full
    assert "Opening paragraph number one" not in inside  # the teaser is free to all: not marked paywalled
    assert (MARKER in data["articleBody"]) is full


@pytest.fixture
def crawler_on(settings, dns_zone: Zone) -> Zone:
    settings.CRAWLER_FULL_TEXT = True
    settings.FREE_ARTICLES_PER_DAY = 0  # an anonymous reader would get teasers only
    dns_zone.host("66.249.66.1", "crawl-66-249-66-1.googlebot.com")
    dns_zone.host("157.55.39.1", "msnbot-157-55-39-1.search.msn.com")
    # A spoofer's own reverse zone claims googlebot.com; googlebot.com does not point back.
    dns_zone.ptr("203.0.113.9", "crawl-66-249-66-9.googlebot.com")
    return dns_zone


@pytest.mark.parametrize("access", [Article.Access.METERED, Article.Access.SUBSCRIBERS])
@pytest.mark.parametrize(("agent", "ip"), [(GOOGLEBOT, "66.249.66.1"), (BINGBOT, "157.55.39.1")])
def test_a_verified_crawler_reads_paid_text_inside_the_haspart_element(crawler_on, category, author, access, agent, ip):
    article = make_article(category=category, authors=[author], access=access)
    response = Client(HTTP_USER_AGENT=agent, REMOTE_ADDR=ip).get(article.get_absolute_url())
    html = response.content.decode()
    assert_marked_up(html, full=True)
    assert "private" in response["Cache-Control"]
    assert not MeterDay.objects.exists()  # a crawler uses nobody's credits


@pytest.mark.parametrize(
    ("agent", "ip"),
    [
        (GOOGLEBOT, "203.0.113.9"),  # forged reverse name, no forward confirmation
        (GOOGLEBOT, "198.51.100.1"),  # no reverse name at all
        (BINGBOT, "66.249.66.1"),  # Google's address, Bing's name
        ("Mozilla/5.0 Firefox/140.0", "66.249.66.1"),  # Google's address, no claim
    ],
)
def test_anyone_else_with_a_crawler_user_agent_gets_the_teaser(crawler_on, article, agent, ip) -> None:
    html = Client(HTTP_USER_AGENT=agent, REMOTE_ADDR=ip).get(article.get_absolute_url()).content.decode()
    assert_marked_up(html, full=False)
    assert 'class="paywall"' in html


def test_with_the_setting_off_a_verified_crawler_is_an_anonymous_reader(crawler_on, article, settings) -> None:
    settings.CRAWLER_FULL_TEXT = False
    html = Client(HTTP_USER_AGENT=GOOGLEBOT, REMOTE_ADDR="66.249.66.1").get(article.get_absolute_url()).content.decode()
    assert MARKER not in html
    assert crawler_on.queries == []  # not even asked


def test_a_crawlers_page_is_never_served_from_or_into_the_shared_cache(crawler_on, article) -> None:
    crawler = Client(HTTP_USER_AGENT=GOOGLEBOT, REMOTE_ADDR="66.249.66.1")
    spoofer = Client(HTTP_USER_AGENT=GOOGLEBOT, REMOTE_ADDR="203.0.113.9")
    assert MARKER in crawler.get(article.get_absolute_url()).content.decode()
    assert MARKER not in spoofer.get(article.get_absolute_url()).content.decode()
    assert MARKER not in Client().get(article.get_absolute_url()).content.decode()


def test_a_subscribers_full_page_marks_the_paid_part(article, subscriber) -> None:
    client = Client()
    client.force_login(subscriber)
    assert_marked_up(client.get(article.get_absolute_url()).content.decode(), full=True)


def test_a_metered_full_page_marks_the_paid_part(article) -> None:
    assert_marked_up(Client().get(article.get_absolute_url()).content.decode(), full=True)


def test_the_teaser_page_names_the_element_and_holds_no_paid_text(article, settings) -> None:
    settings.FREE_ARTICLES_PER_DAY = 0
    assert_marked_up(Client().get(article.get_absolute_url()).content.decode(), full=False)


def test_the_gift_page_marks_the_paid_part(article, subscriber, settings) -> None:
    settings.FREE_ARTICLES_PER_DAY = 0
    giver = Client()
    giver.force_login(subscriber)
    gift = giver.post(reverse("articles:gift", kwargs={"slug": article.slug})).context["gift"]
    assert_marked_up(Client().get(gift.get_absolute_url()).content.decode(), full=True)


def test_free_articles_have_no_paywalled_part(category, author) -> None:
    free = make_article(category=category, authors=[author], access=Article.Access.FREE)
    html = Client().get(free.get_absolute_url()).content.decode()
    data = structured(html)
    assert data["isAccessibleForFree"] is True and "hasPart" not in data
    assert "paywalled-content" not in html
