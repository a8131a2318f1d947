"""No input gives a 5xx: every URL pattern of the URLconf, for every persona,
with GET, HEAD and POST, and hostile values in every path parameter, query
parameter and form field the view reads.

Two passes:
- a sweep that visits every (pattern, persona, method) once, rotating through
  the hostile profiles below so each pattern meets each of them; the form
  fields come from the page itself (every `name="…"` its GET answer renders)
  plus the parameters the site's views read;
- Hypothesis, drawing random patterns, personas, methods and values (hostile
  ones and arbitrary text), FUZZ_EXAMPLES of them (default 60; set it higher
  to hunt longer, e.g. FUZZ_EXAMPLES=5000).

Each request runs in a savepoint that is rolled back, so a POST that deletes
or logs out cannot change what the next request sees. Rate limits are off so
requests reach the view's code. A 5xx anywhere fails the test with the list of
requests that caused one.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import quote, unquote, urlencode

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from articles.models import Comment

from .conftest import make_article, make_subscription, make_user

pytestmark = pytest.mark.django_db

FUZZ_EXAMPLES = int(os.getenv("FUZZ_EXAMPLES", "60"))
PERSONAS = ["anonymous", "free_reader", "subscriber", "staff"]
METHODS = ["get", "head", "post"]

HUGE = "9" * 20  # past bigint
HOSTILE = [
    "a\x00b",
    "\x00",
    "\x01\x02\x1b[31m\x7f\x08",
    HUGE,
    "-" + HUGE,
    "-1",
    "0",
    "1e309",
    "NaN",
    "x" * 5000,
    "ünïcødé \u202e\ufeff 𝕏 \u0301",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../../../etc/passwd",
    "[]",
    "",
]
# Query strings and form bodies that are malformed as a whole, sent raw.
RAW_QUERIES = ["q=%zz&page=%c0%af&next=%", "%00=%00", "page=" + HUGE + "&cpage=" + HUGE, "a[]=1&a[]=2&=&&="]
RAW_BODIES = [
    ("application/json", b"[1, 2, 3]"),
    ("application/json", b'{"id": null, "type": ["x"]}'),
    ("application/x-www-form-urlencoded", b"body=%zz&parent=%00&password=\x00"),
    ("multipart/form-data; boundary=nope", b"--nope\r\nContent-Disposition: form-data\r\n\r\n\x00\r\n"),
    ("multipart/form-data", b"garbage"),
    ("text/plain", b"\x00\xff\xfe"),
]
# Parameters the site's own views read (forms add theirs from the page itself).
KNOWN_FIELDS = [
    "q", "page", "cpage", "comments", "next", "plan", "session_id", "body", "parent", "submit_token",
    "password", "login", "email", "password1", "password2", "code", "key", "action", "o", "p", "e",
    "_changelist_filters", "_selected_action", "select_across", "index", "post", "kind", "who",
]  # fmt: skip


@dataclass(frozen=True)
class Route:
    regex: str  # the full pattern, anchored
    name: str


def routes() -> list[Route]:
    found: list[Route] = []

    def walk(patterns: list, prefix: str) -> None:
        for p in patterns:
            part = p.pattern.regex.pattern.removeprefix("^")
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + part.removesuffix("\\Z").removesuffix("$"))
            elif isinstance(p, URLPattern):
                found.append(Route("^/" + prefix + part, p.name or part))

    walk(get_resolver().url_patterns, "")
    return found


# A capturing group: named, or unnamed such as django-reversion's recover/(\d+)/ (filled from "*").
GROUP = re.compile(r"(?<!\\)\((?:\?P<(\w+)>|(?!\?))")


def fill(route: Route, values: dict[str, list[str]], turn: int) -> str | None:
    """A path matching the route, each named group filled with one of `values`
    for its name (chosen by `turn`), or None if no candidate matches."""
    regex = route.regex
    for attempt in range(8):
        path, rest, pos = "", regex.removeprefix("^"), 0
        out: list[str] = []
        while (m := GROUP.search(rest, pos)) is not None:
            out.append(rest[pos : m.start()])
            depth, i = 1, m.end()
            while depth:  # the group's closing parenthesis
                depth += {"(": 1, ")": -1}.get(rest[i], 0) if rest[i - 1] != "\\" else 0
                i += 1
            candidates = values.get(m.group(1), values["*"])
            out.append(candidates[(turn + attempt) % len(candidates)])
            pos = i
        out.append(rest[pos:])
        path = "".join(out)
        for token in ("\\Z", "$"):
            path = path.removesuffix(token)
        path = path.replace("\\", "")
        if re.fullmatch(regex.removeprefix("^").replace("\\Z", "").removesuffix("$"), unquote(path)):
            return quote(path, safe="/%:@-._~!$&'()*+,;=")
    return None


@pytest.fixture
def world(settings) -> dict:
    """Something real behind every pattern, the personas, and settings that let requests reach the views."""
    settings.ACCOUNT_RATE_LIMITS = False
    settings.RATE_LIMIT_SEARCH = ""
    settings.COMMENTS_PER_MINUTE = 10_000
    settings.STRIPE_WEBHOOK_SECRET = "whsec_fuzz"
    free_reader, subscriber = make_user(), make_user()
    make_subscription(subscriber)
    staff = make_user(is_staff=True, is_superuser=True)
    article = make_article()
    comment = Comment.objects.create(article=article, user=subscriber, body="A first comment.")
    clients = {"anonymous": Client()}
    for name, user in [("free_reader", free_reader), ("subscriber", subscriber), ("staff", staff)]:
        clients[name] = Client()
        clients[name].force_login(user)
    values = {
        "slug": [article.slug, "no-such-story", "9" * 300],
        "pk": [str(comment.pk), HUGE, "0"],
        "article_id": [str(article.pk), HUGE, "0"],
        "object_id": [str(article.pk), HUGE, "-1", "%00", "x" * 300, "%C3%BC%E2%80%AE", "1%2F..%2F.."],
        "content_type_id": ["1", HUGE, "abc"],
        "app_label": ["articles", "auth"],
        "*": ["abc", "%00", "x" * 300, HUGE, "%C3%BC", "%ZZ", "a%0Ab"],
    }
    return {"clients": clients, "values": values, "article": article}


def request(client_for_persona: Client, method: str, path: str, *, query: str = "", data=None, raw=None):
    """One request in a rolled-back savepoint, from a copy of the persona's client (cookies a
    log-out would clear stay with the persona)."""
    client = Client(raise_request_exception=False)
    client.cookies = SimpleCookie(client_for_persona.cookies.output(header="", sep=";"))
    url = path + ("?" + query if query else "")
    with transaction.atomic():
        if raw is not None:
            response = client.generic(method.upper(), url, raw[1], content_type=raw[0])
        elif method == "post":
            response = client.post(url, data or {})
        else:
            response = getattr(client, method)(url)
        transaction.set_rollback(True)
    return response


# One hostile value for every field at once: each request tries one of these.
PROFILES = ["a\x00b", "\x01\x02\x1b[31m\x7f\x08", HUGE, "-" + HUGE, "1e309", "x" * 5000,
            "ünïcødé \u202e\ufeff 𝕏 \u0301", "", "<script>' OR 1=1 --[]"]  # fmt: skip


def hostile_fields(names: list[str], turn: int) -> dict[str, str]:
    """Every field set to the same hostile value (the turn picks which), so values that
    only bite together (a huge page and a huge per-page) meet."""
    return dict.fromkeys(names, PROFILES[turn % len(PROFILES)])


def form_fields(html: bytes) -> list[str]:
    return sorted(set(re.findall(r'name="([^"]+)"', html.decode(errors="replace"))))


STATUSES: dict[int, int] = {}


def five_hundreds(failures: list[str], persona: str, method: str, url: str, response) -> None:
    STATUSES[response.status_code] = STATUSES.get(response.status_code, 0) + 1
    if response.status_code >= 500:
        exc = getattr(response, "exc_info", None)
        why = repr(exc[1])[:200] if exc else ""
        failures.append(f"{persona} {method.upper()} {url[:160]!r} -> {response.status_code} {why}")


def sweep(world: dict) -> Iterator[tuple[str, str, str, dict]]:
    """(persona, method, path, request kwargs) for every pattern, persona and method."""
    turn = 0
    for route in routes():
        for persona in PERSONAS:
            for method in METHODS:
                turn += 1
                path = fill(route, world["values"], turn)
                assert path is not None, f"no path fits {route.regex}"
                yield persona, method, path, {"turn": turn}


def test_every_pattern_persona_and_method_survives_hostile_input(world) -> None:
    failures: list[str] = []
    fields_seen: dict[tuple[str, str], list[str]] = {}
    get_status: dict[tuple[str, str], int] = {}
    for persona, method, path, extra in sweep(world):
        turn = extra["turn"]
        client = world["clients"][persona]
        if method == "get":
            # The page's own form fields (read once, clean), then every parameter hostile.
            clean = request(client, "get", path)
            five_hundreds(failures, persona, "get", path, clean)
            # A streamed answer (the members' CSV export) has no form to read.
            fields_seen[(persona, path)] = [] if clean.streaming else form_fields(clean.content)
            get_status[(persona, path)] = clean.status_code
        names = sorted(set(KNOWN_FIELDS) | set(fields_seen.get((persona, path), [])))
        if method == "head":  # every page that answers GET answers HEAD the same way
            head = request(client, "head", path)
            five_hundreds(failures, persona, "head", path, head)
            if get_status.get((persona, path)) == 200 and head.status_code != 200:
                failures.append(f"{persona} HEAD {path!r} -> {head.status_code}, but GET answers 200")
        if method in ("get", "head"):
            queries = [urlencode(hostile_fields(names, 2 * turn)), urlencode(hostile_fields(names, 2 * turn + 1))]
            if method == "head" or turn % 2:
                queries = [queries[0], RAW_QUERIES[turn % len(RAW_QUERIES)]]
            for query in queries:
                five_hundreds(failures, persona, method, f"{path}?{query}", request(client, method, path, query=query))
        else:
            data = hostile_fields(names, turn)
            five_hundreds(failures, persona, "post", path, request(client, "post", path, data=data))
            raw = RAW_BODIES[turn % len(RAW_BODIES)]
            five_hundreds(failures, persona, "post " + raw[0], path, request(client, "post", path, raw=raw))
    print(STATUSES)
    assert not failures, f"{len(failures)} requests failed:\n" + "\n".join(failures[:40])


@hsettings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_random_hostile_requests_never_get_a_5xx(world, data) -> None:
    all_routes = routes()
    route = data.draw(st.sampled_from(all_routes), label="route")
    persona = data.draw(st.sampled_from(PERSONAS), label="persona")
    method = data.draw(st.sampled_from(METHODS), label="method")
    text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=50), st.integers().map(str))
    segment = st.text(st.characters(exclude_characters="/"), min_size=1, max_size=40).map(lambda s: quote(s, safe=""))
    values = dict(world["values"])
    for name in GROUP.findall(route.regex):
        values[name] = [data.draw(st.one_of(st.sampled_from(values.get(name, values["*"])), segment), label=name)]
    path = fill(route, values, 0) or fill(route, world["values"], 0)
    fields = data.draw(st.dictionaries(st.sampled_from(KNOWN_FIELDS), text, max_size=8), label="fields")
    client = world["clients"][persona]
    if method == "post":
        if data.draw(st.booleans(), label="raw body"):
            body = data.draw(st.one_of(st.binary(max_size=200), st.just(json.dumps(fields).encode())), label="body")
            ctype = data.draw(st.sampled_from([c for c, _ in RAW_BODIES]), label="content type")
            response = request(client, "post", path, raw=(ctype, body))
        else:
            response = request(client, "post", path, data=fields)
    else:
        response = request(client, method, path, query=urlencode(fields))
    failures: list[str] = []
    five_hundreds(failures, persona, method, path, response)
    assert not failures, failures
