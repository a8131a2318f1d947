"""A reader browses the demo newsroom the way a first-time visitor would: home,
a section, a story, its author, a search, the feeds page, the log-in and sign-up
pages; then a subscriber reads a story with its comments. Every page is checked
with axe-core (by the screenshot fixture), in the light and the dark colour scheme,
and for what a reader notices first: one of each story on the home page, nothing
wider than the phone, no layout shift, the meter before the story, ads between
sections, the section lit in the navigation (and, on a phone, a cue that it
scrolls), a share row whose "Copy link" copies the story's address, authors'
portraits, one search box on the search page.
"""

from __future__ import annotations

import io
import re
from collections import Counter

import pytest
from django.conf import settings
from django.core.management import call_command
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from articles.models import Article, Comment
from tests.e2e.conftest import Screenshot, log_in, screenshot_in_both_schemes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MACHINE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")  # no microseconds

# Sum of the page's layout shifts so far (the CLS a reader would feel), after images load.
LAYOUT_SHIFT = """() => new Promise(done => {
  let total = 0;
  new PerformanceObserver(list => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
  }).observe({type: "layout-shift", buffered: true});
  setTimeout(() => done(total), 300);
})"""


@pytest.fixture
def newsroom(settings, tmp_path, editors_group) -> None:
    """The demo newsroom (seed_demo puts its editor in `editors_group`). Seeding takes a
    while, so one journey per width walks every page type, the subscriber's included."""
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", stdout=io.StringIO())


def looks_settled(page: Page, width: int) -> None:
    """Every picture loaded (lazy ones too, for the screenshot), nothing wider than the
    screen, and nothing moved while it loaded."""
    page.locator("img[loading=lazy]").evaluate_all("imgs => imgs.forEach(img => { img.loading = 'eager'; })")
    page.wait_for_function("() => [...document.images].every(img => img.complete)")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate(LAYOUT_SHIFT) < 0.02


def edge_cues(menu: Locator) -> tuple[int, int]:
    """How far the section menu's left and right edge stand out from the plain paper at its
    middle, in the strip above the links (its top padding, where no text is): a shadow
    there (a glow in the dark scheme) says "more this way"."""
    image = Image.open(io.BytesIO(menu.screenshot())).convert("L")
    paper = image.getpixel((image.width // 2, 2))
    return abs(image.getpixel((1, 2)) - paper), abs(image.getpixel((image.width - 2, 2)) - paper)


def shows_it_scrolls(menu: Locator) -> None:
    """The section menu, wider than a phone, shows a shadow at the edge it can scroll
    toward: at first on the right only, scrolled to its end on the left only."""
    assert menu.evaluate("ul => ul.scrollWidth > ul.clientWidth + 20"), "the menu fits: nothing to cue"
    left, right = edge_cues(menu)
    assert left < 5 and right > 25, (left, right)
    menu.evaluate("ul => { ul.scrollLeft = ul.scrollWidth; }")
    left, right = edge_cues(menu)
    assert left > 25 and right < 5, (left, right)
    menu.evaluate("ul => { ul.scrollLeft = 0; }")


def test_reader_browses_every_page_type_then_a_subscriber_reads_the_comments(
    newsroom: None, page: Page, screenshot: Screenshot, viewport: str
) -> None:
    width = page.viewport_size["width"]

    page.goto("/")
    looks_settled(page, width)
    stories = page.locator("main h2 a, main h3 a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    stories = [href for href in stories if not href.startswith("/category/")]
    repeated = [href for href, n in Counter(stories).items() if n > 1]
    assert len(stories) > 20 and not repeated, repeated
    for label in page.locator("time").evaluate_all("ts => ts.map(t => t.getAttribute('datetime'))"):
        assert MACHINE_TIME.match(label), label
    expect(page.get_by_role("complementary", name="Advertisement")).to_have_count(1)
    menu = page.get_by_role("navigation", name="Sections").locator("ul")
    if viewport == "mobile":
        shows_it_scrolls(menu)
        page.emulate_media(color_scheme="dark")
        shows_it_scrolls(menu)
        page.emulate_media(color_scheme="light")
    else:  # it fits: no shadow at either edge
        assert menu.evaluate("ul => ul.scrollWidth <= ul.clientWidth")
        assert max(edge_cues(menu)) < 5
    screenshot_in_both_schemes(screenshot, page, "home")

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Defense").click()
    page.wait_for_url("**/category/defense/")
    expect(page.get_by_role("heading", level=1, name="Defense")).to_be_visible()
    lead = page.locator(".lead-story--section .lead-story__title a")
    expect(lead).to_be_visible()
    expect(page.locator("main img").first).to_have_attribute("fetchpriority", "high")
    looks_settled(page, width)
    screenshot_in_both_schemes(screenshot, page, "section")

    lead_title = lead.inner_text()
    lead.click()
    expect(page.get_by_role("heading", level=1, name=lead_title)).to_be_visible()
    article = Article.objects.get(title=lead_title)
    expect(page.get_by_role("navigation", name="Sections").get_by_role("link", name="Defense")).to_have_attribute(
        "aria-current", "true"
    )
    hero = page.locator("figure.hero img")
    expect(hero).to_have_attribute("fetchpriority", "high")
    expect(page.locator("figure.hero source[type='image/webp']")).to_have_count(1)
    assert MACHINE_TIME.match(page.locator(".byline time").get_attribute("datetime") or "")
    expect(page.locator(".byline time")).to_contain_text(re.compile(r"\d{4} at \d{1,2}:\d\d [AP]M"))
    if article.access == Article.Access.FREE:
        expect(page.locator(".meter-note")).to_have_count(0)
    else:  # the meter, above the headline
        meter = page.locator(".meter-note")
        expect(meter).to_contain_text("free articles left today")
        assert meter.bounding_box()["y"] < page.locator("h1").bounding_box()["y"]
    # Ads sit between sections of the story, never above its opening paragraphs.
    in_story = page.get_by_role("complementary", name="Advertisement in the story")
    if in_story.count():
        paragraphs_above = page.locator(".article__body").first.locator(":scope > p")
        assert paragraphs_above.count() >= 3
    # Share: plain links, and a "Copy link" the page's own script reveals, that copies the story's address.
    share = page.get_by_role("group", name="Share this story")
    for network in ("Email", "Bluesky", "Facebook", "LinkedIn", "X"):
        expect(share.get_by_role("link", name=network, exact=True)).to_be_visible()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    share.get_by_role("button", name="Copy link").click()
    expect(share.locator("[aria-live=polite]")).to_have_text("Link copied.")
    assert page.evaluate("navigator.clipboard.readText()") == settings.SITE_URL + article.get_absolute_url()
    system_share = share.get_by_role("button", name="Share…")
    assert system_share.is_visible() == page.evaluate("'share' in navigator")  # only where the device has a sheet
    byline_author = article.authors.first()
    expect(page.get_by_role("img", name=f"Portrait of {byline_author.name}")).to_be_visible()
    looks_settled(page, width)
    screenshot_in_both_schemes(screenshot, page, "article")

    page.locator(".byline a").first.click()
    page.wait_for_url("**/author/**")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("main header").get_by_role("img", name=re.compile("^Portrait of "))).to_be_visible()
    looks_settled(page, width)
    screenshot_in_both_schemes(screenshot, page, "author")

    search = page.get_by_role("search", name="Site search").get_by_role("searchbox")
    search.fill("shipyard")
    search.press("Enter")
    page.wait_for_url("**/search/?q=shipyard")
    expect(page.get_by_role("status")).to_contain_text("for “shipyard”")
    # One search box on the search page (the masthead's would be a second one).
    expect(page.get_by_role("searchbox")).to_have_count(1)
    expect(page.get_by_role("searchbox")).to_have_value("shipyard")
    looks_settled(page, width)
    screenshot_in_both_schemes(screenshot, page, "search")

    # The footer's feed link explains feeds, with one per section, instead of showing XML.
    page.get_by_role("contentinfo").get_by_role("link", name="Feeds", exact=True).click()
    page.wait_for_url("**/feeds/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Follow us in a feed reader")
    expect(page.locator("main").get_by_role("link", name="Defense", exact=True)).to_have_attribute(
        "href", "/category/defense/feed/"
    )
    screenshot_in_both_schemes(screenshot, page, "feeds")

    page.goto("/accounts/login/")
    expect(page.get_by_label("Keep me logged in on this device")).to_be_visible()
    screenshot_in_both_schemes(screenshot, page, "log-in")

    page.goto("/accounts/signup/")
    # The password rules are the password field's description for screen readers.
    expect(page.get_by_label("Password", exact=True)).to_have_accessible_description(
        re.compile(r"at least 8 characters")
    )
    screenshot_in_both_schemes(screenshot, page, "sign-up")

    # A subscriber (seed_demo's) opens a story readers have discussed.
    discussed = Article.objects.get(pk=Comment.objects.filter(parent__isnull=False).values("article")[:1])
    page.goto(f"/accounts/login/?next={discussed.get_absolute_url()}")
    screenshot(page, "log-in")
    log_in(page, "reader@ledger.example", "ledger-reader-demo")
    page.wait_for_url(f"**{discussed.get_absolute_url()}")
    thread = page.locator("ol.comment-list > li.comment").filter(has=page.locator("ol.comment-replies")).first
    expect(thread).to_be_visible()
    # "Reply" belongs to the comment it answers, above that comment's replies.
    reply = thread.locator(":scope > article summary", has_text="Reply")
    assert reply.bounding_box()["y"] < thread.locator("ol.comment-replies").bounding_box()["y"]
    expect(page.get_by_role("navigation", name="Comment pages")).to_have_count(0)
    expect(page.get_by_role("complementary", name=re.compile("^Advertisement"))).to_have_count(0)
    looks_settled(page, width)
    page.locator("#comments").scroll_into_view_if_needed()
    screenshot_in_both_schemes(screenshot, page, "subscriber-with-comments")
