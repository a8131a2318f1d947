"""gunicorn.conf.py for real: the site served as in production (preloaded, gthread
workers, recycled after GUNICORN_MAX_REQUESTS) on the test database.

The master loads the site before forking its workers (preload_app), so whatever it
holds, every worker shares. These tests prove it holds no database or Redis connection
— two workers writing on one PostgreSQL socket would corrupt each other's answers — and
that workers recycled every few requests go on serving correct pages."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from bench.common import forget_redis_keys, free_port, request, site_env

from .conftest import TEST_REDIS_URL, make_article

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
RECYCLE_AFTER = 10  # requests per worker (gunicorn adds up to a tenth of jitter: none at 10)
SERVICES = {5432: "PostgreSQL", 6379: "Redis"}

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module", autouse=True)
def collected_static() -> None:
    """DEBUG off serves the hashed static files' manifest, as in production: a clean checkout has none yet."""
    env = site_env("unused", DJANGO_SETTINGS_MODULE="newsroom.settings")
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)


@contextlib.contextmanager
def served(**extra: str) -> Iterator[tuple[int, subprocess.Popen]]:
    """gunicorn -c gunicorn.conf.py on the test database and Redis, two workers recycled every few requests."""
    db = connection.settings_dict
    port = free_port()
    env = site_env(
        db["NAME"],
        DJANGO_SETTINGS_MODULE="newsroom.settings",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        REDIS_URL=TEST_REDIS_URL,
        CACHE_KEY_PREFIX=f"gunicorn-conf-{uuid.uuid4().hex}",
        BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        GUNICORN_MAX_REQUESTS=str(RECYCLE_AFTER),
        GUNICORN_LOG_LEVEL="warning",
        **extra,
    )
    env.pop("GUNICORN_CMD_ARGS", None)
    server = subprocess.Popen([GUNICORN, "-c", "gunicorn.conf.py", "newsroom.wsgi"], cwd=ROOT, env=env)
    try:
        for _ in range(300):
            if request(port, "GET", "/healthz", timeout=2)[0] == 200:
                break
            assert server.poll() is None, "gunicorn exited while starting"
            time.sleep(0.1)
        yield port, server
    finally:
        server.terminate()
        server.wait(timeout=60)
        forget_redis_keys(env)


def workers(server: subprocess.Popen) -> set[int]:
    return {int(pid) for pid in Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()}


def connections_to_services(pid: int) -> list[str]:
    """The TCP connections process `pid` holds open to PostgreSQL or Redis (by their ports)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    held = []
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            remote_port, inode = int(fields[2].rsplit(":", 1)[1], 16), fields[9]
            if inode in inodes and remote_port in SERVICES:
                held.append(SERVICES[remote_port])
    return held


def test_the_master_loads_the_site_but_holds_no_connection_its_workers_would_share() -> None:
    story = make_article(access="metered")
    with served() as (port, server):
        for path in ("/", story.get_absolute_url(), "/healthz"):
            assert request(port, "GET", path)[0] == 200
        # Preloaded: the master imported the site (psycopg2's C library is in its memory) ...
        assert "_psycopg" in Path(f"/proc/{server.pid}/maps").read_text()
        # ... yet every connection is a worker's own.
        assert connections_to_services(server.pid) == []
        assert any(connections_to_services(pid) for pid in workers(server)), "the workers' own connections are seen"


def test_without_preload_the_master_never_loads_the_site() -> None:
    """GUNICORN_PRELOAD=0 for an operator who reloads code with HUP: each worker imports the site itself."""
    with served(GUNICORN_PRELOAD="0") as (port, server):
        assert request(port, "GET", "/healthz")[0] == 200
        assert "_psycopg" not in Path(f"/proc/{server.pid}/maps").read_text()


def test_recycled_workers_go_on_serving_the_right_pages() -> None:
    story = make_article(access="metered", title="Recycled workers still serve this")
    with served() as (port, server):
        first = workers(server)
        answers = [request(port, "GET", path) for _ in range(4 * RECYCLE_AFTER) for path in (story.get_absolute_url(),
                                                                                           "/healthz")]  # fmt: skip
        assert [status for status, _, _ in answers] == [200] * len(answers)
        pages = [body for _, headers, body in answers if headers.get("Content-Type", "").startswith("text/html")]
        assert pages and all(b"Recycled workers still serve this" in body for body in pages)
        for _ in range(50):  # a recycled worker's replacement is forked as the old one exits
            if len(workers(server)) == 2:
                break
            time.sleep(0.1)
        assert workers(server) - first, "workers were recycled and replaced"
        assert connections_to_services(server.pid) == []
