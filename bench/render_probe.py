"""What one rendered (uncached) metered article page costs, counted in-process: SQL
statements, template includes, URL reversals, media URL lookups (image renditions),
and milliseconds per render as a ratio to the same-size minimal view, alternated in
one run (the machine's load cancels out of the ratio, not out of the milliseconds).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> ./scripts/test bench/render_probe.py -s -q

A new anonymous reader each time, with the meter in Redis (TEST_REDIS_URL) and
PAGE_CACHE_SECONDS=0: the page every cache miss pays for. Prints one JSON line.
"""

from __future__ import annotations

import collections
import json
import time
import uuid

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import connection, reset_queries
from django.template.loader_tags import IncludeNode
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import resolvers

from articles.models import Article, Author, Category
from subscriptions import counters
from subscriptions.models import default_plan
from tests.conftest import TEST_REDIS_URL, make_article

pytestmark = pytest.mark.django_db
ROUNDS = 5
# Static files' URLs (WhiteNoise looks them up on each request under DEBUG, as here): not counted.
STATIC = ("admin/", "account/", "css/", "js/", "favicon", "apple-touch")
PER_ROUND = 20


def _counting(cls, name: str, counter: collections.Counter, label) -> callable:
    original = getattr(cls, name)

    def counted(self, *args, **kwargs):
        counter[label(self, *args)] += 1
        return original(self, *args, **kwargs)

    setattr(cls, name, counted)
    return lambda: setattr(cls, name, original)


def test_render_cost(settings) -> None:
    settings.ROOT_URLCONF = "bench.urls"
    settings.PAGE_CACHE_SECONDS = 0
    settings.METER_REDIS_URL = settings.REDIS_URL = TEST_REDIS_URL
    settings.METER_STORE = "redis"
    settings.REDIS_KEY_PREFIX = prefix = f"probe-{uuid.uuid4().hex}"
    settings.FREE_ARTICLES_PER_DAY = 3
    settings.FREE_ARTICLES_PER_IP_PER_DAY = 0
    category = Category.objects.create(name="Probe", slug="probe")
    author = Author.objects.create(name="Pat Probe", slug="pat-probe", bio="Writes probes.")
    stories = [make_article(category=category, authors=[author], access="metered") for _ in range(6)]
    # Every story with a picture in three widths and two formats, as make_renditions() leaves it
    # (the files themselves are never read: only their URLs are built).
    renditions = {"width": 1600, "height": 900, "source": "heroes/probe.jpg",
                  **{kind: {str(w): f"renditions/heroes/probe-{w}.{ext}" for w in (320, 640, 960, 1600)}
                     for kind, ext in (("sizes", "jpg"), ("webp", "webp"))}}  # fmt: skip
    Article.objects.filter(pk__in=[s.pk for s in stories]).update(
        hero_image="heroes/probe.jpg", hero_alt="A probe", hero_renditions=renditions
    )
    url = stories[0].get_absolute_url()
    Client().get("/subscribe/")
    default_plan()
    size = len(Client().get(url).content)
    minimal = f"/_bench/minimal/{size}/"

    includes: collections.Counter = collections.Counter()
    reverses: collections.Counter = collections.Counter()
    storage_urls: collections.Counter = collections.Counter()
    undo = [
        _counting(IncludeNode, "render", includes, lambda node, context: str(node.template.var)),
        _counting(resolvers.URLResolver, "_reverse_with_prefix", reverses, lambda r, view, *a: str(view)),
        _counting(FileSystemStorage, "url", storage_urls, lambda s, name: name),
    ]
    reader = Client()
    reader.get(minimal)  # the handler and its middleware are built on a client's first request: not counted
    reader.cookies.clear()
    reset_queries()  # the request's start empties the log: counted from empty, or the count is lost
    try:
        with CaptureQueriesContext(connection) as queries:
            assert reader.get(url).status_code == 200
    finally:
        for restore in undo:
            restore()
    # Read now: the list is sliced from the connection's log, which the next request empties.
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    media_urls = sum(n for name, n in storage_urls.items() if not name.startswith(STATIC))

    timings: dict[str, list[float]] = {"article": [], "minimal": []}
    for _ in range(ROUNDS):
        for name, path in (("article", url), ("minimal", minimal)):
            started = time.perf_counter()
            for _ in range(PER_ROUND):
                reader.cookies.clear()  # a new reader each time: a credit spent, the page rendered
                assert reader.get(path).status_code == 200
            timings[name].append((time.perf_counter() - started) * 1000 / PER_ROUND)
    article_ms, minimal_ms = (sorted(t)[len(t) // 2] for t in timings.values())
    print(json.dumps({
        "queries": len(statements),
        "includes": sum(includes.values()), "includes_by_name": dict(includes),
        "url_reversals": sum(reverses.values()), "media_urls": media_urls,
        "article_ms": round(article_ms, 2), "minimal_ms": round(minimal_ms, 2),
        "ratio": round(minimal_ms / article_ms, 3),
    }))  # fmt: skip
    if keys := list(counters.client().scan_iter(f"{prefix}:*")):
        counters.client().delete(*keys)
