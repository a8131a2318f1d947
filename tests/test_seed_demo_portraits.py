"""seed_demo gives its demo authors portraits drawn on this machine (no downloads,
no real person), idempotently, and the author box and page show them with alt text."""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import Client
from PIL import Image

from articles.management.commands.seed_demo import AUTHORS, LOOKS
from articles.models import Article, Author

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path


def seed() -> None:
    call_command("seed_demo", stdout=io.StringIO())


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (50, 50), "#123456").save(buffer, format="JPEG")
    return buffer.getvalue()


def test_every_demo_author_gets_their_own_portrait() -> None:
    seed()
    demo = Author.objects.filter(name__in=[name for name, *_ in AUTHORS])
    assert demo.count() == len(AUTHORS) == len(LOOKS)
    pictures = set()
    for author in demo:
        with author.photo.open("rb") as f:
            data = f.read()
        image = Image.open(io.BytesIO(data))
        assert image.format == "JPEG" and image.size == (400, 400), author
        assert len(image.convert("RGB").getcolors(400 * 400)) > 50, author  # drawn, not a flat square
        pictures.add(data)
    assert len(pictures) == len(AUTHORS)  # no two alike


def test_running_it_again_keeps_the_portraits_and_only_fills_in_missing_ones() -> None:
    seed()
    photos = dict(Author.objects.values_list("slug", "photo"))
    seed()
    assert dict(Author.objects.values_list("slug", "photo")) == photos

    # A demo author seeded before portraits existed gets one; a photo an editor chose stays.
    bare, chosen = Author.objects.order_by("name")[:2]
    Author.objects.filter(pk=bare.pk).update(photo="")
    chosen.photo.save("real-photo.jpg", ContentFile(jpeg_bytes()), save=True)
    seed()
    bare.refresh_from_db()
    chosen.refresh_from_db()
    assert bare.photo.name.startswith("authors/")
    assert "real-photo" in chosen.photo.name


def test_the_author_box_and_the_author_page_show_the_portrait_with_alt_text() -> None:
    seed()
    author = Author.objects.get(name="Tomás Reyes")
    story = Article.objects.published().filter(authors=author, access=Article.Access.FREE).first()
    assert story is not None
    img = f'<img class="author-box__photo" src="{author.photo.url}" alt="Portrait of Tomás Reyes"'
    assert img in Client().get(story.get_absolute_url()).content.decode()
    assert img in Client().get(author.get_absolute_url()).content.decode()
