"""Pictures over MAX_IMAGE_PIXELS are refused from their header, before anything decodes
them (issue 31: a 144-megapixel PNG cost 6.5 s of a worker to make its renditions)."""

from __future__ import annotations

import struct
import time
import zlib
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageFile

from articles.models import Article, InlineImage

from .test_site_admin import add_form

pytestmark = pytest.mark.django_db

TOO_LARGE = "The most this site takes is 40 megapixels"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    settings.MAX_IMAGE_PIXELS = 40_000_000


@pytest.fixture
def decoded(monkeypatch) -> list[tuple[int, int]]:
    """The size of every image Pillow decodes (ImageFile.load) while the test runs."""
    sizes: list[tuple[int, int]] = []
    load = ImageFile.ImageFile.load

    def counting_load(self):
        sizes.append(self.size)
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    return sizes


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def huge_png(width: int = 12_000, height: int = 12_000, name: str = "huge.png") -> SimpleUploadedFile:
    """A valid PNG that declares width x height pixels in a few hundred bytes: only
    decoding it would cost anything, so a quick refusal proves nothing decoded it."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    rows = zlib.compress(b"\0" + b"\x10\x20\x30" * 64)  # the first few pixels; the rest never comes
    data = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", rows) + _chunk(b"IEND", b"")
    return SimpleUploadedFile(name, data, content_type="image/png")


def small_png(name: str = "fits.png") -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", (1200, 675), (30, 60, 90)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_a_main_picture_over_the_pixel_limit_is_refused_quickly_and_nothing_is_saved(
    client, editor, category, author, decoded, tmp_path
) -> None:
    client.force_login(editor)
    started = time.monotonic()
    response = client.post("/admin/articles/article/add/", add_form(category, author, hero_image=huge_png()))
    assert time.monotonic() - started < 2
    assert response.status_code == 200  # the form again, with the error
    errors = response.context["adminform"].form.errors
    assert TOO_LARGE in str(errors["hero_image"]) and "12000 × 12000" in str(errors["hero_image"])
    assert not Article.objects.exists()
    assert not list(tmp_path.rglob("*.*"))  # neither the upload nor any rendition was stored
    assert (12_000, 12_000) not in decoded


def test_a_picture_for_the_story_over_the_pixel_limit_is_refused_with_the_reason(client, editor, decoded) -> None:
    client.force_login(editor)
    response = client.post(
        "/admin/articles/article/upload-image/", {"image": huge_png(), "alt": "A tugboat in fog", "credit": "Desk"}
    )
    assert response.status_code == 400
    assert TOO_LARGE in response.json()["errors"]["image"][0]
    assert not InlineImage.objects.exists()
    assert (12_000, 12_000) not in decoded


def test_the_limit_is_the_newsrooms_to_set_and_a_picture_under_it_still_gets_its_renditions(
    client, editor, category, author, settings
) -> None:
    client.force_login(editor)
    settings.MAX_IMAGE_PIXELS = 1200 * 675
    response = client.post("/admin/articles/article/add/", add_form(category, author, hero_image=small_png()))
    assert response.status_code == 302
    article = Article.objects.get()
    assert article.hero_renditions["width"] == 1200 and article.hero_renditions["webp"]
    settings.MAX_IMAGE_PIXELS = 1200 * 675 - 1
    response = client.post(
        f"/admin/articles/article/{article.pk}/change/", add_form(category, author, hero_image=small_png("next.png"))
    )
    assert response.status_code == 200
    assert "The most this site takes is 0.8 megapixels" in str(response.context["adminform"].form.errors)
