"""Fault test: restart PostgreSQL, then Redis, in the middle of a load and measure recovery.

    .venv/bin/python bench/fault.py [--seconds 30] [--threads 16] [--restart-at 8] [--redis-restart-at 19]

Loopback only, bounded in time. It creates a throwaway database, migrates and
seeds it, starts a redis-server of its own on a free port (configured as
docs/production.md configures the meter's Redis: append-only file synced every
second, no snapshots), serves the site with gunicorn with the cache, sessions
and the meter in that Redis, and runs reader threads (anonymous article reads
with a meter cookie, the home page, /healthz). Mid-run it restarts PostgreSQL
(`pg_ctlcluster ... restart`) and later that redis-server, as systemd restarts
it (SIGTERM, which flushes the append-only file; then the same command again).

For each restart it reports the 5xx before, during and after it and the last
5xx after it began. It fails on any 5xx before the first restart or later than
5 s after either began, when readers got no page in the 5 s after a restart
began or after those 5 s, and when any reader got more metered articles in
full than FREE_ARTICLES_PER_DAY: readers share cookies across threads, so
credits are taken concurrently, and each tries more articles than its limit.
What the meter may lose: a crash (SIGKILL, power) forgets up to the last
second of credits (`appendfsync everysec`), and those readers gain; a restart
forgets nothing, so the limit must hold exactly here.

Results are appended to bench/RESULTS.md when --record is given.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, free_port, load_average, manage, request, running_site

LIMIT = 3  # FREE_ARTICLES_PER_DAY for the anonymous readers
READERS_PER_THREAD = 3
METERED = """
import json
from articles.models import Article
print(json.dumps(list(Article.objects.published().filter(access="metered").values_list("slug", flat=True))))
"""


class RedisServer:
    """A redis-server of our own on `port`, persisted as docs/production.md persists the meter's."""

    def __init__(self, port: int, directory: str, *, persist: bool = True) -> None:
        self.port, self.directory, self.persist = port, directory, persist
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.directory,
             "--save", "", "--appendonly", "yes" if self.persist else "no", "--appendfsync", "everysec",
             "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(100):
            if subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout == b"PONG\n":
                return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not answer")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: Redis writes the append-only file out, then exits
            self.process.wait(timeout=30)

    def restart(self) -> None:
        self.stop()
        self.start()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--restart-at", type=float, default=8, help="when PostgreSQL restarts")
    parser.add_argument("--redis-restart-at", type=float, help="when Redis restarts (default: half way after)")
    parser.add_argument(
        "--no-aof", action="store_true", help="a Redis that keeps nothing across a restart: the meter check must fail"
    )
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    redis_at = args.redis_restart_at or args.restart_at + (args.seconds - args.restart_at) / 2
    if not args.restart_at + 5 <= redis_at <= args.seconds - 5:
        parser.error("Redis restarts at least 5 s after PostgreSQL and 5 s before the end")
    if not shutil.which("redis-server"):
        print("redis-server is not installed: apt-get install redis-server", file=sys.stderr)
        return 2

    results: list[tuple[float, int]] = []
    served_full: dict[str, set[str]] = {}  # reader id -> metered articles it got in full
    lock = threading.Lock()
    db = f"newsroom_fault_{os.getpid()}"
    redis_dir = tempfile.mkdtemp(prefix=f"{db}-redis-")
    redis = RedisServer(free_port(), redis_dir, persist=not args.no_aof)
    redis.start()
    settings = {
        "REDIS_URL": f"redis://127.0.0.1:{redis.port}/0",  # the cache, sessions and the meter, as in production
        "CACHE_KEY_PREFIX": db,
        "FREE_ARTICLES_PER_DAY": str(LIMIT),
        "FREE_ARTICLES_PER_IP_PER_DAY": "0",  # every simulated reader shares 127.0.0.1
        "LOG_LEVEL": "CRITICAL",  # the 5xx during a restart are counted here; their tracebacks would bury the CI log
    }
    try:
        with running_site(db, workers=3, threads=4, **settings) as (port, env):
            metered = json.loads(manage(env, "shell", "-c", METERED).strip().splitlines()[-1])
            home = request(port, "GET", "/")[2].decode()
            slugs = sorted(set(re.findall(r'href="/([a-z0-9-]{20,})/"', home)) | set(metered))
            paths = ["/", "/healthz"] + [f"/{s}/" for s in slugs[:20]] + [f"/{s}/" for s in metered[:10]]
            readers = [secrets.token_hex(16) for _ in range(args.threads * READERS_PER_THREAD)]
            start = time.monotonic()
            stop_at = start + args.seconds

            def reader() -> None:
                rng = random.Random()
                while time.monotonic() < stop_at:
                    path, who = rng.choice(paths), rng.choice(readers)
                    status, _, body = request(port, "GET", path, headers={"Cookie": f"reader={who}"}, timeout=10)
                    full = status == 200 and path.strip("/") in metered and b'class="paywall"' not in body
                    with lock:
                        results.append((time.monotonic() - start, status))
                        if full:
                            served_full.setdefault(who, set()).add(path.strip("/"))

            threads = [threading.Thread(target=reader) for _ in range(args.threads)]
            for t in threads:
                t.start()
            time.sleep(args.restart_at)
            pg_t = time.monotonic() - start
            version = subprocess.run(["ls", "/etc/postgresql"], capture_output=True, text=True).stdout.split()[0]
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True)
            pg_took = time.monotonic() - start - pg_t
            time.sleep(max(0.0, redis_at - (time.monotonic() - start)))
            redis_t = time.monotonic() - start
            redis.restart()
            redis_took = time.monotonic() - start - redis_t
            for t in threads:
                t.join()
    finally:
        redis.stop()
        shutil.rmtree(redis_dir, ignore_errors=True)

    results.sort()
    bad = [t for t, s in results if s >= 500]
    before = sum(1 for t in bad if t < pg_t)
    pg_bad = [t for t in bad if pg_t <= t < redis_t]
    redis_bad = [t for t in bad if t >= redis_t]
    pg_late = sum(1 for t in pg_bad if t > pg_t + 5)
    redis_late = sum(1 for t in redis_bad if t > redis_t + 5)
    pg_last = max(pg_bad, default=pg_t) - pg_t
    redis_last = max(redis_bad, default=redis_t) - redis_t

    def good_between(a: float, b: float) -> int:
        return sum(1 for t, s in results if a <= t < b and s == 200)

    served = {
        "PostgreSQL": (good_between(pg_t, pg_t + 5), good_between(pg_t + 5, redis_t)),
        "Redis": (good_between(redis_t, redis_t + 5), good_between(redis_t + 5, args.seconds)),
    }
    over = {who: len(reads) for who, reads in served_full.items() if len(reads) > LIMIT}
    most = max((len(r) for r in served_full.values()), default=0)
    at_limit = sum(1 for r in served_full.values() if len(r) == LIMIT)
    kinds = Counter(s for _, s in results if s >= 500)
    errors = ", ".join(f"{n} × {'no answer' if s == 599 else s}" for s, n in sorted(kinds.items())) or "none"
    summary = (
        f"requests: {len(results)} in {args.seconds:.0f} s with {args.threads} threads, "
        f"{len(readers)} anonymous readers sharing them; 5xx before the first restart: {before} "
        f"(all 5xx: {errors}; load average {load_average()}).\n"
        f"- PostgreSQL restart at {pg_t:.1f} s took {pg_took:.1f} s; 5xx during/after it: {len(pg_bad)}, "
        f"later than 5 s after it began: {pg_late}; last 5xx {pg_last:.1f} s after it began; "
        f"200s in the 5 s from it: {served['PostgreSQL'][0]}, after those: {served['PostgreSQL'][1]}.\n"
        f"- Redis restart (SIGTERM, {'no ' if args.no_aof else ''}append-only file) at {redis_t:.1f} s "
        f"took {redis_took:.1f} s; "
        f"5xx during/after it: {len(redis_bad)}, later than 5 s after it began: {redis_late}; "
        f"last 5xx {redis_last:.1f} s after it began; "
        f"200s in the 5 s from it: {served['Redis'][0]}, after those: {served['Redis'][1]}.\n"
        f"- Meter (limit {LIMIT} a day): readers served metered articles in full: {len(served_full)}, "
        f"{at_limit} of them at the limit; most served to one reader: {most}; over the limit: {len(over)}"
    )
    print(summary)
    if args.record:
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        command = (
            f".venv/bin/python bench/fault.py --seconds {args.seconds:.0f} --threads {args.threads} "
            f"--restart-at {args.restart_at:g} --redis-restart-at {redis_at:g} --record"
        )
        with open(ROOT / "bench" / "RESULTS.md", "a") as fh:
            fh.write(
                f"\n## Fault: PostgreSQL and Redis restarts under load\n\nCommand: `{command}` ({when})\n\n{summary}.\n"
            )
    ok = (
        before == 0
        and pg_late == 0
        and redis_late == 0
        and all(during and after for during, after in served.values())
        and not over
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
