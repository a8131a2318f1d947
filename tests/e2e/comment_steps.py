"""The comment steps two journeys share: post, reply, edit, delete, asserting
what the page shows after each (see templates/includes/comments.html)."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Screenshot


def own_actions(comment: Locator) -> Locator:
    """The action row of this comment itself, not of the replies nested under it."""
    return comment.locator(":scope > article .comment__actions")


def post_reply_edit_delete(page: Page, screenshot: Screenshot, *, article_path: str, author_name: str) -> None:
    """On an article page with no comments yet, as a subscriber named `author_name`."""
    # Post.
    first = f"First thoughts {uuid.uuid4().hex[:8]}: the budget misses the dredging."
    page.get_by_label("Add a comment").fill(first)
    page.get_by_role("button", name="Post comment").click()
    expect(page.get_by_role("status")).to_contain_text("Your comment is posted.")
    expect(page.get_by_role("heading", name="Comments (1)")).to_be_visible()
    thread = page.locator("ol.comment-list > li.comment").filter(has_text=first)
    expect(thread).to_have_count(1)
    expect(thread.locator(".comment__text").first).to_have_text(first)
    screenshot(page, "comment-posted")

    # Reply to it (the reply form is folded away under "Reply").
    reply = f"A reply {uuid.uuid4().hex[:8]}: dredging is in next year's plan."
    thread.locator("summary", has_text="Reply").click()
    thread.get_by_label(f"Reply to {author_name}").fill(reply)
    thread.get_by_role("button", name="Post reply").click()
    expect(page.get_by_role("status")).to_contain_text("Your comment is posted.")
    expect(page.get_by_role("heading", name="Comments (2)")).to_be_visible()
    nested = thread.locator("ol.comment-replies > li.comment--reply")
    expect(nested).to_have_count(1)
    expect(nested.locator(".comment__text")).to_have_text(reply)
    screenshot(page, "reply-posted")

    # Edit the first comment.
    edited = f"Edited thoughts {uuid.uuid4().hex[:8]}: the budget does fund dredging."
    own_actions(thread).get_by_role("link", name="Edit").click()
    page.wait_for_url("**/comments/*/edit/")
    box = page.get_by_label("Your comment")
    expect(box).to_have_value(first)
    box.fill(edited)
    screenshot(page, "editing")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(lambda url: urlsplit(url).path == article_path)
    expect(page.get_by_role("status")).to_contain_text("Your comment is updated.")
    thread = page.locator("ol.comment-list > li.comment").filter(has_text=edited)
    expect(thread.locator(":scope > article .comment__text")).to_have_text(edited)
    expect(thread.locator(":scope > article .comment__meta")).to_contain_text("edited")
    expect(page.get_by_text(first)).to_have_count(0)
    screenshot(page, "comment-edited")

    # Delete it: the reply under it goes too.
    own_actions(thread).get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_contain_text("Your comment is deleted.")
    expect(page.get_by_role("heading", name="Comments (0)")).to_be_visible()
    expect(page.get_by_text(edited)).to_have_count(0)
    expect(page.get_by_text(reply)).to_have_count(0)
    expect(page.get_by_text("No comments yet.")).to_be_visible()
    screenshot(page, "comment-deleted")
