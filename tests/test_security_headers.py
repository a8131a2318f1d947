"""The headers a security review expects: a strict Content-Security-Policy on
every response (pages, errors, feeds, the admin, the webhook), and HEAD
answered wherever GET is, without spending a meter credit."""

from __future__ import annotations

import pytest
from django.test import Client

from subscriptions.models import MeterDay
from tests.conftest import make_article

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in (p.strip() for p in policy.split(";")) if part}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/"),
        ("get", "/search/?q=port"),
        ("get", "/no-such-story/"),
        ("get", "/feed/"),
        ("get", "/sitemap.xml"),
        ("get", "/admin/"),
        ("get", "/accounts/login/"),
        ("post", "/stripe/webhook/"),
        ("head", "/"),
    ],
)
def test_every_response_carries_the_strict_policy(client: Client, method: str, path: str, article) -> None:
    response = getattr(client, method)(path)
    policy = directives(response)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    # Forms submit to this site, which may answer with a redirect to Stripe's Checkout or
    # customer portal (subscribe, manage billing); nowhere else (issue 31).
    assert policy["form-action"] == "'self' https://checkout.stripe.com https://billing.stripe.com"


def test_pages_have_no_inline_script_or_style(client: Client, article) -> None:
    for path in ["/", article.get_absolute_url(), "/subscribe/", "/accounts/login/", "/accounts/signup/"]:
        html = client.get(path).content.decode()
        assert "style=" not in html, path
        for tag in html.split("<script")[1:]:
            head = tag.split(">", 1)[0]
            assert "src=" in head or 'type="application/ld+json"' in head, (path, head)


def test_head_answers_wherever_get_does(client: Client, article) -> None:
    paths = ["/", "/search/?q=x", "/feed/", "/sitemap.xml", "/robots.txt", "/healthz", "/subscribe/",
             article.get_absolute_url(), article.category.get_absolute_url(), "/accounts/login/"]  # fmt: skip
    for path in paths:
        get, head = client.get(path), client.head(path)
        assert head.status_code == get.status_code == 200, path
        assert head["Content-Type"] == get["Content-Type"], path
        assert head.content == b"", path


def test_head_on_a_metered_article_spends_no_credit() -> None:
    article = make_article()
    client = Client()
    assert client.head(article.get_absolute_url()).status_code == 200
    assert not MeterDay.objects.exists()
    assert client.get(article.get_absolute_url()).status_code == 200
    assert MeterDay.objects.exists()


def test_head_on_an_unsubscribe_link_asks_and_unsubscribes_nobody(client, free_reader) -> None:
    from newsletter.content import unsubscribe_token
    from newsletter.models import Preference

    path = f"/newsletter/unsubscribe/{unsubscribe_token(user_id=free_reader.pk, kind='digest', send_id=None)}/"
    assert client.head(path).status_code == client.get(path).status_code == 200
    assert not Preference.objects.filter(user=free_reader, digest=False).exists()
    assert client.post(path).status_code in (200, 302)
    assert Preference.objects.filter(user=free_reader, digest=False).exists()  # only the POST did it
