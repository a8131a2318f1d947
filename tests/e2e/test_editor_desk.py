"""The editor's desk, end to end in Chromium: an editor writes a story with a
picture uploaded into the body and an embed, previews it as a subscriber and
as a reader over the free limit, schedules it, fixes a typo after publication,
compares two revisions and restores one; a writer drafts but cannot publish.
A subscriber reads the story: the embed loads nothing from its host until the
reader clicks; a reader over the limit gets neither the paid picture nor the embed.
Desktop only (the admin is a desktop tool); screenshots in artifacts/e2e/."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from playwright.sync_api import Page, expect

from articles.models import Article, Author
from tests.conftest import make_author, make_category, make_subscription, make_user
from tests.e2e.admin_steps import pick
from tests.e2e.conftest import Screenshot, log_in
from tests.e2e.test_editor_publishes import hero_png

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Harbor pilots vote to strike over night shifts"
EMBED = "https://www.youtube.com/watch?v=HarborVote1"


@pytest.fixture(params=["desktop"])
def viewport(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(autouse=True)
def _media(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def roles() -> tuple[Group, Group]:
    """The groups migration 0005 makes (transactional tests flush them)."""
    editors, _ = Group.objects.get_or_create(name="Editors")
    editors.permissions.set(Permission.objects.filter(content_type__app_label="articles"))
    writers, _ = Group.objects.get_or_create(name="Writers")
    writers.permissions.set(
        Permission.objects.filter(
            content_type__app_label="articles",
            codename__in=[
                "add_article",
                "change_article",
                "view_article",
                "add_inlineimage",
                "view_inlineimage",
                "view_category",
                "view_author",
                "view_tag",
            ],
        )
    )
    return editors, writers


def third_party_log(page: Page, origin: str) -> list[str]:
    """Every request the page makes to another host; they are answered locally, never sent."""
    seen: list[str] = []

    def handle(route) -> None:
        url = route.request.url
        if url.startswith(origin):
            route.continue_()
        else:
            seen.append(url)
            route.fulfill(status=204, body="")

    page.route("**/*", handle)
    return seen


def test_editor_writes_previews_schedules_fixes_compares_restores_and_a_writer_cannot_publish(
    page: Page, new_page: Callable[[], Page], screenshot: Screenshot, tmp_path: Path, live_server, settings
) -> None:
    editors, writers = roles()
    editor = make_user("desk.editor@example.com", is_staff=True, first_name="Ines", last_name="Editor")
    editor.groups.add(editors)
    make_category("Port")
    make_author("Rosa Delgado")

    # --- write: text, a picture uploaded into the body, an embed, the paywall break -----
    page.goto("/admin/articles/article/add/")
    page.wait_for_url(lambda url: "login" in urlsplit(url).path)
    screenshot(page, "editor-login")
    log_in(page, editor.email)
    page.wait_for_url("**/admin/articles/article/add/")
    page.locator("input[name=title]").fill(TITLE)
    page.locator("input[name=title]").press("Tab")
    page.locator("textarea[name=standfirst]").fill("The vote could close the port to large ships from Monday.")
    page.locator("select[name=category]").select_option(label="Port")
    pick(page, "authors", "Rosa Delgado")
    body = page.locator("textarea[name=body]")
    body.fill("Harbor pilots voted on Tuesday to strike.\n\nThe union says night shifts are unsafe.")
    body.press("End")
    page.get_by_role("button", name="Insert paywall break").click()
    body.press("Control+End")
    page.get_by_role("button", name="Add picture").click()
    page.locator("#editor-upload-file").set_input_files(hero_png(tmp_path / "pilot-boat.png"))
    page.get_by_role("button", name="Upload and insert").click()
    expect(page.locator(".editor-upload__errors")).to_contain_text("alt text is required")  # refused without alt
    page.get_by_label("Describe the picture (alt text, required)").fill("A pilot boat leaving the harbor at night")
    page.locator("#editor-upload-caption").fill("A pilot boat heads out before dawn.")
    page.locator("#editor-upload-credit").fill("Photo: Test Desk")
    page.get_by_role("button", name="Upload and insert").click()
    expect(body).to_have_value(re.compile(r"\[image \d+\]"))
    body.press("Control+End")
    body.type(f"\n\nThe vote in the union hall:\n\n{EMBED}\n\nTeh strike would start on Monday.")
    page.locator("input[name=hero_image]").set_input_files(hero_png(tmp_path / "harbor.png"))
    page.locator("input[name=hero_alt]").fill("The harbor at dusk")
    page.locator("select[name=access]").select_option("metered")

    # --- preview as a subscriber, then as a reader over the free limit ------------------
    preview = page.locator(".editor-preview")
    expect(preview.get_by_role("img", name="A pilot boat leaving the harbor at night")).to_be_visible()
    expect(preview.locator(".embed__placeholder")).to_contain_text("YouTube video")
    expect(preview).to_contain_text("Teh strike would start on Monday.")
    expect(page.locator("[data-editor-checklist]")).to_contain_text("Every picture in the story has alt text")
    expect(page.locator(".editor-toolbar .editor-length")).to_contain_text("min read")
    screenshot(page, "write-with-preview-as-subscriber")
    preview.get_by_role("tab", name="As a reader over the free limit").click()
    teaser = page.locator("#preview-teaser")
    expect(teaser).to_contain_text("Harbor pilots voted on Tuesday to strike.")
    expect(teaser).to_contain_text("You've read your")
    expect(teaser).not_to_contain_text("Teh strike")
    expect(teaser.get_by_role("img")).to_have_count(0)
    expect(teaser.locator(".embed")).to_have_count(0)
    screenshot(page, "preview-as-reader-over-the-limit")

    # --- schedule it ---------------------------------------------------------------------
    when = timezone.localtime(timezone.now() + timedelta(seconds=25)).replace(microsecond=0)
    page.locator("select[name=status]").select_option("scheduled")
    page.locator("input[name=publish_at_0]").fill(when.strftime("%Y-%m-%d"))
    page.locator("input[name=publish_at_1]").fill(when.strftime("%H:%M:%S"))
    page.get_by_role("button", name="Save", exact=True).first.click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    desk = page.get_by_role("region", name="The desk")
    expect(desk).to_contain_text(TITLE)
    expect(page.get_by_role("row").filter(has_text=TITLE)).to_contain_text("Scheduled")
    screenshot(page, "desk-with-scheduled-story")
    article = Article.objects.get(title=TITLE)
    assert article.status == Article.Status.SCHEDULED and not article.is_live

    # --- it goes live by itself; a subscriber reads it; the embed waits for a click -------
    time.sleep(max(0.0, (article.publish_at - timezone.now()).total_seconds()) + 0.5)
    subscriber = make_user("desk.reader@example.com")
    make_subscription(subscriber)
    reader = new_page()
    outside = third_party_log(reader, live_server.url)
    reader.goto("/accounts/login/")
    screenshot(reader, "subscriber-login")
    log_in(reader, subscriber.email)
    reader.wait_for_url(lambda url: "login" not in urlsplit(url).path)
    screenshot(reader, "subscriber-logged-in")
    reader.goto(article.get_absolute_url())
    expect(reader.get_by_role("heading", level=1, name=TITLE)).to_be_visible()
    expect(reader.get_by_role("img", name="A pilot boat leaving the harbor at night")).to_be_visible()
    expect(reader.get_by_text("A pilot boat heads out before dawn.")).to_be_visible()
    reader.wait_for_load_state("networkidle")
    assert outside == []  # nothing from YouTube (or anyone else) before the click
    screenshot(reader, "subscriber-reads-embed-not-loaded")
    reader.get_by_role("button", name="Load the video").click()
    expect(reader.locator("figure.embed iframe")).to_have_attribute(
        "src", "https://www.youtube-nocookie.com/embed/HarborVote1"
    )
    reader.wait_for_function("() => true")
    assert any(u.startswith("https://www.youtube-nocookie.com/") for u in outside)
    screenshot(reader, "subscriber-loads-the-embed")

    # A reader over the limit on the real page: teaser and paywall, no paid picture or embed.
    settings.FREE_ARTICLES_PER_DAY = 0
    limited = new_page()
    limited.goto(article.get_absolute_url())
    expect(limited.get_by_role("heading", name=re.compile("free article"))).to_be_visible()
    assert "pilot-boat" not in limited.content() and "HarborVote1" not in limited.content()
    screenshot(limited, "reader-over-the-limit-on-the-site")

    # --- fix a typo after publication -----------------------------------------------------
    published_ld = ld_json(reader)
    page.goto(f"/admin/articles/article/{article.pk}/change/")
    body = page.locator("textarea[name=body]")
    body.fill(body.input_value().replace("Teh strike", "The strike"))
    page.get_by_role("button", name="Save and continue editing").first.click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    expect(page.locator(".field-recent_changes")).to_contain_text("Ines Editor")
    screenshot(page, "typo-fixed-who-changed-what")
    reader.goto(article.get_absolute_url())
    expect(reader.get_by_text("The strike would start on Monday.")).to_be_visible()
    fixed_ld = ld_json(reader)
    assert fixed_ld["datePublished"] == published_ld["datePublished"]
    assert fixed_ld["dateModified"] > published_ld["dateModified"]

    # --- compare two revisions, restore the older one ---------------------------------------
    page.get_by_role("link", name="All revisions — compare and restore").click()
    screenshot(page, "history")
    page.get_by_role("button", name="Compare the two selected revisions").click()
    expect(page.locator(".editor-compare__diff del")).to_contain_text("Teh")
    expect(page.locator(".editor-compare__diff ins")).to_contain_text("The")
    screenshot(page, "compare-revisions")
    page.get_by_role("link", name="Restore this version").first.click()
    expect(page.locator("textarea[name=body]")).to_have_value(re.compile("Teh strike"))
    screenshot(page, "restore-older-revision")
    page.get_by_role("button", name="Save", exact=True).first.click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    article.refresh_from_db()
    assert "Teh strike" in article.body and article.status == Article.Status.SCHEDULED
    page.goto(f"/admin/articles/article/{article.pk}/history/")
    expect(page.locator("#change-history tbody tr").first).to_contain_text("Reverted to previous version")
    screenshot(page, "history-after-restore")

    # --- a writer drafts but cannot publish ---------------------------------------------------
    writer = make_user("desk.writer@example.com", is_staff=True, first_name="Wes", last_name="Writer")
    writer.groups.add(writers)
    Author.objects.create(name="Wes Writer", slug="wes-writer", user=writer)
    desk_page = new_page()
    desk_page.goto("/admin/articles/article/add/")
    desk_page.wait_for_url(lambda url: "login" in urlsplit(url).path)
    screenshot(desk_page, "writer-login")
    log_in(desk_page, writer.email)
    desk_page.wait_for_url("**/admin/articles/article/add/")
    expect(desk_page.locator("select[name=status]")).to_have_count(0)
    expect(desk_page.locator(".field-status")).to_contain_text("Draft")
    expect(desk_page.locator("select[name=authors] option:checked")).to_have_text(["Wes Writer"])  # own byline
    desk_page.locator("input[name=title]").fill("Ferry fares to rise in spring")
    desk_page.locator("input[name=title]").press("Tab")
    desk_page.locator("textarea[name=standfirst]").fill("The council approved the increase.")
    desk_page.locator("select[name=category]").select_option(label="Port")
    desk_page.locator("textarea[name=body]").fill("Fares go up by a tenth in April.")
    desk_page.get_by_role("button", name="Save", exact=True).first.click()
    expect(desk_page.locator(".messagelist")).to_contain_text("was added successfully")
    expect(desk_page.get_by_role("row").filter(has_text="Ferry fares")).to_contain_text("Draft")
    expect(desk_page.get_by_role("row").filter(has_text=TITLE)).to_have_count(0)  # not theirs
    expect(desk_page.locator("select[name=action] option[value=publish_now]")).to_have_count(0)
    screenshot(desk_page, "writer-cannot-publish")
    assert Article.objects.get(title="Ferry fares to rise in spring").status == Article.Status.DRAFT


def ld_json(page: Page) -> dict:
    return json.loads(page.locator('script[type="application/ld+json"]').text_content() or "{}")
