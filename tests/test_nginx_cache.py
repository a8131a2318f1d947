"""The shared cache for real: Debian's nginx with deploy/nginx/newsroom-cache.conf
in front of gunicorn (production settings, DEBUG off), on free loopback ports.

Anonymous listings come from the cache (X-Cache-Status: HIT); a logged-in reader
never gets or leaves a cached page; a metered article is never stored; an edit
reaches readers once the cache time (s-maxage, then one stale answer) is over."""

from __future__ import annotations

import contextlib
import http.client
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from articles.models import Article
from bench.common import LOGIN_SESSION, free_port, site_env
from bench.nginx import nginx_in_front

from .conftest import make_article, make_author, make_category, make_user

ROOT = Path(__file__).resolve().parent.parent
CACHE_SECONDS = 3
STALE_SECONDS = 2

pytestmark = pytest.mark.django_db(transaction=True)


def front_env() -> dict[str, str]:
    """The site as bench/common.py serves it (DEBUG off, its own SECRET_KEY and cache), on the test database."""
    db = connection.settings_dict
    return site_env(
        db["NAME"],
        DJANGO_SETTINGS_MODULE="newsroom.settings",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        SHARED_CACHE_SECONDS=str(CACHE_SECONDS),
        SHARED_CACHE_STALE_SECONDS=str(STALE_SECONDS),
        TRUSTED_PROXIES="127.0.0.1",
    )


@pytest.fixture(scope="module")
def front(django_db_setup) -> Iterator[tuple[int, dict]]:
    env = front_env()
    port = free_port()
    # DEBUG off serves the hashed static files' manifest, as in production.
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    gunicorn = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "newsroom.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2",
         "-k", "gthread", "--threads", "2", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        for _ in range(200):
            with contextlib.suppress(OSError):
                if get(port, "/healthz")[0] == 200:
                    break
            time.sleep(0.1)
        with nginx_in_front(port) as nginx_port:
            yield nginx_port, env
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)


def get(port: int, path: str, cookie: str = "") -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Host": f"127.0.0.1:{port}", **({"Cookie": cookie} if cookie else {})})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read().decode()
    finally:
        conn.close()


def as_the_site(env: dict, script: str) -> str:
    """Run Python with the site's own settings (its SECRET_KEY, its cache): what its last line prints."""
    out = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return out.strip().splitlines()[-1] if out.strip() else ""


def session_cookie(env: dict, user) -> str:
    """A logged-in session, signed with the site's SECRET_KEY."""
    script = LOGIN_SESSION + f"from django.contrib.auth import get_user_model\n" \
        f"print(login_session(get_user_model().objects.get(pk={user.pk})))"  # fmt: skip
    return f"{settings.SESSION_COOKIE_NAME}={as_the_site(env, script)}"


def test_anonymous_home_is_served_from_the_cache(front) -> None:
    port, _ = front
    story = make_article(access=Article.Access.METERED)
    status, first, body = get(port, "/")
    assert status == 200 and story.title in body
    assert "public" in first["cache-control"]
    status, second, again = get(port, "/")
    assert status == 200 and second["x-cache-status"] == "HIT"
    assert again == body


def test_a_logged_in_reader_never_gets_or_leaves_a_cached_page(front) -> None:
    port, env = front
    story = make_article(category=make_category(), authors=[make_author()], access=Article.Access.FREE)
    cookie = session_cookie(env, make_user())
    section = story.category.get_absolute_url()
    for path in (section, story.get_absolute_url()):
        status, headers, body = get(port, path, cookie)  # logged in first: nothing may be stored
        assert status == 200 and "My account" in body
        assert "private" in headers["cache-control"] and headers["x-cache-status"] == "BYPASS"
        status, headers, body = get(port, path)  # so the next anonymous reader gets a fresh page...
        assert headers["x-cache-status"] == "MISS" and "My account" not in body
        status, headers, body = get(port, path)  # ...which is then shared,
        assert headers["x-cache-status"] == "HIT"
        status, headers, body = get(port, path, cookie)  # but never with the logged-in reader
        assert headers["x-cache-status"] == "BYPASS" and "My account" in body


def test_a_metered_article_is_never_stored(front) -> None:
    port, _ = front
    story = make_article(access=Article.Access.METERED)
    for _ in range(3):
        status, headers, _body = get(port, story.get_absolute_url())
        assert status == 200
        assert headers["cache-control"] == "private, no-cache"
        assert headers["x-cache-status"] == "MISS"


def test_an_edit_reaches_readers_after_the_cache_time(front) -> None:
    port, env = front
    story = make_article(access=Article.Access.FREE, title="Ferry timetable before the edit")
    url = story.get_absolute_url()
    assert "before the edit" in get(port, url)[2]
    assert get(port, url)[1]["x-cache-status"] == "HIT"
    # An editor saves, as the admin would: in the site's process, so its own page cache is retired too.
    edit = f"from articles.models import Article\na = Article.objects.get(pk={story.pk})\n"
    as_the_site(env, edit + "a.title = 'Ferry timetable after the edit'\na.save()")
    edited_at = time.monotonic()
    deadline = edited_at + CACHE_SECONDS + STALE_SECONDS + 3
    status, headers, body = get(port, url)
    while "after the edit" not in body and time.monotonic() < deadline:
        # Until then only the shared cache may answer with the old page: the site itself has forgotten it.
        assert headers["x-cache-status"] in ("HIT", "STALE", "UPDATING"), headers
        time.sleep(0.25)
        status, headers, body = get(port, url)
    assert status == 200 and "after the edit" in body, headers
