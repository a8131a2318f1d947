"""seed_demo loads a believable newsroom and is safe to run twice."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from articles.models import Article, Author, Category, Comment
from articles.rendering import blocks
from newsletter.models import Preference
from subscriptions.models import ComplimentaryAccess

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path


def snapshot() -> dict[str, int]:
    return {
        "articles": Article.objects.count(),
        "categories": Category.objects.count(),
        "authors": Author.objects.count(),
        "users": get_user_model().objects.count(),
        "emails": EmailAddress.objects.count(),
        "comments": Comment.objects.count(),
        "comps": ComplimentaryAccess.objects.count(),
        "author links": Article.authors.through.objects.count(),
    }


def test_seed_demo_is_idempotent_and_believable(client, capsys) -> None:
    call_command("seed_demo")
    first = snapshot()
    updated = dict(Article.objects.values_list("slug", "updated_at"))
    call_command("seed_demo")
    assert snapshot() == first
    assert dict(Article.objects.values_list("slug", "updated_at")) == updated  # nothing re-saved
    # Demo readers (three subscribers, one free reader) take the emails; one metered story goes out as one.
    assert Preference.objects.filter(user__email__endswith="@ledger.example", digest=True, breaking=True).count() == 4
    assert Article.objects.filter(send_as_email=True, access=Article.Access.METERED).count() == 1

    assert first["articles"] >= 40
    assert first["categories"] >= 6
    assert first["authors"] >= 4
    now = timezone.now()
    assert Article.objects.filter(status=Article.Status.DRAFT).count() == 1
    assert Article.objects.exclude(status=Article.Status.DRAFT).filter(publish_at__gt=now).count() == 1
    assert Article.objects.published().count() == first["articles"] - 2
    for access in Article.Access.values:
        assert Article.objects.filter(access=access).exists(), access
    assert Article.objects.filter(access=Article.Access.METERED).count() > first["articles"] // 2
    for category in Category.objects.all():
        assert category.articles.count() >= 5, category

    for article in Article.objects.prefetch_related("authors"):
        assert article.hero_renditions.get("sizes"), article.slug
        assert article.hero_caption and article.hero_credit and article.hero_alt
        assert article.authors.exists()
        paragraphs = [b for b in blocks(article.body_html) if b.startswith("<p>")]
        assert len(paragraphs) >= 6, article.slug
        assert "<blockquote>" in article.body_html
    for author in Author.objects.all():
        assert author.photo and author.role and author.bio

    out = capsys.readouterr().out
    User = get_user_model()
    admin = User.objects.get(email="admin@ledger.example")
    editor = User.objects.get(email="editor@ledger.example")
    reader = User.objects.get(email="reader@ledger.example")
    assert admin.is_superuser and admin.is_staff
    assert editor.is_staff and not editor.is_superuser and editor.groups.filter(name="Editors").exists()
    assert ComplimentaryAccess.objects.filter(user=reader, until__gt=now + timezone.timedelta(days=360)).exists()
    for user in (admin, editor, reader):
        assert EmailAddress.objects.filter(user=user, verified=True, primary=True).exists()
        assert user.email in out
    assert "ledger-editor-demo" in out

    assert Comment.objects.values("user").distinct().count() >= 2
    assert Comment.objects.filter(parent__isnull=False).exists()
    assert Comment.objects.values("article").distinct().count() >= 3

    # The printed demo passwords are the real ones, and the editor can reach the admin.
    assert admin.check_password("ledger-admin-demo")
    assert editor.check_password("ledger-editor-demo")
    assert reader.check_password("ledger-reader-demo")
    client.force_login(editor)
    assert client.get("/admin/articles/article/").status_code == 200
    assert client.get("/").status_code == 200
