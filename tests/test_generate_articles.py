"""The benchmark data generator makes real, published, searchable articles."""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from articles.models import Article, Author, Category


@pytest.mark.django_db
def test_generate_articles_needs_sections_and_authors():
    with pytest.raises(CommandError, match="seed_demo"):
        call_command("generate_articles", 5)


@pytest.mark.django_db
def test_generated_articles_are_published_paywalled_and_searchable(client):
    category = Category.objects.create(name="Metro", slug="metro")
    Author.objects.create(name="Ada Writer", slug="ada-writer")
    call_command("generate_articles", 30, batch=7)
    generated = Article.objects.filter(slug__startswith="gen-")
    assert generated.count() == 30
    assert Article.objects.published().filter(slug__startswith="gen-").count() == 30
    assert all(a.authors.count() == 1 for a in generated)
    article = generated.filter(access=Article.Access.METERED).first()
    assert article.teaser_html.count("<p>") == settings.TEASER_PARAGRAPHS
    assert article.body_html.count("<p>") == 7  # the full text; only the teaser goes to readers without credit
    assert client.get(f"/category/{category.slug}/", secure=True).status_code == 200
    response = client.get("/search/", {"q": "procurement"}, secure=True)
    assert response.status_code == 200
    assert b"gen-" in response.content  # links to generated articles
    call_command("generate_articles", 0, delete=True)
    assert not Article.objects.filter(slug__startswith="gen-").exists()


@pytest.mark.django_db
def test_generated_articles_are_found_by_their_public_text_by_anyone(client):
    Category.objects.create(name="Metro", slug="metro")
    Author.objects.create(name="Ada Writer", slug="ada-writer")
    call_command("generate_articles", 10)
    metered = Article.objects.filter(slug__startswith="gen-", access=Article.Access.METERED).first()
    response = client.get("/search/", {"q": f'"{metered.title}"'}, secure=True)
    assert metered in response.context["articles"]  # by headline, through the public vector
