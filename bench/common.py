"""Shared set-up for the load and fault scripts: a throwaway PostgreSQL
database, the demo newsroom, and gunicorn on a free loopback port."""

from __future__ import annotations

import contextlib
import http.client
import http.cookies
import os
import re
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")


# wrk leaves an answer slower than its timeout (2 s unless told) out of its latency figures and
# counts it only as a socket error: a reader kept waiting 3 s would vanish from p99. The
# benchmarks give it a timeout long enough for none to, and count one that still times out
# as an error.
WRK_TIMEOUT = "10s"


def wrk_errors(output: str) -> int:
    """The answers wrk's `output` counts as failed: non-2xx/3xx, and those that timed out."""
    patterns = (r"Non-2xx or 3xx responses: (\d+)", r"Socket errors: .*timeout (\d+)")
    return sum(int(match.group(1)) for pattern in patterns if (match := re.search(pattern, output)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(sql: str) -> None:
    subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c", sql], check=True)


def request(
    port: int, method: str, path: str, *, headers: dict | None = None, body: bytes | None = None, timeout: float = 30
) -> tuple[int, dict, bytes]:
    """One HTTP request; the answer's headers as a dict, with every Set-Cookie
    parsed into "cookies" (name -> value)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"Host": f"127.0.0.1:{port}", **(headers or {})})
        response = conn.getresponse()
        answer: dict = dict(response.getheaders())
        jar = http.cookies.SimpleCookie()
        for line in response.msg.get_all("Set-Cookie") or []:
            jar.load(line)
        answer["cookies"] = {name: morsel.value for name, morsel in jar.items()}
        return response.status, answer, response.read()
    except OSError:
        return 599, {}, b""  # refused/reset/timed out: counts as a server error
    finally:
        conn.close()


def site_env(db: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "SECURE_HSTS_SECONDS": "0",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db}",
        "MEDIA_ROOT": f"/tmp/{db}-media",
        "CACHE_DIR": f"/tmp/{db}-cache",
        "ACCESS_LOG": "/dev/null",  # gunicorn.conf.py in the project is read by every gunicorn started here
        # One release for every process of the run, named once: the code's digest (newsroom/release.py)
        # would split the cache between workers if the shared working tree changed while they start.
        "RELEASE": f"bench-{secrets.token_hex(4)}",
        **extra,
    }


# Prepended to `manage.py shell -c` scripts: a logged-in session for a user,
# in whatever session store the site is configured with (database or Redis).
LOGIN_SESSION = """
from importlib import import_module as _import_module
from django.conf import settings as _settings


def login_session(user):
    session = _import_module(_settings.SESSION_ENGINE).SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = _settings.AUTHENTICATION_BACKENDS[0]
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return session.session_key
"""


def publish(report: str, *, record: bool) -> None:
    """Print a Markdown report; with --record also append it to bench/RESULTS.md."""
    print(report)
    if record:
        with open(ROOT / "bench" / "RESULTS.md", "a") as fh:
            fh.write("\n" + report)


def manage(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


def database_exists(db: str) -> bool:
    out = subprocess.run(
        ["psql", "-tAq", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c",
         f"SELECT 1 FROM pg_database WHERE datname = '{db}'"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return out.strip() == "1"


@contextlib.contextmanager
def serving(env: dict[str, str], *, workers: int = 3, threads: int = 1, production_conf: bool = False
            ) -> Iterator[tuple[int, subprocess.Popen]]:  # fmt: skip
    """gunicorn serving the site described by `env` on a free loopback port, until the block ends."""
    port = free_port()
    env = {k: v for k, v in env.items() if k != "GUNICORN_PID"}  # gunicorn reads it as "re-executed by a master"
    if production_conf:
        command = [str(ROOT / ".venv/bin/gunicorn"), "-c", "gunicorn.conf.py", "newsroom.wsgi"]
        env["BIND"] = f"127.0.0.1:{port}"
    else:
        command = [str(ROOT / ".venv/bin/gunicorn"), "newsroom.wsgi", "-b", f"127.0.0.1:{port}",
                   "-w", str(workers), "-k", "gthread", "--threads", str(threads), "--timeout", "60",
                   "--log-level", "warning"]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        for _ in range(150):
            if request(port, "GET", "/healthz", timeout=2)[0] == 200:
                break
            time.sleep(0.1)
        yield port, server
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:  # a loaded machine: never leave the database behind for this
            server.kill()
            server.wait()


@contextlib.contextmanager
def running_site(
    db: str, *, workers: int = 3, threads: int = 1, production_conf: bool = False, keep: bool = False, **extra: str
) -> Iterator[tuple[int, dict]]:
    """Create `db`, migrate and seed it, serve it with gunicorn; drop it afterwards.

    production_conf=True serves with gunicorn.conf.py (the production settings:
    worker count from the CPUs unless WEB_CONCURRENCY is in `extra`).
    keep=True reuses `db` if it exists (seed_demo never duplicates) and leaves it
    in place afterwards: a million generated articles are made once, not per run."""
    env = site_env(db, **extra)
    if not (keep and database_exists(db)):
        psql(f"CREATE DATABASE {db}")
    try:
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "collectstatic", "--noinput", "-v0")
        manage(env, "seed_demo")
        with serving(env, workers=workers, threads=threads, production_conf=production_conf) as (port, server):
            yield port, env | {"GUNICORN_PID": str(server.pid)}
    finally:
        for _ in range(50):
            if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"]).returncode == 0:
                break
            time.sleep(0.2)
        if not keep:
            psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        forget_redis_keys(env)


def forget_redis_keys(env: dict[str, str]) -> None:
    """Unlink the run's keys (cache, meter, sessions: all under CACHE_KEY_PREFIX) from the
    machine's Redis. Left behind, a few runs' hundreds of thousands of keys slowed the next
    test run by half (a clean-clone CI took 2,156 s instead of about 1,100 s)."""
    url, prefix = env.get("REDIS_URL"), env.get("CACHE_KEY_PREFIX")
    if not url or not prefix:
        return
    import redis  # the project's own (requirements.txt); these scripts run with its venv

    client = redis.Redis.from_url(url)
    try:
        batch = []
        for key in client.scan_iter(f"{prefix}:*", count=1000):
            batch.append(key)
            if len(batch) == 1000:
                client.unlink(*batch)
                batch.clear()
        if batch:
            client.unlink(*batch)
    except redis.RedisError as error:  # a benchmark's answer stands without its tidying up
        print(f"could not remove the run's Redis keys ({prefix}:*): {error}")
    finally:
        client.close()


def git_commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return out.stdout.strip()


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: how busy the shared machine was."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])
