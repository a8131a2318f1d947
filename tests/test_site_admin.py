"""The editors' admin: an editor publishes through the real add form (with an
image upload), cannot touch users, and nothing they paste can script a page."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from articles.models import Article

pytestmark = pytest.mark.django_db

XSS_BODY = (
    "First paragraph is fine.\n\n"
    "<script>alert(1)</script>\n\n"
    "<img src=x onerror=alert(1)>\n\n"
    'A [x](javascript:alert(1)) link and a <a href="#" onclick="alert(1)">click</a>.\n\n'
    "Last paragraph."
)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path


def upload(name: str = "hero.png") -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", (1200, 675), (30, 60, 90)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def add_form(category, author, **overrides) -> dict:
    when = timezone.localtime(timezone.now() - timedelta(minutes=5))
    data = {
        "title": "Dockworkers ratify a new contract",
        "slug": "dockworkers-ratify-a-new-contract",
        "standfirst": "The vote ends a month of uncertainty at the port.",
        "category": category.pk,
        "authors": [author.pk],
        "body": "Members voted by a wide margin.\n\n> “It was worth the wait.”\n\nTalks began in spring.",
        "hero_image": upload(),
        "hero_alt": "Cranes at the port at dusk",
        "hero_caption": "Cranes at the container terminal.",
        "hero_credit": "Photo: Test Desk",
        "status": Article.Status.PUBLISHED,
        "publish_at_0": when.strftime("%Y-%m-%d"),
        "publish_at_1": when.strftime("%H:%M:%S"),
        "access": Article.Access.FREE,
        "comments_open": "on",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def test_editor_publishes_through_the_admin_and_it_reaches_the_home_page(client, editor, category, author) -> None:
    client.force_login(editor)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/articles/article/add/").status_code == 200
    response = client.post("/admin/articles/article/add/", add_form(category, author))
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    article = Article.objects.get(slug="dockworkers-ratify-a-new-contract")
    assert article.is_live
    assert list(article.authors.all()) == [author]
    # The upload went through storage and renditions were made for srcset.
    assert article.hero_image.name.startswith("articles/")
    assert article.hero_renditions["sizes"], article.hero_renditions
    assert article.hero_renditions["width"] == 1200

    client.logout()
    home = client.get("/").content.decode()
    assert "Dockworkers ratify a new contract" in home
    assert "srcset=" in home
    page = client.get(article.get_absolute_url()).content.decode()
    assert "Cranes at the container terminal." in page
    assert "<blockquote>" in page


def test_editor_can_schedule_and_sees_it_in_the_change_form(client, editor, category, author) -> None:
    client.force_login(editor)
    later = timezone.localtime(timezone.now() + timedelta(days=2))
    data = add_form(
        category,
        author,
        status=Article.Status.SCHEDULED,
        publish_at_0=later.strftime("%Y-%m-%d"),
        publish_at_1=later.strftime("%H:%M:%S"),
    )
    assert client.post("/admin/articles/article/add/", data).status_code == 302
    article = Article.objects.get(slug=data["slug"])
    assert not article.is_live
    change = client.get(f"/admin/articles/article/{article.pk}/change/").content.decode()
    assert "Not yet — goes live" in change
    # "View on site" goes straight to the real URL, where staff get the preview.
    assert f'<a href="{article.get_absolute_url()}" class="viewsitelink">' in change
    assert "[paywall]" in change  # the Markdown help is on the form
    assert "px wide" in change  # read-only preview of the hero renditions
    listing = client.get("/admin/articles/article/").content.decode()
    assert "Scheduled ·" in listing


def test_editor_gets_403_on_users_and_groups(client, editor) -> None:
    client.force_login(editor)
    assert client.get("/admin/auth/user/").status_code == 403
    assert client.get(f"/admin/auth/user/{editor.pk}/change/").status_code == 403
    assert client.get("/admin/auth/group/").status_code == 403
    for url in ("/admin/articles/category/", "/admin/articles/author/", "/admin/articles/article/"):
        assert client.get(url).status_code == 200, url


def test_readers_cannot_reach_the_admin(client, free_reader) -> None:
    client.force_login(free_reader)
    response = client.get("/admin/articles/article/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_script_and_event_handlers_saved_through_the_admin_come_out_clean(client, editor, category, author) -> None:
    client.force_login(editor)
    data = add_form(category, author, body=XSS_BODY, slug="clean-body-please", title="Clean body please")
    assert client.post("/admin/articles/article/add/", data).status_code == 302
    article = Article.objects.get(slug="clean-body-please")
    for html in (article.body_html, article.teaser_html):
        assert "<script" not in html
        assert "onerror" not in html
        assert "onclick" not in html
        assert "javascript:" not in html
        assert "<img" not in html
    assert "First paragraph is fine." in article.body_html
    assert "Last paragraph." in article.body_html

    client.logout()
    page = client.get(article.get_absolute_url()).content.decode()
    assert "First paragraph is fine." in page
    assert "alert(1)" not in page
    assert "onerror" not in page
    assert "javascript:" not in page


def test_publish_now_action(client, editor, category, author) -> None:
    from tests.conftest import make_article

    draft = make_article(category=category, authors=[author], status=Article.Status.DRAFT)
    client.force_login(editor)
    response = client.post(
        "/admin/articles/article/", {"action": "publish_now", "_selected_action": [draft.pk]}, follow=True
    )
    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.status == Article.Status.PUBLISHED and draft.is_live


def test_images_come_in_sizes_and_lazy_load_below_the_fold(client, editor, category, author) -> None:
    client.force_login(editor)
    for n in range(3):
        data = add_form(category, author, slug=f"harbor-story-{n}", title=f"Harbor story {n}", hero_image=upload())
        assert client.post("/admin/articles/article/add/", data).status_code == 302
    client.logout()
    home = client.get("/").content.decode()
    lead, _, rest = home.partition('class="lead-story"')[2].partition("</section>")
    assert "srcset=" in lead and 'loading="lazy"' not in lead  # the lead picture loads at once
    assert rest.count('loading="lazy"') >= 2  # the cards below it wait until scrolled to
    assert 'alt="Cranes at the port at dusk"' in home
