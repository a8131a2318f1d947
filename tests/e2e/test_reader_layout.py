"""What a reader's eye and thumb meet, measured in Chromium (issue 33): a story's
topic tags line up with its text column at both widths, every ad slot a reader
without a subscription sees holds a designed house ad (never an empty box), and
on a phone the small links people tap — section labels on cards, footer links,
"Forgot your password?" and the tick boxes of the account forms — are at least
44 px tall (WCAG 2.5.5's size, not only 2.5.8's 24 px minimum)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from articles.models import Article, Tag
from tests.conftest import make_article, make_author, make_category
from tests.e2e.conftest import Screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TAP = 44  # px


@pytest.fixture
def tagged_story() -> Article:
    category, author = make_category(), make_author()
    for _ in range(5):  # cards on the home page, each with its section label
        make_article(category=category, authors=[author])
    story = make_article(category=category, authors=[author], title="The harbour inspections, in full")
    topics = [Tag.objects.create(name=name, slug=name.lower().replace(" ", "-")) for name in ("Harbour", "City budget")]
    story.tags.set(topics)
    return story


def boxes(locator: Locator) -> list[dict]:
    return [box for box in (item.bounding_box() for item in locator.all()) if box is not None]


def assert_tall_enough(locator: Locator, what: str) -> None:
    found = boxes(locator)
    assert found, f"no {what} on the page"
    short = [round(box["height"], 1) for box in found if box["height"] < TAP - 0.5]
    assert not short, f"{what}: {len(short)} of {len(found)} shorter than {TAP} px: {short}"


def test_topic_tags_line_up_with_the_story_text(page: Page, screenshot: Screenshot, tagged_story, viewport) -> None:
    page.goto(tagged_story.get_absolute_url())
    tags = page.get_by_role("navigation", name="Topics")
    expect(tags.get_by_role("link", name="City budget")).to_be_visible()
    paragraphs = boxes(page.locator(".article__body p:not(blockquote *)"))  # a pull quote is indented
    text_left = {round(box["x"]) for box in paragraphs}
    assert len(text_left) == 1, f"the story's paragraphs start at different places: {text_left}"
    [left] = text_left
    first_tag = tags.locator("li").first.bounding_box()
    column = tags.bounding_box()
    assert abs(first_tag["x"] - left) <= 1, f"tags start at {first_tag['x']} px, the text at {left} px"
    assert abs(column["x"] - left) <= 1 and column["width"] <= paragraphs[0]["width"] + 1
    tags.scroll_into_view_if_needed()
    screenshot(page, "story tags")


def test_ad_slots_hold_a_house_ad_that_sells_only_what_works(page: Page, screenshot: Screenshot, tagged_story) -> None:
    # Payments are not configured in the tests: no slot may sell a subscription.
    for path in ("/", tagged_story.get_absolute_url()):
        page.goto(path)
        slots = page.locator(".ad-slot")
        expect(slots.first).to_be_visible()
        for slot in slots.all():
            ad = slot.locator(".house-ad")
            expect(ad).to_have_count(1)
            expect(ad).to_have_attribute("href", "/accounts/signup/")
            frame, filled = slot.locator(".ad-slot__frame").bounding_box(), ad.bounding_box()
            assert filled["width"] >= frame["width"] - 1 and filled["height"] >= frame["height"] - 1, "an empty box"
        expect(slots.get_by_role("link", name="Subscribe")).to_have_count(0)
        slots.first.scroll_into_view_if_needed()
        where = "home" if path == "/" else "a story"
        screenshot(page, f"house ad on {where}")
        page.emulate_media(color_scheme="dark")  # its own colours: as readable on dark paper (axe)
        screenshot(page, f"house ad on {where}, dark")
        page.emulate_media(color_scheme="light")


@pytest.mark.parametrize("viewport", ["mobile"], indirect=True)
def test_on_a_phone_small_links_and_tick_boxes_are_44_px_tall(page: Page, screenshot: Screenshot, tagged_story) -> None:
    page.goto("/")
    assert_tall_enough(page.locator(".card a.kicker"), "card section labels")
    assert_tall_enough(page.locator(".site-footer a"), "footer links")
    screenshot(page, "home")

    page.goto(tagged_story.get_absolute_url())
    assert_tall_enough(page.locator("a.kicker"), "the story's section label")
    assert_tall_enough(page.locator(".site-footer a"), "footer links")
    screenshot(page, "story")

    page.goto("/accounts/login/")
    assert_tall_enough(page.get_by_role("link", name="Forgot your password"), '"Forgot your password?" links')
    assert_tall_enough(page.locator(".site-footer a"), "footer links")
    check_boxes(page, "login")
    screenshot(page, "login")

    page.goto("/accounts/signup/")
    assert_tall_enough(page.locator(".site-footer a"), "footer links")
    check_boxes(page, "signup")
    screenshot(page, "signup")


def check_boxes(page: Page, where: str) -> None:
    """Each tick box's label is the tap target: 44 px tall, covering the box, and a tap on it ticks the box."""
    boxes_ = page.locator(".auth-form input[type=checkbox]")
    assert boxes_.count() > 0, f"no tick box on the {where} page"
    for box in boxes_.all():
        label = page.locator(f"label[for='{box.get_attribute('id')}']")
        assert_tall_enough(label, f"the {where} page's tick box labels")
        b, lab = box.bounding_box(), label.bounding_box()
        assert lab["x"] <= b["x"] and lab["x"] + lab["width"] >= b["x"] + b["width"], "the label does not cover the box"
        assert lab["y"] <= b["y"] and lab["y"] + lab["height"] >= b["y"] + b["height"]
        assert b["width"] >= 24 and b["height"] >= 24, "the box itself under 24 px"
        page.mouse.click(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2)  # a thumb on the box itself
        expect(box).to_be_checked()
        label.click()
        expect(box).not_to_be_checked()
