"""The 5xx the outside probe found, each now a clean 4xx (or a normal page):
a NUL byte anywhere a client controls, and a comment page number past bigint.
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
