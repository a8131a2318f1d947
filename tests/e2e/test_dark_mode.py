"""Dark mode on the pages the reader journey (test_reader_browses) does not reach: the
meter and a pull quote above and in a story, the paywall box, the subscribe page, a
form showing its errors. Each page in the light and the dark scheme, axe-core on each
(the screenshot fixture). The editors' preview: test_editor_preview_dark.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from articles.models import Article
from tests.conftest import make_article, make_author, make_category
from tests.e2e.conftest import Screenshot, screenshot_in_both_schemes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_reader_meets_the_meter_the_paywall_and_a_form_with_errors_in_both_schemes(
    page: Page, screenshot: Screenshot
) -> None:
    category, author = make_category("Harbour"), make_author("Ada Quay")
    metered = make_article(category=category, authors=[author], title="Dredging the harbour, again")
    locked = make_article(
        category=category, authors=[author], title="The pilots' new contract", access=Article.Access.SUBSCRIBERS
    )

    page.goto(metered.get_absolute_url())
    expect(page.locator(".meter-note")).to_contain_text("free articles left today")
    expect(page.locator(".article__body blockquote")).to_contain_text("A pull quote")
    background = "el => getComputedStyle(el).backgroundColor"
    for scheme in ("light", "dark"):  # the article read today stands out from those left, in both schemes
        page.emulate_media(color_scheme=scheme)
        used, left = page.locator(".pip--used").first, page.locator(".pip:not(.pip--used)").first
        assert used.evaluate(background) != left.evaluate(background), scheme
    page.emulate_media(color_scheme="light")
    screenshot_in_both_schemes(screenshot, page, "meter and pull quote")

    page.goto(locked.get_absolute_url())
    expect(page.locator(".paywall")).to_be_visible()
    screenshot_in_both_schemes(screenshot, page, "paywall")

    page.goto("/subscribe/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    screenshot_in_both_schemes(screenshot, page, "subscribe")

    page.goto("/accounts/signup/")
    page.get_by_label("Email", exact=True).fill("someone@example.com")
    page.locator("input[name=password1]").fill("password")  # long enough for the browser, too common for us
    page.locator("input[name=password2]").fill("password")
    page.locator("input[name=password2]").press("Enter")
    expect(page.locator(".errorlist, .form-error, [aria-invalid=true]").first).to_be_visible()
    screenshot_in_both_schemes(screenshot, page, "sign-up with errors")
