import django.contrib.postgres.search
from django.db import migrations

from newsroom.db.migrations import sql_on_postgresql


# The SQL of articles.models.UPDATE_SEARCH_VECTORS as it is today (a migration keeps its own copy).
FILL_VECTORS = """
    UPDATE articles_article SET
        search_vector =
            setweight(to_tsvector('english', coalesce(title, '')), 'A') ||
            setweight(to_tsvector('english', coalesce(standfirst, '')), 'B') ||
            setweight(to_tsvector('english', coalesce(body, '')), 'C'),
        public_search_vector =
            setweight(to_tsvector('english', coalesce(title, '')), 'A') ||
            setweight(to_tsvector('english', coalesce(standfirst, '')), 'B') ||
            setweight(to_tsvector('english', coalesce(teaser_html, '')), 'C')
"""


class Migration(migrations.Migration):
    """Search matches what a reader may not read in full only by its public text
    (title, summary, teaser): a second tsvector over that text, its GIN index,
    and both vectors filled for the articles already there."""

    dependencies = [
        ("articles", "0005_article_send_as_email"),
    ]

    operations = [
        migrations.AddField(
            model_name="article",
            name="public_search_vector",
            field=django.contrib.postgres.search.SearchVectorField(blank=True, editable=False, null=True),
        ),
        sql_on_postgresql(
            "CREATE INDEX IF NOT EXISTS articles_article_public_search_gin "
            "ON articles_article USING gin (public_search_vector)",
            "DROP INDEX IF EXISTS articles_article_public_search_gin",
        ),
        sql_on_postgresql(FILL_VECTORS, "SELECT 1"),
    ]
