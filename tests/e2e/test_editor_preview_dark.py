"""The editors' live preview (site.css in a shadow root, static/js/article-editor.js)
follows the same system colour setting as the site, so it shows the editor what a
reader on that machine would see; in dark it stays readable (axe-core on the admin
page in both schemes, the screenshot fixture).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import make_category, make_user
from tests.e2e.conftest import Screenshot, log_in, screenshot_in_both_schemes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAPER_LIGHT, PAPER_DARK = "rgb(255, 255, 255)", "rgb(22, 21, 20)"  # --paper in site.css


def test_the_editors_preview_follows_the_colour_scheme_like_the_site(
    page: Page, screenshot: Screenshot, editors_group
) -> None:
    editor = make_user("dark.editor@example.com", is_staff=True)
    editor.groups.add(editors_group)
    make_category("Harbour")

    page.goto("/admin/articles/article/add/")
    page.wait_for_url("**/login/**")
    screenshot(page, "editor log-in")
    log_in(page, editor.email)
    page.wait_for_url("**/admin/articles/article/add/")
    page.locator("textarea[name=body]").fill(
        "The harbour opens at dawn.\n\n## Who pays\n\n> A pull quote from the quay.\n\n- the pilots\n- the port"
    )
    preview = page.locator(".editor-preview")
    expect(preview.locator("blockquote").first).to_contain_text("A pull quote from the quay.")
    host = page.locator(".editor-preview__content")  # the shadow root's host: site.css's :host
    paper = "el => getComputedStyle(el).backgroundColor"
    assert host.evaluate(paper) == PAPER_LIGHT
    page.emulate_media(color_scheme="dark")
    assert host.evaluate(paper) == PAPER_DARK
    page.emulate_media(color_scheme="light")
    screenshot_in_both_schemes(screenshot, page, "editor preview")
