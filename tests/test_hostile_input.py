"""The 5xx the outside probe found, each now a clean 4xx (or a normal page):
a NUL byte anywhere a client controls, a comment page number past bigint, and a
media file name longer than the file system allows.
The URLconf-wide sweep is tests/test_fuzz_urls.py."""

import pytest

from .conftest import make_article

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", "/search/?q=a%00b", None),
        ("get", "/?page=%00", None),
        ("get", "/%00/", None),
        ("post", "/accounts/login/", {"login": "a\x00b@example.com", "password": "x"}),
        ("post", "/accounts/signup/", {"email": "new@example.com", "password1": "\x00", "password2": "\x00"}),
    ],
)
def test_a_nul_byte_is_a_400_page(client, method: str, path: str, data) -> None:
    response = client.post(path, data) if method == "post" else client.get(path)
    assert response.status_code == 400
    assert "couldn't understand that request" in response.content.decode()
    assert "Content-Security-Policy" in response


def test_a_nul_byte_in_a_cookie_is_a_400(client) -> None:
    client.cookies["sessionid"] = "abc\x00def"
    assert client.get("/").status_code == 400


def test_a_comment_page_past_bigint_is_just_an_empty_page(client, subscriber) -> None:
    article = make_article()
    client.force_login(subscriber)
    for cpage in ["9" * 20, "-" + "9" * 20, "1e309", "abc", "²"]:
        assert client.get(article.get_absolute_url(), {"cpage": cpage}).status_code == 200, cpage


@pytest.mark.parametrize("name", ["a" * 256, "a" * 300 + ".jpg", "dir/" + "b" * 4000, "%s/x.png" % ("c" * 255 + "d")])
def test_a_media_name_too_long_for_the_file_system_is_a_404(client, settings, tmp_path, name: str) -> None:
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "kept.txt").write_text("an uploaded file")
    client.raise_request_exception = False
    assert client.get("/media/" + name).status_code == 404
    assert client.get("/media/kept.txt").status_code == 200  # files that are there are still served
