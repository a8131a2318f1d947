"""The desk, for a writer and an editor, at a phone's and a desktop's width: the writer drafts
a story beside a preview drawn with the site's own stylesheet (not the admin's), picks byline
and topics by typing, sees the publish time in the newsroom's clock without Django's "hours
ahead of server time" note, has the draft kept while typing and is asked before leaving with
unsaved changes, and submits it for review; the editor finds it waiting on the desk, sends
it back with a note, asks to be emailed about submissions (and is, when the writer resubmits),
and publishes it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from articles.models import Article, Author, Tag
from tests.conftest import make_article, make_author, make_category, make_user
from tests.e2e.admin_steps import pick
from tests.e2e.conftest import Screenshot, log_in
from tests.e2e.test_editor_desk import roles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Night ferry crews ask for a second deckhand"
# A long headline (as long as the site's longest, about 100 characters) still reads in two lines on the desk.
LONG_TITLE = (
    "Harbour board approves the dredging contract after a year of delays, objections and two public hearings"
)
BODY = (
    "Crews on the night ferry say one deckhand is not enough.\n\n"
    "## What the crews want\n\n"
    "- a second deckhand after 10 pm\n- radios that reach the shore\n\n"
    "> We are two people watching a hundred passengers.\n\n"
    "The operator says it will answer next week."
)


def preview_style(page: Page, selector: str, prop: str) -> str:
    """A computed style inside the preview's shadow root (Playwright's locators pierce it)."""
    return page.locator(f".editor-preview {selector}").first.evaluate(f"e => getComputedStyle(e)['{prop}']")


def test_writer_submits_a_story_and_the_editor_sends_it_back_then_publishes(
    page: Page, new_page: Callable[[], Page], screenshot: Screenshot, viewport: str
) -> None:
    editors, writers = roles()
    writer = make_user("desk.writer@example.com", is_staff=True, first_name="Wes", last_name="Writer")
    writer.groups.add(writers)
    editor = make_user("desk.chief@example.com", is_staff=True, first_name="Ines", last_name="Chief")
    editor.groups.add(editors)
    Author.objects.create(name="Wes Writer", slug="wes-writer", user=writer)
    port = make_category("Port")
    make_article(title=LONG_TITLE, category=port, authors=[make_author("Ada Quay")])
    Tag.objects.create(name="Ferries", slug="ferries")

    # --- the writer drafts beside the site-styled preview -----------------------------------
    page.goto("/admin/articles/article/add/")
    page.wait_for_url(lambda url: "login" in urlsplit(url).path)
    screenshot(page, "writer-login")
    log_in(page, writer.email)
    page.wait_for_url("**/admin/articles/article/add/")
    page.locator("input[name=title]").fill(TITLE)
    page.locator("textarea[name=standfirst]").fill("The operator says it will answer next week.")
    page.locator("select[name=category]").select_option(label="Port")
    pick(page, "tags", "Ferries")
    body = page.locator("textarea[name=body]")
    body.fill(BODY)
    preview = page.locator(".editor-preview")
    expect(preview.get_by_role("heading", name="What the crews want")).to_be_visible()
    # The site's look, not the admin's: serif headings on no coloured bar, bulleted lists, the pull quote.
    assert "Georgia" in preview_style(page, "h2", "fontFamily")
    assert preview_style(page, "h2", "backgroundColor") in ("rgba(0, 0, 0, 0)", "transparent")
    assert preview_style(page, "ul", "listStyleType") == "disc"
    assert "Georgia" in preview_style(page, ".article__body", "fontFamily")
    assert preview_style(page, "blockquote", "borderLeftStyle") != "none"
    # The admin's own headings keep their look: the site's stylesheet stays inside the preview.
    assert "Georgia" not in page.locator("#content h1").evaluate("e => getComputedStyle(e).fontFamily")
    box, shown = body.bounding_box(), preview.bounding_box()
    assert box and shown and box["width"] > 250
    if viewport == "desktop":  # side by side, the writing box whole and clear of the preview
        assert box["x"] + box["width"] <= shown["x"] + 1
        assert shown["x"] + shown["width"] <= page.viewport_size["width"]
    else:  # one above the other
        assert box["y"] + box["height"] <= shown["y"] + 1 or shown["y"] + shown["height"] <= box["y"] + 1
    # Publish time: the newsroom's clock said in words, no "hours ahead of server time" note.
    expect(page.locator(".field-publish_at")).to_contain_text("In the newsroom's time: New York")
    expect(page.locator(".field-publish_at .timezonewarning").first).to_be_hidden()
    screenshot(page, "writer-drafts-with-site-preview")
    page.get_by_role("button", name="Save and continue editing").first.click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    article = Article.objects.get(title=TITLE)
    assert list(article.tags.values_list("name", flat=True)) == ["Ferries"]
    assert list(article.authors.values_list("name", flat=True)) == ["Wes Writer"]

    # --- the draft is kept while typing; leaving with changes asks first ----------------------
    body.press("Control+End")
    body.type("\n\nA late line about the union.")
    expect(page.locator(".editor-autosave")).to_contain_text("Draft saved at", timeout=15_000)
    article.refresh_from_db()
    assert article.body.endswith("A late line about the union.") and article.status == Article.Status.DRAFT
    page.locator("input[name=title]").fill(TITLE + " now")  # autosaved too, but not yet
    asks = page.evaluate(
        "() => { const e = new Event('beforeunload', {cancelable: true}); window.dispatchEvent(e);"
        " return e.defaultPrevented; }"
    )
    assert asks, "leaving with unsaved changes should ask"
    page.locator("input[name=title]").fill(TITLE)
    screenshot(page, "writer-draft-kept")

    # --- submit for review -----------------------------------------------------------------
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".messagelist")).to_contain_text("Submitted for review")
    row = page.get_by_role("row").filter(has_text=TITLE)
    expect(row).to_contain_text("Waiting for review")
    screenshot(page, "writer-desk-waiting-for-review")
    article.refresh_from_db()
    assert article.in_review and article.status == Article.Status.DRAFT and not article.is_live

    # --- the editor sees it waiting, sends it back with a note ---------------------------------
    chief = new_page()
    chief.goto("/admin/articles/article/")
    chief.wait_for_url(lambda url: "login" in urlsplit(url).path)
    screenshot(chief, "editor-login")
    log_in(chief, editor.email)
    chief.wait_for_url("**/admin/articles/article/")
    waiting = chief.get_by_role("region", name="The desk").locator(".desk__col", has_text="Waiting for review")
    expect(waiting.get_by_role("link", name=TITLE)).to_be_visible()
    if viewport == "desktop":  # the list's headlines read in one or two lines, a long one too
        for title in (TITLE, LONG_TITLE):
            cell = chief.locator("th.field-headline .desk-headline").filter(has_text=title).first
            lines = cell.evaluate(
                "e => { const r = document.createRange(); r.selectNodeContents(e);"
                " return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; }"
            )
            assert 1 <= lines <= 2, f"the headline {title!r} takes {lines} lines"
    else:  # nothing on the desk runs off the side of a phone
        width = chief.evaluate("document.querySelector('.desk').scrollWidth")
        assert width <= chief.viewport_size["width"], f"the desk is {width}px wide"
    screenshot(chief, "editor-desk-with-story-waiting")
    chief.get_by_role("link", name="Waiting for review").click()  # the desk's filter
    expect(chief.get_by_role("row").filter(has_text=TITLE)).to_be_visible()
    chief.get_by_role("row").filter(has_text=TITLE).get_by_role("link", name=TITLE).click()
    chief.get_by_role("button", name="Send back with note").click()
    expect(chief.locator(".field-review_note .errorlist")).to_contain_text("needs a note")
    chief.locator("textarea[name=review_note]").fill("Name the operator's spokesperson, and add the union's figures.")
    screenshot(chief, "editor-sends-back-with-note")
    chief.get_by_role("button", name="Send back with note").click()
    expect(chief.locator(".messagelist")).to_contain_text("Sent back to the writer")
    article.refresh_from_db()
    assert not article.in_review and "spokesperson" in article.review_note

    # --- the editor asks to be emailed about submissions (off until asked) -----------------------
    chief.goto("/admin/articles/article/")
    chief.get_by_role("button", name="Email me when a story is submitted").click()
    expect(chief.locator(".messagelist")).to_contain_text("We'll email you at desk.chief@example.com")
    expect(chief.get_by_role("button", name="Stop emailing me")).to_be_visible()
    screenshot(chief, "editor-asks-for-review-emails")
    mail.outbox.clear()

    # --- the writer reads the note and resubmits; the editor publishes -------------------------
    page.goto(f"/admin/articles/article/{article.pk}/change/")
    expect(page.locator(".field-review_note")).to_contain_text("spokesperson")
    screenshot(page, "writer-reads-the-note")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".messagelist")).to_contain_text("Submitted for review")
    (email,) = mail.outbox  # to the editor who asked; never to the writer who submitted
    assert email.to == [editor.email] and email.subject == f"For review: {TITLE}"
    assert f"/admin/articles/article/{article.pk}/change/" in email.body
    chief.goto(f"/admin/articles/article/{article.pk}/change/")
    chief.locator("select[name=status]").select_option("published")
    chief.get_by_role("button", name="Save", exact=True).first.click()
    expect(chief.locator(".messagelist")).to_contain_text("was changed successfully")
    screenshot(chief, "editor-published")
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED and article.review_requested_at is None
    assert article.publish_at <= timezone.now() + timedelta(seconds=5)
    assert re.search(r"\S", article.review_note)  # the note stays on the record
