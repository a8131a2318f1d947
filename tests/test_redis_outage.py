"""A Redis outage is not an outage: with the cache's and the meter's Redis stopped,
every persona still gets pages — the cache reads as a miss, the meter opens nothing
it cannot count (a teaser for readers without a subscription), subscribers read as
usual — and when Redis is back, pages are kept and counted again.

The test starts and stops a redis-server of its own, on its own port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from django.test import Client

from articles.models import Article
from subscriptions import counters, stats

from .conftest import MARKER, make_article, make_subscription, make_user

pytestmark = pytest.mark.django_db


class RedisServer:
    """A redis-server of the test's own, stopped and started at will."""

    def __init__(self, directory: str) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.directory,
             "--save", "", "--appendonly", "yes", "--appendfsync", "everysec"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(100):
            try:
                if redis.Redis(port=self.port).ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()  # as systemd stops it: the append-only file is written out
        self.process.wait(10)


@pytest.fixture
def own_redis(settings, tmp_path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed (apt-get install redis-server)")
    server = RedisServer(str(tmp_path))
    server.start()
    settings.REDIS_URL = settings.METER_REDIS_URL = server.url
    settings.METER_STORE = "redis"
    settings.REDIS_KEY_PREFIX = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {"default": {"BACKEND": "newsroom.cache.RedisCache", "LOCATION": server.url,
                                   "KEY_PREFIX": settings.REDIS_KEY_PREFIX,
                                   "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}}  # fmt: skip
    yield server
    if server.process and server.process.poll() is None:
        server.stop()


def _page(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, f"{path} answered {response.status_code}"
    return response.content.decode()


def test_readers_get_pages_while_redis_is_down_and_it_is_used_again_when_back(own_redis, category, author) -> None:
    metered = make_article(category=category, authors=[author])
    free_text = "A free story, read in full by anyone."
    free = make_article(category=category, authors=[author], access=Article.Access.FREE, body=free_text)
    subscriber = make_user()
    make_subscription(subscriber)
    member, anonymous = Client(), Client()
    member.force_login(subscriber)
    for client in (member, anonymous):  # everything read once, kept, counted
        assert MARKER in _page(client, metered.get_absolute_url())
    assert counters.client().dbsize() > 0

    own_redis.stop()
    for path in (metered.get_absolute_url(), free.get_absolute_url(), "/", category.get_absolute_url(), "/account/"):
        page = _page(member, path)
        assert "Log out" in page and "ad-slot" not in page  # still logged in (the session is in the database)
    assert MARKER not in _page(anonymous, "/feed/")
    assert MARKER in _page(member, metered.get_absolute_url())  # subscribers read as usual
    page = _page(anonymous, metered.get_absolute_url())
    assert MARKER not in page and 'class="paywall"' in page  # the meter opens nothing it cannot count
    assert free_text in _page(Client(), free.get_absolute_url())  # a free story is free without the meter
    assert Client().get("/account/").status_code == 302
    stats.count_page_view("paywall_view")  # a dashboard count is skipped, not an error

    own_redis.start()  # with its append-only file: what was counted before is still there
    assert MARKER in _page(anonymous, metered.get_absolute_url())  # already read today: the meter knows again
    assert MARKER in _page(member, metered.get_absolute_url())
    reader = Client()
    for story in [make_article(category=category, authors=[author]) for _ in range(4)]:
        _page(reader, story.get_absolute_url())
    assert MARKER not in _page(reader, metered.get_absolute_url())  # and counts to the limit again
