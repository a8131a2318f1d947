"""Pages that say who we are: editors write them in the admin, readers find them
from every page's footer and from the sign-up pages, and the organisation's
JSON-LD names them."""

from __future__ import annotations

import json
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client

from articles.models import Article, Page

from .conftest import make_article

pytestmark = pytest.mark.django_db

SLUGS = ["about", "contact", "corrections", "privacy", "terms"]


def json_ld(html: str) -> list[dict]:
    return [json.loads(m) for m in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)]


def test_each_page_is_served_at_its_address_with_its_markdown_rendered_and_sanitised() -> None:
    for slug in SLUGS:
        Page.objects.create(
            slug=slug,
            title=f"The {slug} page",
            body=f"## Heading {slug}\n\nWords about {slug}.\n\n<script>alert(1)</script>",
        )
    for slug in SLUGS:
        response = Client().get(f"/{slug}/")
        html = response.content.decode()
        assert response.status_code == 200, slug
        assert f"<h1>The {slug} page</h1>" in html and f"<h2>Heading {slug}</h2>" in html
        assert "<script>alert" not in html
        # HTML's datetime allows at most milliseconds (the validator refused date:'c''s microseconds).
        (stamp,) = re.findall(r'<time datetime="([^"]+)"', html)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", stamp), stamp


def test_a_page_nobody_wrote_is_not_found_and_article_addresses_cannot_take_the_pages_slugs(article) -> None:
    assert Client().get("/privacy/").status_code == 404
    for slug in [*SLUGS, "newsletter"]:
        story = Article(title="A story", slug=slug, standfirst="s", body="b", category=article.category)
        with pytest.raises(ValidationError):
            story.clean()


def test_the_footer_links_every_page_and_the_sign_up_pages_link_privacy_and_about(article) -> None:
    for path in ["/", article.get_absolute_url(), "/search/?q=x"]:
        html = Client().get(path).content.decode()
        for slug in SLUGS:
            assert f'href="/{slug}/"' in html, (path, slug)
    for path in ["/accounts/signup/", "/newsletter/"]:
        html = Client().get(path).content.decode()
        assert 'href="/privacy/"' in html and 'href="/about/"' in html, path


def test_the_organisation_json_ld_points_at_the_pages() -> None:
    make_article()
    Page.objects.create(slug="about", title="About us", body="Who we are.")
    for path in ["/", "/about/"]:
        [org] = [d for d in json_ld(Client().get(path).content.decode()) if d["@type"] == "NewsMediaOrganization"]
        assert org["publishingPrinciples"] == "http://testserver/about/"
        assert org["masthead"] == "http://testserver/about/"
        assert org["correctionsPolicy"] == "http://testserver/corrections/"
        assert org["actionableFeedbackPolicy"] == "http://testserver/contact/"
        assert org["name"] and org["url"] == "http://testserver/"


def test_seed_demo_writes_the_pages_once_and_keeps_an_editors_rewrite() -> None:
    call_command("seed_demo")
    assert set(Page.objects.values_list("slug", flat=True)) == set(SLUGS)
    Page.objects.filter(slug="about").update(title="Rewritten by the desk")
    call_command("seed_demo")
    assert Page.objects.get(slug="about").title == "Rewritten by the desk"
    assert "masthead" in Client().get("/about/").content.decode().lower()


def test_editors_write_the_pages_in_the_admin(editor) -> None:
    client = Client()
    client.force_login(editor)
    response = client.post(
        "/admin/articles/page/add/",
        {"slug": "contact", "title": "Contact us", "body": "Write to **tips@example.com**."},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert "<strong>tips@example.com</strong>" in Client().get("/contact/").content.decode()
