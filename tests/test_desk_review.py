"""The review step and autosave behind the article form (articles/admin.py, admin_editor.autosave):
a writer submits a draft, an editor sends it back only with a note or publishes it; a draft
being written is kept without a revision, and nothing but a draft the user may edit is."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from reversion.models import Version

from articles.admin import SEND_BACK, SUBMIT_FOR_REVIEW
from articles.models import Article, Author, DeskEmailChoice

from .conftest import make_article, make_user
from .smtp_server import free_port, use_smtp
from .test_site_admin import add_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def drafted(client: Client, writer, category) -> Article:
    client.force_login(writer)
    mine = Author.objects.create(name="Wren Writer", slug="wren-writer", user=writer)
    data = add_form(category, mine, status="draft", hero_image="", hero_alt="", **{SUBMIT_FOR_REVIEW: "1"})
    assert client.post("/admin/articles/article/add/", data).status_code == 302
    return Article.objects.get()


def test_a_writers_submitted_draft_waits_for_review_and_stays_unreadable(client, drafted) -> None:
    assert drafted.in_review and drafted.status == Article.Status.DRAFT and not drafted.is_live
    listing = client.get("/admin/articles/article/", {"visibility": "review"}).content.decode()
    assert drafted.title in listing and "Waiting for review" in listing
    client.logout()
    assert client.get(drafted.get_absolute_url()).status_code == 404


def _change(client: Client, article: Article, **extra) -> object:
    data = add_form(article.category, article.authors.get(), status="draft", hero_image="", hero_alt="")
    data.update(title=article.title, slug=article.slug, **extra)
    return client.post(f"/admin/articles/article/{article.pk}/change/", data)


def test_an_editor_sends_a_story_back_only_with_a_note(drafted, editor) -> None:
    chief = Client()
    chief.force_login(editor)
    page = chief.get(f"/admin/articles/article/{drafted.pk}/change/").content.decode()
    assert f'name="{SEND_BACK}"' in page and f'name="{SUBMIT_FOR_REVIEW}"' not in page
    refused = _change(chief, drafted, **{SEND_BACK: "1", "review_note": "  "})
    assert refused.status_code == 200 and "needs a note" in refused.content.decode()
    drafted.refresh_from_db()
    assert drafted.in_review
    assert _change(chief, drafted, **{SEND_BACK: "1", "review_note": "Add the union's figures."}).status_code == 302
    drafted.refresh_from_db()
    assert not drafted.in_review and drafted.review_note == "Add the union's figures."


def test_a_writer_cannot_send_back_or_write_the_editors_note(client, drafted) -> None:
    page = client.get(f"/admin/articles/article/{drafted.pk}/change/").content.decode()
    assert f'name="{SEND_BACK}"' not in page and 'name="review_note"' not in page
    _change(client, drafted, **{SEND_BACK: "1", "review_note": "Looks fine to me"})
    drafted.refresh_from_db()
    assert drafted.in_review and drafted.review_note == ""


def test_publishing_ends_the_review(drafted, editor) -> None:
    chief = Client()
    chief.force_login(editor)
    assert _change(chief, drafted, status="published").status_code == 302
    drafted.refresh_from_db()
    assert drafted.status == Article.Status.PUBLISHED and drafted.review_requested_at is None


def test_autosave_keeps_a_draft_without_a_revision(client, drafted) -> None:
    revisions = Version.objects.get_for_object(drafted).count()
    url = f"/admin/articles/article/{drafted.pk}/autosave/"
    answer = client.post(url, {"title": drafted.title, "standfirst": "New summary.", "body": "Kept **while** typing."})
    assert answer.status_code == 200 and answer.json()["saved"] is True
    drafted.refresh_from_db()
    assert drafted.standfirst == "New summary." and "<strong>while</strong>" in drafted.teaser_html + drafted.body_html
    assert Version.objects.get_for_object(drafted).count() == revisions
    assert client.post(url, {"title": " "}).status_code == 400  # a draft keeps its headline


def test_autosave_refuses_live_stories_and_other_writers_drafts(client, editor, category, author) -> None:
    live = make_article(category=category, authors=[author])
    client.force_login(editor)
    assert client.post(f"/admin/articles/article/{live.pk}/autosave/", {"body": "Changed"}).status_code == 409
    live.refresh_from_db()
    assert live.body != "Changed"
    draft = make_article(category=category, authors=[author], status=Article.Status.DRAFT)
    other = make_user("other.writer@example.com", is_staff=True)
    other.groups.add(Group.objects.get(name="Writers"))
    client.force_login(other)
    assert client.post(f"/admin/articles/article/{draft.pk}/autosave/", {"body": "Mine now"}).status_code == 403
    assert client.post("/admin/articles/article/abc/autosave/", {"body": "x"}).status_code == 404


# --- the editors' email when a story is submitted (opt-in per editor) -------------------------------


def an_editor(email: str, *, emails: bool | None):
    user = make_user(email, is_staff=True, first_name="Ed", last_name=email.split("@")[0].title())
    user.groups.add(Group.objects.get(name="Editors"))
    if emails is not None:
        DeskEmailChoice.objects.create(user=user, review_submitted=emails)
    return user


def submit(client: Client, category, author, capture, **extra) -> Article:
    data = add_form(category, author, status="draft", hero_image="", hero_alt="", **{SUBMIT_FOR_REVIEW: "1"}, **extra)
    with capture(execute=True) as callbacks:
        assert client.post("/admin/articles/article/add/", data).status_code == 302
    assert callbacks, "the email waits for the commit"
    return Article.objects.get(slug=data["slug"])


def test_only_editors_who_asked_are_emailed_when_a_writer_submits(
    client, writer, category, smtp, django_capture_on_commit_callbacks, settings
) -> None:
    keen = an_editor("keen@example.com", emails=True)
    an_editor("quiet@example.com", emails=False)
    an_editor("never.chose@example.com", emails=None)  # off unless turned on
    DeskEmailChoice.objects.create(user=writer, review_submitted=True)  # a writer cannot publish: no email
    client.force_login(writer)
    mine = Author.objects.create(name="Wren Writer", slug="wren-writer", user=writer)
    story = submit(client, category, mine, django_capture_on_commit_callbacks)

    assert [str(m["To"]) for m in smtp.messages] == [keen.email]
    (message,) = smtp.messages
    assert message["Subject"] == "For review: Dockworkers ratify a new contract"
    text = message.get_content()
    assert "Dockworkers ratify a new contract" in text
    assert f"{settings.SITE_URL}/admin/articles/article/{story.pk}/change/" in text


def test_the_editor_who_submits_is_not_emailed_about_their_own_story(
    client, category, author, smtp, django_capture_on_commit_callbacks
) -> None:
    me = an_editor("me@example.com", emails=True)
    other = an_editor("other@example.com", emails=True)
    client.force_login(me)
    submit(client, category, author, django_capture_on_commit_callbacks)
    assert smtp.recipients() == {other.email: 1}


def test_no_email_when_the_story_is_saved_without_submitting(
    client, writer, category, author, smtp, django_capture_on_commit_callbacks
) -> None:
    an_editor("keen@example.com", emails=True)
    client.force_login(writer)
    data = add_form(category, author, status="draft", hero_image="", hero_alt="")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/admin/articles/article/add/", data).status_code == 302
    assert smtp.messages == []


def test_a_mail_server_that_is_down_does_not_lose_the_submission(
    client, writer, category, author, settings, django_capture_on_commit_callbacks, caplog
) -> None:
    use_smtp(settings, free_port())  # nothing listens there
    settings.EMAIL_TIMEOUT = 2
    an_editor("keen@example.com", emails=True)
    client.force_login(writer)
    story = submit(client, category, author, django_capture_on_commit_callbacks)
    assert story.in_review
    assert "waiting for review failed" in caplog.text


def test_editors_turn_the_email_on_and_off_on_the_desk(client) -> None:
    editor = an_editor("chooser@example.com", emails=None)
    client.force_login(editor)
    desk = client.get("/admin/articles/article/").content.decode()
    assert "Email me when a story is submitted" in desk and 'name="csrfmiddlewaretoken"' in desk
    url = "/admin/articles/article/review-emails/"
    assert client.get(url).status_code == 405
    assert client.post(url, {"review_submitted": "on"}).status_code == 302
    assert DeskEmailChoice.objects.get(user=editor).review_submitted is True
    desk = client.get("/admin/articles/article/").content.decode()
    assert "We email you when a story is submitted." in desk and "Stop emailing me" in desk
    client.post(url, {"review_submitted": "nonsense"})  # anything but a ticked box is "off"
    assert DeskEmailChoice.objects.get(user=editor).review_submitted is False


def test_writers_have_no_email_choice_and_cannot_post_one(client, writer) -> None:
    client.force_login(writer)
    assert "Email me when a story is submitted" not in client.get("/admin/articles/article/").content.decode()
    assert client.post("/admin/articles/article/review-emails/", {"review_submitted": "on"}).status_code == 403
    assert not DeskEmailChoice.objects.exists()
