"""The editor's desk in the admin: live preview, pictures in the story, the
checklist, revisions (compare, restore), updates and corrections, the desk's
list, and who may publish (writers draft, editors publish)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from reversion.models import Version

from articles.models import Article, Author, InlineImage

from .conftest import make_article
from .test_site_admin import add_form

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path


def png(name: str = "inline.png", width: int = 1400) -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", (width, width // 2), (120, 60, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def upload_inline(client, **fields) -> dict:
    data = {"image": png(), "alt": "A tugboat in fog", "caption": "Morning at the quay.", "credit": "Test Desk"}
    data.update(fields)
    response = client.post("/admin/articles/article/upload-image/", data)
    return {"status": response.status_code, **response.json()}


def preview(client, body: str, access: str = "metered") -> dict:
    response = client.post(
        "/admin/articles/article/preview/",
        {"title": "A headline of fair length", "standfirst": "Sum.", "body": body, "access": access, "category": "1"},
    )
    assert response.status_code == 200
    return response.json()


# --- preview ---------------------------------------------------------------------------


def test_the_preview_shows_the_full_story_and_what_a_reader_over_the_limit_sees(client, editor) -> None:
    client.force_login(editor)
    data = preview(client, "Free opening.\n\n[paywall]\n\nPaid part <script>alert(1)</script>.")
    html = data["preview"]
    full, teaser = html.split('id="preview-teaser"')
    assert "Free opening." in full and "Paid part" in full
    assert "Free opening." in teaser and "Paid part" not in teaser
    assert "You've read your" in teaser  # the real paywall box a reader over the limit gets
    assert "<script" not in html  # the same sanitizer as saving
    assert "The teaser ends at your paywall break" in teaser
    assert data["words"] == 4 and data["minutes"] == 1


def test_a_subscribers_only_preview_names_the_reader_without_a_subscription(client, editor) -> None:
    client.force_login(editor)
    html = preview(client, "One.\n\nTwo.\n\nThree.\n\nFour.", access="subscribers")["preview"]
    assert "As a reader without a subscription" in html
    assert "This story is for subscribers." in html
    assert "first 3 of 4 blocks" in html


@pytest.mark.parametrize("who", ["anonymous", "free_reader"])
def test_readers_cannot_use_the_preview_or_upload(client, who, request) -> None:
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    response = client.post("/admin/articles/article/preview/", {"body": "x"})
    assert response.status_code == 302 and "/login" in response["Location"]
    response = client.post("/admin/articles/article/upload-image/", {"alt": "x", "image": png()})
    assert response.status_code == 302
    assert not InlineImage.objects.exists()


# --- pictures and embeds ---------------------------------------------------------------


def test_a_picture_uploaded_into_the_story_gets_renditions_and_its_alt_caption_credit(client, editor) -> None:
    client.force_login(editor)
    result = upload_inline(client)
    assert result["status"] == 201 and result["markdown"] == f"[image {result['id']}]"
    image = InlineImage.objects.get()
    assert sorted(image.renditions["sizes"], key=int) == ["320", "640", "960", "1400"]  # as hero images
    assert sorted(image.renditions["webp"], key=int) == ["320", "640", "960", "1400"]
    html = preview(client, f"Opening.\n\n{result['markdown']}\n\nAfter.")["preview"]
    figure = re.search(r'<figure class="inline-image">.*?</figure>', html, re.S).group(0)
    assert 'alt="A tugboat in fog"' in figure and "320w" in figure and "960w" in figure
    assert '<source type="image/webp"' in figure
    assert "Morning at the quay." in figure and "(Test Desk)" in figure


@pytest.mark.parametrize("cache_seconds", [300, 0])
def test_correcting_a_picture_reaches_the_stories_that_show_it(client, editor, settings, cache_seconds) -> None:
    """A story's body is drawn with its pictures when it is saved: a picture's corrected
    caption, credit or alt text shows in every story that has it (kept pages too), a
    deleted picture leaves none behind, and stories without it are not touched."""
    from django.test import Client

    settings.PAGE_CACHE_SECONDS = cache_seconds
    client.force_login(editor)
    image_id = upload_inline(client)["id"]
    free = Article.Access.FREE
    story = make_article(access=free, body=f"Opening.\n\n[Image:{image_id}]\n\nAfter.")  # any way the desk accepts
    other = make_article(access=free, body="Opening without pictures.")
    other_saved = Article.objects.get(pk=other.pk).updated_at
    reader = Client()
    assert "Morning at the quay." in reader.get(story.get_absolute_url()).content.decode()  # kept
    form = client.get(f"/admin/articles/inlineimage/{image_id}/change/").content.decode()
    assert f'href="/admin/articles/article/{story.pk}/change/">{story.title}</a>' in form  # where a change shows
    assert f"/admin/articles/article/{other.pk}/change/" not in form
    response = client.post(
        f"/admin/articles/inlineimage/{image_id}/change/",
        {"alt": "A tugboat in fog at dawn", "caption": "Dawn at the quay.", "credit": "Corrected Desk"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    page = reader.get(story.get_absolute_url()).content.decode()
    assert "Dawn at the quay." in page and "(Corrected Desk)" in page and 'alt="A tugboat in fog at dawn"' in page
    assert "Morning at the quay." not in page and "Test Desk" not in page
    assert Article.objects.get(pk=other.pk).updated_at == other_saved

    assert client.post(f"/admin/articles/inlineimage/{image_id}/delete/", {"post": "yes"}).status_code == 302
    page = reader.get(story.get_absolute_url()).content.decode()
    assert "Opening." in page and "After." in page
    assert "Dawn at the quay." not in page and "inline-image" not in page


def test_the_stories_showing_a_picture_are_those_with_a_line_naming_it() -> None:
    named = [make_article(body=f"Opening.\n\n{line}\n\nAfter.") for line in ("[image 12]", "[Image:12]", "[image12]")]
    for line in ("[image 120]", "[image 1]", "[image 112]", "image 12"):
        make_article(body=f"Opening.\n\n{line}\n\nAfter.")
    assert set(Article.objects.showing_picture(12)) == set(named)


def test_a_picture_without_alt_text_is_refused(client, editor) -> None:
    client.force_login(editor)
    result = upload_inline(client, alt="   ")
    assert result["status"] == 400 and "alt" in result["errors"]
    assert not InlineImage.objects.exists()


def test_the_form_refuses_a_main_picture_without_alt_text_and_a_dangling_picture_line(
    client, editor, category, author
) -> None:
    client.force_login(editor)
    data = add_form(category, author, hero_alt="", body="Text.\n\n[image 999]\n\nMore.")
    response = client.post("/admin/articles/article/add/", data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "alt text is required" in str(errors["hero_alt"])
    assert "[image 999]" in str(errors["body"])
    assert not Article.objects.exists()


def test_the_checklist_warns_but_saves(client, editor, category, author) -> None:
    client.force_login(editor)
    data = add_form(category, author, title="Short", slug="short", hero_image="", hero_alt="")
    response = client.post("/admin/articles/article/add/", data, follow=True)
    texts = [str(m) for m in response.context["messages"]]
    assert any("Headline is only 5 characters" in t for t in texts)
    assert any("No main picture" in t for t in texts)
    assert Article.objects.filter(slug="short").exists()


def test_allow_listed_embeds_become_click_to_load_placeholders(category, author) -> None:
    article = make_article(
        category=category,
        authors=[author],
        access=Article.Access.FREE,
        body=(
            "Watch:\n\nhttps://www.youtube.com/watch?v=dQw4w9WgXcQ\n\n"
            "https://x.com/someone/status/1234567890\n\n"
            "https://datawrapper.dwcdn.net/AbC12/3/\n\n"
            "https://evil.example/watch?v=1\n\n"
            'https://www.youtube.com/watch?v=x"onmouseover=alert(1)'
        ),
    )
    html = article.body_html
    assert 'data-embed-src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"' in html
    assert 'data-embed-src="https://platform.twitter.com/embed/Tweet.html?id=1234567890&amp;dnt=true"' in html
    assert 'data-embed-src="https://datawrapper.dwcdn.net/AbC12/3"' in html
    assert "<iframe" not in html and "<script" not in html  # nothing loads until the reader clicks
    assert html.count('class="embed ') == 3  # the unknown host and the crafted link stay plain text
    assert "onmouseover=" not in re.sub(r"<p>[^<]*</p>", "", html)  # the crafted link is inert text
    assert all(src.startswith("https://") for src in re.findall(r'data-embed-src="([^"]*)"', html))


def test_a_body_cannot_forge_the_embed_placeholder_token(category, author) -> None:
    article = make_article(category=category, authors=[author], body="EMBED0000000000000000N0\n\nText.")
    assert "EMBED0000000000000000N0" in article.body_html


# --- revisions -------------------------------------------------------------------------


def test_every_save_keeps_a_revision_that_can_be_compared_and_restored(client, editor, category, author) -> None:
    client.force_login(editor)
    client.post("/admin/articles/article/add/", add_form(category, author, body="The harbour opened at dawn."))
    article = Article.objects.get()
    change = add_form(category, author, body="The harbor opened at dawn.", hero_image="")
    assert client.post(f"/admin/articles/article/{article.pk}/change/", change).status_code == 302
    versions = list(Version.objects.get_for_object(article))
    assert len(versions) == 2
    newer, older = versions
    assert newer.revision.user == editor

    page = client.get(f"/admin/articles/article/{article.pk}/change/").content.decode()
    changes = page[page.index("Who changed what") :]
    assert editor.get_username() in changes[: changes.index("All revisions")]
    history = client.get(f"/admin/articles/article/{article.pk}/history/").content.decode()
    assert f'value="{older.pk}"' in history and "Compare the two selected revisions" in history

    diff = client.get(f"/admin/articles/article/{article.pk}/history/compare/", {"from": older.pk, "to": newer.pk})
    html = diff.content.decode()
    assert "<del>harbour</del><ins>harbor</ins>" in html.replace("\n", "")
    assert "Restore this version" in html

    restore_url = f"/admin/articles/article/{article.pk}/history/{older.pk}/"
    assert client.get(restore_url).status_code == 200
    article.refresh_from_db()
    assert article.body == "The harbor opened at dawn."  # looking at a revision changes nothing
    form = add_form(category, author, body="The harbour opened at dawn.", hero_image="")
    assert client.post(restore_url, form).status_code == 302
    article.refresh_from_db()
    assert article.body == "The harbour opened at dawn."
    assert "harbour" in article.body_html
    assert article.content_modified_at is not None  # a restore is a real edit
    assert "Reverted" in Version.objects.get_for_object(article).first().revision.get_comment()


# --- updates, corrections, dateModified --------------------------------------------------


def json_ld(client, article: Article) -> dict:
    html = client.get(article.get_absolute_url()).content.decode()
    return json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))


def test_date_modified_follows_real_edits_only(client, category, author) -> None:
    article = make_article(category=category, authors=[author], access=Article.Access.FREE)
    published = json_ld(client, article)
    assert published["dateModified"] == published["datePublished"]

    article.comments_open = False
    article.save()  # a switch, not an edit readers see
    assert json_ld(client, article)["dateModified"] == published["datePublished"]

    article.body += "\n\nA typo fixed."
    article.save()
    edited = json_ld(client, article)
    assert edited["dateModified"] > published["datePublished"]
    assert edited["dateModified"] == article.content_modified_at.isoformat()


def test_readers_see_the_update_note_and_the_correction_with_their_times(client, category, author) -> None:
    article = make_article(category=category, authors=[author], access=Article.Access.FREE)
    article.update_note = "Adds the port authority's response."
    article.correction = "An earlier version gave the wrong berth number."
    article.save()
    html = client.get(article.get_absolute_url()).content.decode()
    assert re.search(r"Updated <time datetime=\"[^\"]+\">.*?</time>:</strong> Adds the port authority", html)
    foot = html[html.index('class="correction"') :]
    assert "An earlier version gave the wrong berth number." in foot and "<time" in foot
    stamped = article.corrected_at
    article.save()
    article.refresh_from_db()
    assert article.corrected_at == stamped  # the time is the correction's, not the last save's


# --- the desk and the roles --------------------------------------------------------------


def test_the_desk_lists_todays_stories_and_the_scheduled_ones_by_time(client, editor, category, author) -> None:
    client.force_login(editor)
    soon = timezone.now() + timedelta(days=2)
    make_article(category=category, authors=[author], title="Later story", status="scheduled", publish_at=soon)
    make_article(
        category=category,
        authors=[author],
        title="Earlier story",
        status="scheduled",
        publish_at=soon - timedelta(hours=3),
    )
    make_article(category=category, authors=[author], title="Drafted story", status="draft")
    html = client.get("/admin/articles/article/").content.decode()
    desk = html[html.index('aria-label="The desk"') : html.index("</section>")]
    scheduled = desk[desk.index("Scheduled") :]
    assert scheduled.index("Earlier story") < scheduled.index("Later story")
    assert "Drafted story" not in desk
    listing = client.get("/admin/articles/article/", {"visibility": "upcoming"}).content.decode()
    assert "Later story" in listing and "Drafted story" not in listing


def writer_author(writer) -> Author:
    return Author.objects.create(name="Wren Writer", slug="wren-writer", user=writer)


def test_a_writer_drafts_but_cannot_publish(client, writer, category) -> None:
    client.force_login(writer)
    mine = writer_author(writer)
    form = client.get("/admin/articles/article/add/").content.decode()
    assert 'name="status"' not in form  # the status is not theirs to set
    response = client.post("/admin/articles/article/add/", add_form(category, mine, status="published"))
    assert response.status_code == 302
    article = Article.objects.get()
    assert article.status == Article.Status.DRAFT and article.created_by == writer
    assert client.get(article.get_absolute_url()).status_code == 200  # staff preview…
    client.logout()
    assert client.get(article.get_absolute_url()).status_code == 404  # …but readers see nothing

    client.force_login(writer)
    response = client.post(
        "/admin/articles/article/", {"action": "publish_now", "_selected_action": [article.pk]}, follow=True
    )
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT
    assert "publish_now" not in client.get("/admin/articles/article/").content.decode()


def test_a_writer_edits_only_their_own_drafts(client, writer, category, author) -> None:
    client.force_login(writer)
    mine = writer_author(writer)
    own = make_article(category=category, authors=[mine], status="draft")
    theirs = make_article(category=category, authors=[author], status="draft")
    live_own = make_article(category=category, authors=[mine])
    listing = client.get("/admin/articles/article/").content.decode()
    assert own.title in listing and theirs.title not in listing
    assert client.get(f"/admin/articles/article/{theirs.pk}/change/").status_code == 302  # not found for them
    edit = add_form(category, mine, title="Own draft, edited", slug=own.slug, hero_image="")
    assert client.post(f"/admin/articles/article/{own.pk}/change/", edit).status_code == 302
    own.refresh_from_db()
    assert own.title == "Own draft, edited" and own.status == Article.Status.DRAFT
    # Once live it is the desk's: the writer can look, not change.
    response = client.post(f"/admin/articles/article/{live_own.pk}/change/", {**edit, "title": "Sneaky"})
    assert response.status_code == 403
    live_own.refresh_from_db()
    assert live_own.title != "Sneaky"


def test_an_editor_publishes_anything_and_has_no_billing_rights(client, editor, category, author) -> None:
    client.force_login(editor)
    other = make_article(category=category, authors=[author], status="draft")
    client.post("/admin/articles/article/", {"action": "publish_now", "_selected_action": [other.pk]})
    other.refresh_from_db()
    assert other.status == Article.Status.PUBLISHED
    assert client.get("/admin/subscriptions/subscription/").status_code == 403


def test_the_content_security_policy_lets_exactly_the_embed_players_frame(settings) -> None:
    from articles.embeds import FRAME_ORIGINS

    assert sorted(settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["frame-src"]) == sorted(FRAME_ORIGINS)


@pytest.mark.parametrize("slug", ["search", "subscribe", "account", "feed", "admin"])
def test_a_web_address_the_site_answers_itself_is_refused(client, editor, category, author, slug) -> None:
    client.force_login(editor)
    response = client.post("/admin/articles/article/add/", add_form(category, author, slug=slug))
    assert response.status_code == 200
    assert "one of the site's own pages" in response.context["adminform"].form.errors["slug"][0]
    assert not Article.objects.exists()



def test_an_address_that_only_begins_like_a_site_page_is_fine(client, editor, category, author) -> None:
    client.force_login(editor)
    client.post("/admin/articles/article/add/", add_form(category, author, slug="search-tips"))
    assert client.get(Article.objects.get(slug="search-tips").get_absolute_url()).status_code == 200
