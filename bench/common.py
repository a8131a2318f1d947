"""Shared set-up for the load and fault scripts: a throwaway PostgreSQL
database, the demo newsroom, and gunicorn on a free loopback port."""

from __future__ import annotations

import contextlib
import http.client
import http.cookies
import os
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")


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


@contextlib.contextmanager
def running_site(
    db: str, *, workers: int = 3, threads: int = 1, production_conf: bool = False, **extra: str
) -> Iterator[tuple[int, dict]]:
    """Create `db`, migrate and seed it, serve it with gunicorn; drop it afterwards.

    production_conf=True serves with gunicorn.conf.py (the production settings:
    worker count from the CPUs unless WEB_CONCURRENCY is in `extra`)."""
    env = site_env(db, **extra)
    port = free_port()
    psql(f"CREATE DATABASE {db}")
    server = None
    try:
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "collectstatic", "--noinput", "-v0")
        manage(env, "seed_demo")
        if production_conf:
            command = [str(ROOT / ".venv/bin/gunicorn"), "-c", "gunicorn.conf.py", "newsroom.wsgi"]
            env["BIND"] = f"127.0.0.1:{port}"
        else:
            command = [str(ROOT / ".venv/bin/gunicorn"), "newsroom.wsgi", "-b", f"127.0.0.1:{port}",
                       "-w", str(workers), "-k", "gthread", "--threads", str(threads), "--timeout", "60",
                       "--log-level", "warning"]  # fmt: skip
        server = subprocess.Popen(command, cwd=ROOT, env=env)
        for _ in range(150):
            if request(port, "GET", "/healthz", timeout=2)[0] == 200:
                break
            time.sleep(0.1)
        yield port, env | {"GUNICORN_PID": str(server.pid)}
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        for _ in range(50):
            if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"]).returncode == 0:
                break
            time.sleep(0.2)
        psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
