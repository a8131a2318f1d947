"""Generate many published articles quickly, for benchmarks at archive scale.

    python manage.py generate_articles 1000000

Builds on the sections and authors `seed_demo` creates (run it first). Bodies
are assembled from a small vocabulary so that search has real words to rank.
Rendering Markdown is the slow part, so a pool of distinct articles (at most
POOL) is rendered once and each generated article takes one of them, with its
own slug, section, author, access and publish time (one every ten minutes,
newest first). On PostgreSQL the rows go in with COPY, search vectors included
(computed once per pool entry by PostgreSQL itself), and the authors with one
INSERT … SELECT: a million articles take a few minutes. Elsewhere (SQLite, the
first local run) `bulk_create` in batches. Never run it against a production
database: the articles are nonsense by design. `--delete` removes what earlier
runs generated (slugs start with `gen-`).
"""

from __future__ import annotations

import io
import itertools
import json
import random
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from articles import page_cache, rendering
from articles.models import Article, Author, Category, update_search_vector

PREFIX = "gen-"
SUBJECTS = [
    "the harbor authority", "a county budget office", "the transit board", "a rural hospital",
    "the state auditor", "a shipyard union", "the water district", "a school board",
    "the port of entry", "a regional airline", "the housing agency", "a wind farm cooperative",
]  # fmt: skip
VERBS = ["delays", "approves", "questions", "expands", "audits", "rethinks", "funds", "suspends"]
OBJECTS = [
    "its repair backlog", "a contract for new ferries", "overtime rules", "the bridge inspection plan",
    "a cybersecurity review", "its pension forecast", "the drought contingency", "an emergency reserve",
]  # fmt: skip
WORDS = (
    "council vote record invoice harbor grid ledger warrant tender deadline engineer nurse pilot "
    "inspector freight levee reservoir broadband substation permit subsidy backlog procurement "
    "testimony hearing auditor ordinance ballot district corridor depot turbine pipeline"
).split()


def sentence(rng: random.Random) -> str:
    words = rng.sample(WORDS, 9)
    return f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(VERBS)} {rng.choice(OBJECTS)}, " + " ".join(words) + "."


def body(rng: random.Random, paragraphs: int = 7) -> str:
    return "\n\n".join(" ".join(sentence(rng) for _ in range(3)) for _ in range(paragraphs))


POOL = 2000
# Both vectors as models.UPDATE_SEARCH_VECTORS makes them: the whole text, and the public text (teaser).
SEARCH_VECTOR_SQL = """
    SELECT (setweight(to_tsvector('english', t), 'A') || setweight(to_tsvector('english', s), 'B')
            || setweight(to_tsvector('english', b), 'C'))::text,
           (setweight(to_tsvector('english', t), 'A') || setweight(to_tsvector('english', s), 'B')
            || setweight(to_tsvector('english', p), 'C'))::text
    FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]) WITH ORDINALITY AS u(t, s, b, p, n) ORDER BY n
"""


def pool_entry(rng: random.Random) -> dict:
    title = f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(VERBS)} {rng.choice(OBJECTS)}"
    source = body(rng)
    teaser, full = rendering.split_body(rendering.render_body(source), settings.TEASER_PARAGRAPHS)
    return {"title": title[:200], "standfirst": sentence(rng), "body": source, "body_html": full, "teaser_html": teaser}


def _copy_field(value: object) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    text = value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict) else str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class Command(BaseCommand):
    help = "Generate N published benchmark articles (slug prefix gen-); run seed_demo first."

    def add_arguments(self, parser) -> None:
        parser.add_argument("count", type=int)
        parser.add_argument("--batch", type=int, default=20000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--delete", action="store_true", help="Remove generated articles first.")

    def handle(self, count: int, batch: int, seed: int, delete: bool, **options) -> None:
        if delete:
            deleted, _ = Article.objects.filter(slug__startswith=PREFIX).delete()
            self.stdout.write(f"Deleted {deleted} generated rows.")
        categories = list(Category.objects.values_list("pk", flat=True))
        authors = list(Author.objects.values_list("pk", flat=True))
        if not categories or not authors:
            raise CommandError("No sections or authors: run `python manage.py seed_demo` first.")
        hero = Article.objects.exclude(hero_image="").values(
            "hero_image", "hero_alt", "hero_caption", "hero_credit", "hero_renditions"
        ).first() or {"hero_image": "", "hero_alt": "", "hero_caption": "", "hero_credit": "", "hero_renditions": {}}
        rng = random.Random(seed)
        pool = [pool_entry(rng) for _ in range(min(count, POOL))]
        start = Article.objects.filter(slug__startswith=PREFIX).count()
        now = timezone.now()
        accesses = [Article.Access.METERED] * 8 + [Article.Access.FREE, Article.Access.SUBSCRIBERS]
        rows = (
            {
                **rng.choice(pool), **hero, "slug": f"{PREFIX}{i}", "category_id": rng.choice(categories),
                "status": Article.Status.PUBLISHED, "publish_at": now - timedelta(minutes=10 * (i + 1)),
                "updated_at": now, "created_at": now, "access": rng.choice(accesses), "comments_open": True,
                "author_id": rng.choice(authors),
            }
            for i in range(start, start + count)
        )  # fmt: skip
        if connection.vendor == "postgresql":
            self._copy(rows, pool, count, batch)
        else:
            self._bulk_create(rows, count, batch)
        page_cache.invalidate()  # neither path sends signals; the "More from" cards changed
        self.stdout.write(self.style.SUCCESS(f"Generated {count} articles (total now {start + count})."))

    def _copy(self, rows: Iterator[dict], pool: list[dict], count: int, batch: int) -> None:
        with connection.cursor() as cursor:
            columns = ("title", "standfirst", "body", "teaser_html")
            cursor.execute(SEARCH_VECTOR_SQL, [[p[k] for p in pool] for k in columns])
            for entry, (vector, public_vector) in zip(pool, cursor.fetchall(), strict=True):
                entry["search_vector"], entry["public_search_vector"] = vector, public_vector
        through = Article.authors.through._meta.db_table
        # Every column but the id: what a row sets, else the field's own default (new fields need no change here).
        fields = [f for f in Article._meta.concrete_fields if not f.primary_key]
        defaults = {f.attname: f.get_default() for f in fields}
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        done = 0
        while done < count:
            chunk = list(itertools.islice(rows, batch))
            data = io.StringIO()
            for row in chunk:
                data.write("\t".join(_copy_field(row.get(f.attname, defaults[f.attname])) for f in fields) + "\n")
            data.seek(0)
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.copy_expert(f"COPY {Article._meta.db_table} ({columns}) FROM STDIN", data)
                # The authors by slug, in one statement (COPY returns no ids).
                cursor.execute(
                    f"INSERT INTO {through} (article_id, author_id) SELECT a.id, u.author_id "
                    f"FROM unnest(%s::text[], %s::int[]) AS u(slug, author_id) "
                    f"JOIN {Article._meta.db_table} a ON a.slug = u.slug",
                    [[r["slug"] for r in chunk], [r["author_id"] for r in chunk]],
                )
            done += len(chunk)
            self.stdout.write(f"{done}/{count}", ending="\r")

    def _bulk_create(self, rows: Iterator[dict], count: int, batch: int) -> None:
        through = Article.authors.through
        done = 0
        while done < count:
            chunk = list(itertools.islice(rows, batch))
            with transaction.atomic():
                created = Article.objects.bulk_create(
                    Article(**{k: v for k, v in row.items() if k != "author_id"}) for row in chunk
                )
                through.objects.bulk_create(
                    through(article_id=a.pk, author_id=row["author_id"]) for a, row in zip(created, chunk, strict=True)
                )
                update_search_vector(*(a.pk for a in created))
            done += len(chunk)
            self.stdout.write(f"{done}/{count}", ending="\r")
