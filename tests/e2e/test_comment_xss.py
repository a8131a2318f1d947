"""Script smuggled into a comment through the browser form stays text.

A subscriber posts a comment full of classic payloads; for them and for another
subscriber reading the thread, nothing runs (no dialog, `window.__xss` never
set), the payloads read literally, and the comment holds no script, image, SVG,
event handler or javascript: link. The edit form shows the text back verbatim
without breaking out of its textarea.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from articles.models import Comment
from subscriptions.models import ComplimentaryAccess
from tests.conftest import make_article, make_user
from tests.e2e.conftest import Screenshot, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAYLOADS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    '<svg onload="window.__xss=1">',
    "javascript:window.__xss=1",
    "[click me](javascript:window.__xss=1)",
    '<a href="javascript:window.__xss=1">click me too</a>',
    "<script>alert('xss')</script>",
    "</textarea><script>window.__xss=1</script>",
]
BODY = "\n".join(PAYLOADS)

ACTIVE_ELEMENTS = "script, img, svg, iframe, object, embed, style, link, meta, form, input, button"
EVENT_HANDLERS = (
    "root => [...root.querySelectorAll('*')].filter(e => [...e.attributes].some(a => /^on/i.test(a.name))).length"
)
JAVASCRIPT_LINKS = "() => [...document.querySelectorAll('a[href]')].filter(a => a.protocol === 'javascript:').length"


def subscriber(email: str):
    user = make_user(email)
    ComplimentaryAccess.objects.create(user=user, until=timezone.now() + timedelta(days=30), note="e2e")
    return user


def assert_inert(page: Page, text: Locator, dialogs: list[str]) -> None:
    page.wait_for_load_state("load")  # images have failed and onerror would have fired by now
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert dialogs == []
    for payload in PAYLOADS:
        expect(text).to_contain_text(payload)
    expect(text.locator(ACTIVE_ELEMENTS)).to_have_count(0)
    assert text.evaluate(EVENT_HANDLERS) == 0
    assert page.evaluate(JAVASCRIPT_LINKS) == 0


def test_script_in_a_comment_renders_as_inert_text(
    page: Page, new_page: Callable[[], Page], screenshot: Screenshot, dialogs: list[str], viewport: str
) -> None:
    author = subscriber(f"xss.author.{viewport}@example.com")
    other = subscriber(f"xss.reader.{viewport}@example.com")
    article = make_article(title="Harbour master answers readers")

    page.goto(f"/accounts/login/?next={article.get_absolute_url()}")
    screenshot(page, "log-in")
    log_in(page, author.email)
    page.wait_for_url(f"**{article.get_absolute_url()}")
    page.get_by_label("Add a comment").fill(BODY)
    screenshot(page, "payload-typed")
    page.get_by_role("button", name="Post comment").click()
    expect(page.get_by_role("status")).to_contain_text("Your comment is posted.")

    comment = Comment.objects.get(user=author)
    # Stored as typed (a form sends CRLF line breaks); it is made harmless where it is shown.
    assert comment.body.replace("\r\n", "\n") == BODY
    text = page.locator(f"#comment-{comment.pk} .comment__text")
    expect(text).to_be_visible()
    assert_inert(page, text, dialogs)
    screenshot(page, "comment-as-text")

    page.reload()
    assert_inert(page, text, dialogs)

    # The edit form gives the text back verbatim, inside its textarea.
    page.locator(f"#comment-{comment.pk}").get_by_role("link", name="Edit").click()
    page.wait_for_url("**/edit/")
    page.wait_for_load_state("load")
    expect(page.get_by_label("Your comment")).to_have_value(BODY)
    expect(page.locator("main script")).to_have_count(0)
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.evaluate(JAVASCRIPT_LINKS) == 0
    screenshot(page, "edit-form")

    # Another subscriber reading the thread is just as safe.
    reader = new_page()
    reader.goto(f"/accounts/login/?next={article.get_absolute_url()}")
    log_in(reader, other.email)
    reader.wait_for_url(f"**{article.get_absolute_url()}")
    other_text = reader.locator(f"#comment-{comment.pk} .comment__text")
    expect(other_text).to_be_visible()
    expect(reader.locator(f"#comment-{comment.pk}").get_by_role("button", name="Report")).to_be_visible()
    assert_inert(reader, other_text, dialogs)
    screenshot(reader, "seen-by-another-subscriber")
