"""A front-page spike through the shared cache, against the machine's limit.

    .venv/bin/python bench/spike.py [--seconds 15] [--connections 200] [--record]

Serves the demo newsroom with gunicorn (gunicorn.conf.py, Redis) behind Debian's
nginx with the shipped cache rules (deploy/nginx/newsroom-cache.conf, via
bench/nginx.py), then, in one run, with wrk and 200 connections:
  1. the home page and a section page (round robin) through nginx's cache;
  2. a static file of the same size served by the same nginx — the ceiling;
  3. the same two pages straight from gunicorn, no cache — what the cache buys.
Reports req/s, p50/p99 and non-2xx for each, and 1 ÷ 2 (target ≥ 0.5×, 0 non-2xx).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import git_commit, load_average, manage, publish, request, running_site
from nginx import nginx_in_front
from run import wrk


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    db = f"newsroom_bench_spike_{os.getpid()}"
    extra = {"DJANGO_SETTINGS_MODULE": "bench.settings", "REDIS_URL": "redis://127.0.0.1:6379/0",
             "CACHE_KEY_PREFIX": db}  # fmt: skip
    with running_site(db, production_conf=True, **extra) as (origin, env), \
            tempfile.TemporaryDirectory(prefix="newsroom-spike-") as static:  # fmt: skip
        section = manage(env, "shell", "-c", "from articles.models import Category; "
                         "print(Category.objects.order_by('position', 'id').first().get_absolute_url())")  # fmt: skip
        paths = ["/", section.strip().splitlines()[-1]]
        sizes = []
        for path in paths:
            status, headers, body = request(origin, "GET", path)
            assert status == 200 and "public" in headers.get("Cache-Control", ""), (path, status, headers)
            sizes.append(len(body))
        size = round(sum(sizes) / len(sizes))
        (Path(static) / "page.html").write_bytes(b"<!doctype html><title>static</title><p>" + b"x" * (size - 40))
        with nginx_in_front(origin, workers="auto", static_root=static) as port:
            for path in paths:  # the first reader of each page fills the cache
                request(port, "GET", path)
            assert request(port, "GET", paths[0])[1].get("X-Cache-Status") == "HIT"
            cached = wrk(port, paths, seconds=args.seconds, connections=args.connections)
            static_file = wrk(port, ["/_static/page.html"], seconds=args.seconds, connections=args.connections)
            uncached = wrk(origin, paths, seconds=args.seconds, connections=args.connections)
    ok = cached["errors"] == 0 and static_file["errors"] == 0
    ratio = cached["rps"] / static_file["rps"]
    lines = [
        f"## Front-page spike through the shared cache — {time.strftime('%Y-%m-%d %H:%M %Z')}", "",
        f"Command: `.venv/bin/python bench/spike.py --seconds {args.seconds:.0f} --connections {args.connections}"
        f"{' --record' if args.record else ''}`  ",
        f"Commit: `{git_commit()}`; nginx (worker_processes auto) with deploy/nginx/newsroom-cache.conf in "
        f"front of gunicorn (gunicorn.conf.py) on loopback; wrk -t2 -c{args.connections} on the same "
        f"{os.cpu_count()}-CPU machine, load average at the end {load_average()} (shared with other developers).", "",
        "| What | Paths | Bytes | req/s | p50 / p99 ms | Non-2xx | Socket errors |", "|---|---|---|---|---|---|---|",
        f"| home + section through the shared cache | {', '.join(paths)} | {size} | {cached['rps']:.0f} "
        f"| {cached['p50']:.1f} / {cached['p99']:.1f} | {cached['errors']} | {cached['socket_errors']} |",
        f"| static file, same size, same nginx | /_static/page.html | {size} | {static_file['rps']:.0f} "
        f"| {static_file['p50']:.1f} / {static_file['p99']:.1f} | {static_file['errors']} "
        f"| {static_file['socket_errors']} |",
        f"| home + section straight from gunicorn (no cache), for comparison | {', '.join(paths)} | {size} "
        f"| {uncached['rps']:.0f} | {uncached['p50']:.1f} / {uncached['p99']:.1f} | {uncached['errors']} "
        f"| {uncached['socket_errors']} |",
        "",
        f"Shared cache ÷ static file: **{ratio:.2f}×** (target ≥ 0.5×, 0 non-2xx: "
        f"{'met' if ratio >= 0.5 and ok else 'NOT met'}); the cache serves "
        f"{cached['rps'] / max(uncached['rps'], 1):.0f}× what gunicorn alone does.",
    ]  # fmt: skip
    publish("\n".join(lines) + "\n", record=args.record)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
