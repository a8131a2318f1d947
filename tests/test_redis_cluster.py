"""The meter's and the page cache's Lua scripts run on Redis Cluster: each declares every
key it touches in KEYS, and all the keys of one call hash to one slot (counters.SLOT_TAG).

What Redis 7.0 itself refuses, and so what the cluster test below can catch:
- declared keys in different slots (CROSSSLOT), on any cluster node;
- a key the script builds itself (from ARGV or another key) whose slot another node
  serves ("Script attempted to access a non local key in a cluster node").
What it does not refuse: an undeclared key in a slot the node serves — not even on a node
that serves every slot, nor one in another slot than the declared keys (7.0.15 runs
`redis.call('GET', KEYS[1]); redis.call('GET', 'other')` on a one-node cluster). Such a
script breaks only later, when the cluster moves a slot. So the static check here also
requires every key argument of every redis.call in the scripts to be KEYS[n], and n to be
within what the caller passes.

The cluster is two redis-servers of the test's own: one serves only the meter's slot,
the other every other slot, so any key the scripts touch outside that slot is refused.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from redis.crc import key_slot

from articles import page_cache
from subscriptions import counters, experiments, meter, stats

from .conftest import MARKER, make_article, make_user, meter_reads
from .test_experiments import browser_in, start

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = {"subscriptions/meter.py": meter._CONSUME, "articles/page_cache.py": page_cache._ANONYMOUS_PAGE}


def _free_port() -> int:
    """A port whose cluster bus port (+10000) is free too."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + 10000 < 65536:
            with socket.socket() as bus:
                try:
                    bus.bind(("127.0.0.1", port + 10000))
                except OSError:
                    continue
            return port


def _start_node(directory: Path) -> tuple[subprocess.Popen, redis.Redis, int]:
    port = _free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
         "--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{port}.conf",
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    node = redis.Redis(port=port)
    for _ in range(100):
        try:
            node.ping()
            return process, node, port
        except redis.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


@pytest.fixture
def cluster(settings, tmp_path) -> Iterator[redis.Redis]:
    """Two nodes: `ours` serves only the meter's slot, the other every other slot."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed (apt-get install redis-server)")
    processes = []
    try:
        (ours_process, ours, port), (other_process, other, other_port) = (_start_node(tmp_path) for _ in range(2))
        processes = [ours_process, other_process]
        slot = key_slot(counters.SLOT_TAG.encode())
        ours.execute_command("CLUSTER", "ADDSLOTS", slot)
        for low, high in ((0, slot - 1), (slot + 1, 16383)):
            if low <= high:
                other.execute_command("CLUSTER", "ADDSLOTSRANGE", low, high)
        ours.execute_command("CLUSTER", "MEET", "127.0.0.1", other_port)
        for _ in range(200):
            if all(b"cluster_state:ok" in node.execute_command("CLUSTER", "INFO") for node in (ours, other)) and (
                len(ours.execute_command("CLUSTER", "SLOTS")) == len(other.execute_command("CLUSTER", "SLOTS"))
            ):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("the cluster did not come up")
        url = f"redis://127.0.0.1:{port}/0"
        settings.REDIS_URL = settings.METER_REDIS_URL = url
        settings.METER_STORE = "redis"
        settings.REDIS_KEY_PREFIX = f"test-{uuid.uuid4().hex}"
        # The cache's own keys are not in the meter's slot: on this node they are misses
        # (newsroom/cache.py), which the pages survive; the scripts' keys all are in it.
        settings.CACHES = {"default": {"BACKEND": "newsroom.cache.RedisCache", "LOCATION": url,
                                       "KEY_PREFIX": settings.REDIS_KEY_PREFIX}}  # fmt: skip
        experiments.forget()
        yield ours
    finally:
        experiments.forget()
        for process in processes:
            process.terminate()
            process.wait(10)


def test_the_cluster_refuses_what_the_scripts_must_not_do(cluster) -> None:
    """The checks below can fail: the node refuses keys outside its slot and declared keys across slots."""
    tagged = f"{counters.SLOT_TAG}x"
    with pytest.raises(redis.ResponseError, match="non local key"):
        cluster.eval("redis.call('INCR', KEYS[1]); return redis.call('GET', ARGV[1])", 1, tagged, "untagged")
    with pytest.raises(redis.ResponseError, match="hash to the same slot"):
        cluster.eval("return 1", 2, tagged, "{elsewhere}y")
    # Redis 7.0 lets an undeclared key in the node's own slot through: hence the static check.
    assert cluster.eval("return redis.call('GET', ARGV[1])", 1, tagged, f"{counters.SLOT_TAG}undeclared") is None


def test_anonymous_readers_pages_and_meter_run_on_the_cluster(cluster, settings, category) -> None:
    settings.FREE_ARTICLES_PER_DAY = 2
    metered = [make_article(category=category, access="metered") for _ in range(3)]
    free = make_article(category=category, access="free")
    first = Client()
    for article in (free, metered[0], metered[1]):  # rendered and kept (the first reader's pages)
        assert MARKER in first.get(article.get_absolute_url()).content.decode()
    assert first.get(metered[2].get_absolute_url()).content.decode().count(MARKER) == 0  # over the limit
    reader = Client()  # the next reader's pages come from the one-call script, with the meter in it
    for article in (free, metered[0], metered[1]):
        with CaptureQueriesContext(connection) as queries:
            assert MARKER in reader.get(article.get_absolute_url()).content.decode()
        assert len(queries) == 0
    assert MARKER not in reader.get(metered[2].get_absolute_url()).content.decode()
    reads = meter_reads()
    assert sorted(len(ids) for ids in reads.values()) == [2, 2]
    assert cluster.get(stats.page_views_key(meter.PAYWALL_VIEW, meter.today())) == b"2"


def test_the_address_backstop_and_a_logged_in_reader_run_on_the_cluster(cluster, settings, category) -> None:
    settings.FREE_ARTICLES_PER_IP_PER_DAY = 1
    stories = [make_article(category=category, access="metered") for _ in range(2)]
    assert MARKER in Client().get(stories[0].get_absolute_url()).content.decode()
    assert MARKER not in Client().get(stories[1].get_absolute_url()).content.decode()  # the address's one is used
    member = Client()
    member.force_login(make_user())
    assert MARKER in member.get(stories[1].get_absolute_url()).content.decode()


def test_an_experiments_counts_run_on_the_cluster(cluster, settings, category) -> None:
    experiment = start({"A": {"free_articles_per_day": 1}, "B": {"free_articles_per_day": 1}})
    stories = [make_article(category=category, access="metered") for _ in range(2)]
    browser = browser_in("A", experiment)
    assert MARKER in browser.get(stories[0].get_absolute_url()).content.decode()
    assert MARKER not in browser.get(stories[1].get_absolute_url()).content.decode()
    arm_a = next(arm for arm in experiments.results(experiment) if arm.label == "A")
    assert (arm_a.readers, arm_a.paywall_views) == (1, 1)


_CALL = re.compile(r"redis\.p?call\(")
_KEYED_CALL = re.compile(r"redis\.p?call\('[A-Z]+', KEYS\[(\d+)\]\s*[,)]")


@pytest.mark.parametrize("path", SCRIPTS)
def test_every_key_a_script_touches_is_declared(path: str, settings) -> None:
    script = SCRIPTS[path]
    calls = _CALL.findall(script)
    keyed = [int(n) for n in _KEYED_CALL.findall(script)]
    assert calls and len(keyed) == len(calls), f"a redis.call in {path} names a key that is not KEYS[n]"
    settings.METER_STORE = "redis"
    request = RequestFactory().get("/")
    request.user = None
    meter_keys, _ = meter.redis_call(request)
    declared = len(meter_keys) + (3 if path == "articles/page_cache.py" else 0)  # anonymous_page()'s own three
    assert max(keyed) <= declared
    assert len({key_slot(k.encode()) for k in meter_keys}) == 1


def test_these_are_all_the_scripts_in_the_code() -> None:
    """A new Lua script must be added to SCRIPTS (and so to the checks above)."""
    found = {
        str(path.relative_to(ROOT))
        for app in ("articles", "subscriptions", "newsroom", "newsletter", "growth", "members")
        for path in (ROOT / app).rglob("*.py")
        if re.search(r"register_script\(|\.eval\(|\.evalsha\(|\.fcall\(", path.read_text())
    }
    assert found == {"subscriptions/meter.py", "articles/page_cache.py"}


def test_the_scripts_keys_carry_the_one_tag(settings) -> None:
    settings.REDIS_KEY_PREFIX = "site"
    assert counters.key("meter", "x").startswith("site:" + counters.SLOT_TAG)
    slots = {key_slot(k.encode()) for k in (page_cache.GENERATION_KEY, page_cache._article_key("a"), counters.key("z"))}
    assert slots == {key_slot(counters.SLOT_TAG.encode())}
