"""Generate many published articles quickly, for benchmarks at archive scale.

    python manage.py generate_articles 100000

Builds on the sections and authors `seed_demo` creates (run it first). Bodies
are assembled from a small vocabulary so that search has real words to rank;
rows go in with `bulk_create` in batches, authors through the M2M table, and
the search vectors with one UPDATE per batch, so 100,000 articles take a couple
of minutes rather than hours. Never run it against a production database: the
articles are nonsense by design. `--delete` removes what earlier runs generated
(slugs start with `gen-`).
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
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


class Command(BaseCommand):
    help = "Generate N published benchmark articles (slug prefix gen-); run seed_demo first."

    def add_arguments(self, parser) -> None:
        parser.add_argument("count", type=int)
        parser.add_argument("--batch", type=int, default=2000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--delete", action="store_true", help="Remove generated articles first.")

    def handle(self, count: int, batch: int, seed: int, delete: bool, **options) -> None:
        if delete:
            deleted, _ = Article.objects.filter(slug__startswith=PREFIX).delete()
            self.stdout.write(f"Deleted {deleted} generated rows.")
        categories = list(Category.objects.all())
        authors = list(Author.objects.all())
        if not categories or not authors:
            raise CommandError("No sections or authors: run `python manage.py seed_demo` first.")
        hero = Article.objects.exclude(hero_image="").values(
            "hero_image", "hero_alt", "hero_caption", "hero_credit", "hero_renditions"
        ).first() or {}
        rng = random.Random(seed)
        start = Article.objects.filter(slug__startswith=PREFIX).count()
        now = timezone.now()
        through = Article.authors.through
        done = 0
        while done < count:
            size = min(batch, count - done)
            rows = []
            for i in range(start + done, start + done + size):
                title = f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(VERBS)} {rng.choice(OBJECTS)}"
                source = body(rng)
                html = rendering.render_body(source)
                teaser, full = rendering.split_body(html, settings.TEASER_PARAGRAPHS)
                rows.append(Article(
                    title=title[:200], slug=f"{PREFIX}{i}", standfirst=sentence(rng), body=source,
                    body_html=full, teaser_html=teaser, category=rng.choice(categories),
                    status=Article.Status.PUBLISHED, publish_at=now - timedelta(minutes=10 + i),
                    access=rng.choice([Article.Access.METERED] * 8 + [Article.Access.FREE, Article.Access.SUBSCRIBERS]),
                    **hero,
                ))  # fmt: skip
            with transaction.atomic():
                created = Article.objects.bulk_create(rows)
                through.objects.bulk_create(
                    through(article_id=a.pk, author_id=rng.choice(authors).pk) for a in created
                )
                update_search_vector(*(a.pk for a in created))
            done += size
            self.stdout.write(f"{done}/{count}", ending="\r")
        page_cache.invalidate()  # bulk_create sends no signals; the "More from" cards changed
        self.stdout.write(self.style.SUCCESS(f"Generated {count} articles (total now {start + count})."))
