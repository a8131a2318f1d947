"""An editor logs into the admin and publishes a story with a hero image; it is
on the home page at once. A second story, scheduled for later, stays invisible
to readers (not listed, 404) until its time comes, and then appears by itself:
no cron job, no second save."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

from articles.models import Article
from tests.conftest import make_author, make_category, make_user
from tests.e2e.admin_steps import pick
from tests.e2e.conftest import Screenshot, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path: Path) -> None:
    # The live server serves MEDIA_URL from settings.MEDIA_ROOT, read per request.
    settings.MEDIA_ROOT = tmp_path / "media"


def hero_png(path: Path) -> Path:
    image = Image.new("RGB", (1600, 900), (24, 58, 94))
    draw = ImageDraw.Draw(image)
    draw.rectangle((200, 500, 1400, 760), fill=(210, 120, 40))
    draw.ellipse((1150, 120, 1350, 320), fill=(250, 220, 120))
    image.save(path, format="PNG")
    return path


def fill_article_form(page: Page, *, title: str, category: str, author: str, status: str) -> None:
    """The fields every new article needs, found by name (admin widgets by their ids)."""
    page.locator("input[name=title]").fill(title)
    page.locator("input[name=title]").press("Tab")  # the slug fills itself on change
    page.locator("textarea[name=standfirst]").fill(f"What {title.lower()} means for the port.")
    page.locator("select[name=category]").select_option(label=category)
    pick(page, "authors", author)  # the byline's type-ahead (autocomplete_fields)
    page.locator("textarea[name=body]").fill(
        f"{title} opened the week at the port.\n\nA second paragraph.\n\n[paywall]\n\nThe rest of the story."
    )
    page.locator("select[name=access]").select_option("free")
    page.locator("select[name=status]").select_option(status)


def save(page: Page, title: str) -> None:
    page.get_by_role("button", name="Save", exact=True).first.click()
    expect(page.locator(".messagelist")).to_contain_text(f"The article “{title}” was added successfully.")


def test_editor_publishes_now_and_schedules_for_later(
    page: Page, new_page: Callable[[], Page], screenshot: Screenshot, editors_group: Group, tmp_path: Path
) -> None:
    editor = make_user(is_staff=True)
    editor.groups.add(editors_group)
    make_category("Port")
    make_author("Rosa Delgado")
    reader = new_page()

    page.goto("/admin/")
    page.wait_for_url(lambda url: "login" in urlsplit(url).path)
    screenshot(page, "admin-login")
    log_in(page, editor.email)
    page.wait_for_url(lambda url: urlsplit(url).path == "/admin/")
    screenshot(page, "admin-index")
    page.get_by_role("link", name="Articles").first.click()
    page.get_by_role("link", name="Add article").click()
    page.wait_for_url("**/admin/articles/article/add/")

    live_title = "Cranes return to the north quay"
    fill_article_form(page, title=live_title, category="Port", author="Rosa Delgado", status="published")
    expect(page.locator("input[name=slug]")).to_have_value("cranes-return-to-the-north-quay")
    expect(page.locator("input[name=publish_at_0]")).not_to_have_value("")  # defaults to now
    page.locator("input[name=hero_image]").set_input_files(hero_png(tmp_path / "north-quay.png"))
    page.locator("input[name=hero_alt]").fill("Two cranes against a yellow sun")
    screenshot(page, "add-published-article")
    save(page, live_title)
    screenshot(page, "published-saved")

    live = Article.objects.get(title=live_title)
    assert live.status == Article.Status.PUBLISHED and live.is_live
    assert default_storage.exists(live.hero_image.name)

    reader.goto("/")
    headline = reader.get_by_role("link", name=live_title, exact=True)
    expect(headline.first).to_be_visible()
    screenshot(reader, "home-with-published")
    headline.first.click()
    reader.wait_for_url(f"**{live.get_absolute_url()}")
    expect(reader.get_by_role("heading", level=1, name=live_title)).to_be_visible()
    expect(reader.get_by_text("The rest of the story.")).to_be_visible()
    hero = reader.get_by_role("img", name="Two cranes against a yellow sun")
    expect(hero).to_be_visible()
    assert (hero.get_attribute("src") or "").startswith("/media/articles/")
    renditions = re.compile(r"\b320w\b.*\b640w\b.*\b960w\b.*\b1600w\b")  # made on save
    expect(hero).to_have_attribute("srcset", renditions)
    hero.evaluate("img => img.decode()")  # rejects if the uploaded image cannot be loaded
    assert hero.evaluate("img => img.naturalWidth") > 0
    screenshot(reader, "published-article")

    later_title = "Night ferry timetable to change"
    # Far enough ahead to fill the form and check it stays hidden; near enough to wait for.
    when = timezone.localtime(timezone.now() + timedelta(seconds=30)).replace(microsecond=0)
    page.goto("/admin/articles/article/add/")
    fill_article_form(page, title=later_title, category="Port", author="Rosa Delgado", status="scheduled")
    page.locator("input[name=publish_at_0]").fill(when.strftime("%Y-%m-%d"))
    page.locator("input[name=publish_at_1]").fill(when.strftime("%H:%M:%S"))
    screenshot(page, "add-scheduled-article")
    save(page, later_title)
    expect(page.get_by_role("row").filter(has_text=later_title)).to_contain_text("Scheduled")
    expect(page.get_by_role("row").filter(has_text=live_title)).to_contain_text("Live")
    screenshot(page, "article-list")

    later = Article.objects.get(title=later_title)
    assert later.status == Article.Status.SCHEDULED and not later.is_live
    reader.goto("/")
    expect(reader.get_by_role("link", name=live_title, exact=True).first).to_be_visible()
    expect(reader.get_by_role("link", name=later_title)).to_have_count(0)
    screenshot(reader, "home-without-scheduled")
    response = reader.goto(later.get_absolute_url())
    assert response is not None and response.status == 404
    expect(reader.get_by_text(later_title)).to_have_count(0)
    screenshot(reader, "scheduled-is-404")

    # The editor can preview it at its real address meanwhile.
    page.goto(later.get_absolute_url())
    expect(page.get_by_role("note")).to_contain_text("Preview")
    expect(page.get_by_role("heading", level=1, name=later_title)).to_be_visible()
    screenshot(page, "preview")

    # Its time comes. Only the clock moves: no save(), no action, no job.
    time.sleep(max(0.0, (later.publish_at - timezone.now()).total_seconds()) + 0.5)
    reader.goto("/")
    expect(reader.get_by_role("link", name=later_title, exact=True).first).to_be_visible()
    screenshot(reader, "home-after-publish-time")
    response = reader.goto(later.get_absolute_url())
    assert response is not None and response.status == 200
    expect(reader.get_by_role("heading", level=1, name=later_title)).to_be_visible()
    screenshot(reader, "scheduled-article-live")
