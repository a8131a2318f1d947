"""Archive pages at archive scale: home, a section's first and deepest page, an
author's first and deepest page, search on broad terms, the sitemaps — p50, p95,
p99 with wrk, at each number of published articles.

    .venv/bin/python bench/archive.py --scale 1000,100000,1000000 [--keep-db NAME] [--record]

bench/run.py calls measure() for its --scale part. Articles come from
`manage.py generate_articles` (COPY: a million take minutes). With --keep-db the
database is created once and kept, so a million articles are generated once on
a shared machine: sizes below what it already holds are skipped, not shrunk.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import WRK_TIMEOUT, git_commit, load_average, manage, publish, request, running_site, serving, wrk_errors

LUA = """
done = function(summary, latency, requests)
  io.write(string.format("PCT %d %d %d\\n", latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""
PAGES = """
import json
from django.utils import timezone
from articles.models import Article, Author, Category
live = Article.objects.published()
category = Category.objects.order_by("id").first()
author = Author.objects.order_by("id").first()
def deep(qs):  # the article the deepest page continues from: 13th oldest
    return qs.order_by("publish_at", "id").values_list("pk", flat=True)[12]
newest = timezone.localtime(live.order_by("-publish_at").values_list("publish_at", flat=True).first())
print(json.dumps([
    ["reference: minimal Django view, 20 kB (the machine's noise)", "/_bench/minimal/20000/"],
    ["home", "/"],
    ["section, first page", f"/category/{category.slug}/"],
    ["section, deepest page", f"/category/{category.slug}/?older={deep(live.filter(category=category))}"],
    ["author, first page", f"/author/{author.slug}/"],
    ["author, deepest page", f"/author/{author.slug}/?older={deep(live.filter(authors=author))}"],
    ["search, broad terms", "/search/?q=harbor+budget"],
    ["search, one common word", "/search/?q=council"],
    ["search, page 5", "/search/?q=council&page=5"],
    ["sitemap index", "/sitemap.xml"],
    ["news sitemap", "/sitemap-news.xml"],
    ["month sitemap", f"/sitemap-articles-{newest:%Y-%m}.xml"],
]))
"""


def wrk(port: int, path: str, *, seconds: float, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(LUA)
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:.0f}s", f"--timeout={WRK_TIMEOUT}", "-s", fh.name,
               f"http://127.0.0.1:{port}{path}"]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    os.unlink(fh.name)
    p50, p95, p99 = (int(v) / 1000 for v in re.search(r"^PCT (\d+) (\d+) (\d+)$", output, re.M).groups())
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": p50, "p95": p95, "p99": p99,
        "errors": wrk_errors(output),
    }  # fmt: skip


def published(env: dict) -> int:
    script = "from articles.models import Article; print(Article.objects.published().count())"
    return int(manage(env, "shell", "-c", script).strip().splitlines()[-1])


def measure(env: dict, port: int, targets: list[int], *, seconds: float, connections: int = 4) -> tuple[list, list]:
    """(rows, notes): rows are (articles, page, wrk result as served, wrk result rendered every
    time) for every target size reached. "As served" is the site as configured (list pages from
    the page cache, articles/page_cache.py); "rendered every time" is a second server on the
    same database with PAGE_CACHE_SECONDS=0: what a page costs to make, at that size."""
    rows, notes = [], []
    for target in sorted(targets):
        have = published(env)
        if target * 1.01 < have:  # the demo's own few articles do not count
            notes.append(f"{target:,} skipped: the database already holds {have:,} published articles")
            continue
        if target > have:
            started = time.monotonic()
            manage(env, "generate_articles", str(target - have))
            generated = time.monotonic() - started
            vacuum = "from django.db import connection; connection.cursor().execute('VACUUM ANALYZE')"
            manage(env, "shell", "-c", vacuum)  # as autovacuum would, before measuring
            notes.append(f"generate_articles {target - have:,}: {generated:.0f} s")
        pages = json.loads(manage(env, "shell", "-c", PAGES).strip().splitlines()[-1])
        with serving(env | {"PAGE_CACHE_SECONDS": "0"}, production_conf=True) as (rendered_port, _):
            for page, path in pages:
                results = []
                for server in (port, rendered_port):
                    status = request(server, "GET", path)[0]
                    assert status == 200, (path, status)
                    wrk(server, path, seconds=2, connections=connections)  # warm every worker and the database
                    results.append(wrk(server, path, seconds=seconds, connections=connections))
                rows.append((target, page, *results))
    return rows, notes


def table(rows: list, notes: list, connections: int = 4) -> list[str]:
    lines = [
        f"### Archive pages by number of published articles (wrk -t2 -c{connections}, origin: gunicorn)", "",
        "As served (list pages from the page cache) and rendered every time (a second server, "
        "`PAGE_CACHE_SECONDS=0`, same database).", "",
        "| Articles | Page | req/s | p50 ms | p95 ms | p99 ms | Rendered every time: req/s, p50 / p95 ms "
        "| Non-2xx or timed out |",
        "|---|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    lines += [f"| {n:,} | {page} | {r['rps']:.0f} | {r['p50']:.1f} | **{r['p95']:.1f}** | {r['p99']:.1f} "
              f"| {u['rps']:.0f}, {u['p50']:.1f} / {u['p95']:.1f} | {r['errors']} + {u['errors']} |"
              for n, page, r, u in rows]  # fmt: skip
    lines += [""] + [f"- {note}" for note in notes]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="1000,100000,1000000")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--keep-db", default="", help="database to reuse and keep (generate a million once)")
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    db = args.keep_db or f"newsroom_bench_archive_{os.getpid()}"
    extra = {"DJANGO_SETTINGS_MODULE": "bench.settings", "REDIS_URL": "redis://127.0.0.1:6379/0",
             "CACHE_KEY_PREFIX": db, "RATE_LIMIT_SEARCH": "1000000/m"}  # fmt: skip
    with running_site(db, production_conf=True, keep=bool(args.keep_db), **extra) as (port, env):
        rows, notes = measure(env, port, [int(n) for n in args.scale.split(",") if n], seconds=args.seconds)
    lines = [
        f"## Archive benchmark — {time.strftime('%Y-%m-%d %H:%M %Z')}", "",
        f"Command: `.venv/bin/python bench/archive.py --scale {args.scale} --seconds {args.seconds:.0f}"
        f"{' --keep-db ' + args.keep_db if args.keep_db else ''}{' --record' if args.record else ''}`  ",
        f"Commit: `{git_commit()}`; load average at the end: {load_average()} "
        f"({os.cpu_count()} CPUs, shared with other developers' test runs)", "",
        *table(rows, notes),
    ]  # fmt: skip
    publish("\n".join(lines) + "\n", record=args.record)
    return 0 if all(r["errors"] == 0 and u["errors"] == 0 for _, _, r, u in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
