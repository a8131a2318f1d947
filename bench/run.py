"""Benchmark: the article page against a minimal Django view, on one server, in one run.

    .venv/bin/python bench/run.py [--seconds 15] [--connections 16] [--scale 1000,100000,1000000]
                                  [--scale-db NAME] [--record]

What it does, on loopback only:
  1. creates a throwaway PostgreSQL database, migrates, loads the demo newsroom
     and serves it with gunicorn using the production gunicorn.conf.py (workers
     from the CPU count) and Redis for the cache (sessions read through it), as in production;
  2. counts SQL queries per page with Django's test client (same database);
  3. with wrk, measures requests/s and p50/p99 latency of the article page for
     three readers — an anonymous reader with credits (a new reader on every
     request: new meter cookie, new credit taken, a different client address so
     the per-IP backstop stays on and is exercised), an anonymous reader over the
     limit (paywall), a logged-in subscriber — and, in turn with it (four rounds
     each, so the shared machine's bursts hit both), of
     /_bench/minimal/<size>/ (bench/urls.py) returning a page of the same byte
     size through the same middleware, asked with the same requests (cookie, and
     for the reader with credits the same rotating X-Forwarded-For), and reports
     article ÷ minimal; then the
     ceiling: /_bench/meter-call/ (the meter's call to its store for a new reader,
     as in the first run, and nothing else) ÷ minimal — no metered article view
     behind the whole middleware can be faster than that on the same machine (a
     kept anonymous page answered before it, articles/middleware.py, can);
  4. reads the workers' resident memory;
  5. what each setting in MECHANISMS buys on the article path: the pages it
     serves are measured on the server as configured and, right after, on a
     second server (same database and Redis) with that one setting off; the
     table gives on ÷ off. A mechanism under 5% is a cost;
  6. generates articles (manage.py generate_articles, COPY) up to each --scale
     size and measures the archive pages' p50/p95/p99 (bench/archive.py: home,
     a section's and an author's first and deepest page, search, sitemaps);
     --scale-db NAME does that in a database kept between runs.
Prints a Markdown section; --record appends it to bench/RESULTS.md.

    .venv/bin/python bench/run.py --experiment [--seconds 15] [--record]

measures only the article page with a paywall experiment running (two arms, every
reader in one: subscriptions/experiments.py) against the same page without one, for
a new reader with credits and a reader over the limit, alternated without, with,
four times over — the experiment started and ended between runs — and reports with ÷ without.
Needs wrk (apt-get install wrk) and PostgreSQL and Redis on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import archive
from common import LOGIN_SESSION, ROOT, WRK_TIMEOUT, manage, publish, request, running_site, serving, wrk_errors

LIMIT = 3


def site_settings(db: str) -> dict[str, str]:
    """The site as these benchmarks serve it (running_site's extra settings) on database `db`."""
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",  # the minimal view (bench/urls.py)
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "CACHE_KEY_PREFIX": db,
        "FREE_ARTICLES_PER_DAY": str(LIMIT),
        "TRUSTED_PROXIES": "127.0.0.1",  # wrk plays the proxy: the credits run sends X-Forwarded-For as nginx would
        "RATE_LIMIT_SEARCH": "1000000/m",  # the search page is measured, not its per-client limit
    }


# The targets: article page ÷ same-size minimal view, same run. The subscriber's is issue 27's
# (0.45: its page is read after the account, through Django's cached_db session), not issue 13's 0.5.
TARGETS = {"anonymous reader with credits": 0.6, "anonymous reader over the limit": 0.6, "subscriber": 0.45}
# The two settings a newsroom really chooses that change the article path's speed: the
# setting (newsroom/settings.py), the value that turns it off, what it is, and the readers
# whose pages it serves. Every other layer is measured by A/B of commits (bench/RESULTS.md):
# a switch kept only for the benchmark is a second path nobody runs in production.
MECHANISMS = [
    ("PAGE_CACHE_SECONDS", "0", "page cache (rendered pages, shared)", ["credits", "over", "subscriber"]),
    ("METER_STORE", "database", "meter and paywall counter in Redis (one call)", ["credits", "over"]),
]
LUA = """
paths = {%(paths)s}
rotate_ip = %(rotate_ip)s
counter = 0
request = function()
  counter = counter + 1
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  if rotate_ip then
    headers["X-Forwarded-For"] = math.random(1, 223) .. "." .. math.random(0, 255) .. "." ..
      math.random(0, 255) .. "." .. math.random(1, 254)
  end
  return wrk.format("GET", paths[(counter %% #paths) + 1], headers)
end
"""

SETUP = """
import json
from django.contrib.auth import get_user_model
from articles.models import Article, Category
user = get_user_model().objects.get(email="reader@ledger.example")  # seed_demo's complimentary subscriber
metered = list(Article.objects.published().filter(access="metered").values_list("slug", flat=True)[:12])
ids = list(Article.objects.filter(slug__in=metered).values_list("id", flat=True))
category = Category.objects.order_by("id").values_list("slug", flat=True).first()
free = get_user_model().objects.get(email="free@ledger.example")  # seed_demo's free account
print(json.dumps({"session": login_session(user), "free_session": login_session(free), "metered": metered, "ids": ids,
                  "category": category}))  # fmt: skip
"""

QUERIES = """
import json
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from articles.models import Article, Author, Category
slugs = list(Article.objects.published().filter(access="metered").values_list("slug", flat=True)[:8])
def count(client, path):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len([q for q in ctx.captured_queries if q["sql"] not in ("BEGIN", "COMMIT", "ROLLBACK")])
Client(HTTP_HOST="127.0.0.1").get(f"/{slugs[7]}/")  # warm the section menu and the advertised plan
out = {}
out["article, anonymous with credits (rendered)"] = count(Client(HTTP_HOST="127.0.0.1"), f"/{slugs[0]}/")
anon = Client(HTTP_HOST="127.0.0.1")
out["article, anonymous with credits (page cache)"] = count(anon, f"/{slugs[0]}/")
anon.get(f"/{slugs[0]}/")  # the first re-read renders the "already read" variant
out["article, anonymous re-reading (page cache)"] = count(anon, f"/{slugs[0]}/")
for slug in slugs[1:%(limit)d]:
    anon.get(f"/{slug}/")
out["article, anonymous over the limit (rendered)"] = count(anon, f"/{slugs[%(limit)d]}/")
out["article, anonymous over the limit (page cache)"] = count(anon, f"/{slugs[%(limit)d]}/")
subscriber = Client(HTTP_HOST="127.0.0.1")
subscriber.force_login(get_user_model().objects.get(email="reader@ledger.example"))
out["article, subscriber (rendered)"] = count(subscriber, f"/{slugs[6]}/")
other = Client(HTTP_HOST="127.0.0.1")
other.force_login(get_user_model().objects.get(email="reader@ledger.example"))
out["article, another subscriber (shared page)"] = count(other, f"/{slugs[6]}/")
fresh = Client(HTTP_HOST="127.0.0.1")
out["home"] = count(fresh, "/")
out["category"] = count(fresh, f"/category/{Category.objects.first().slug}/")
out["author"] = count(fresh, f"/author/{Author.objects.first().slug}/")
out["search"] = count(fresh, "/search/?q=budget")
print(json.dumps(out))
"""


def wrk(port: int, paths: list[str], *, seconds: float, connections: int, cookie: str = "",
        rotate_ip: bool = False) -> dict:  # fmt: skip
    """Run wrk against `paths` (round robin); requests/s, p50/p99 in ms, errors (non-2xx or timed out)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(LUA % {"paths": ", ".join(json.dumps(p) for p in paths), "rotate_ip": str(rotate_ip).lower()})
        script = fh.name
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:.0f}s", f"--timeout={WRK_TIMEOUT}", "--latency", "-s",
               script]  # fmt: skip
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run([*command, f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True).stdout
    os.unlink(script)

    def ms(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    socket_errors = re.search(r"Socket errors: (.*)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": ms("50%"),
        "p99": ms("99%"),
        "errors": wrk_errors(output),
        "socket_errors": socket_errors.group(1) if socket_errors else "",
    }


def alternating(*runs: Callable[..., dict], seconds: float, rounds: int = 4) -> list[dict]:
    """Each of `runs` (wrk with its arguments but `seconds`) `rounds` times, in turn, for
    seconds / rounds each: a neighbour's burst of load on the shared machine hits every
    side alike instead of one. Requests/s and latencies are the rounds' means."""
    results: list[list[dict]] = [[] for _ in runs]
    for _ in range(rounds):
        for run, done in zip(runs, results, strict=True):
            done.append(run(seconds=seconds / rounds))
    return [
        {
            "rps": sum(r["rps"] for r in done) / rounds,
            "p50": sum(r["p50"] for r in done) / rounds,
            "p99": sum(r["p99"] for r in done) / rounds,
            "errors": sum(r["errors"] for r in done),
            "socket_errors": " ".join(r["socket_errors"] for r in done if r["socket_errors"]),
        }
        for done in results
    ]


def page_size(port: int, path: str, cookie: str = "") -> tuple[int, bytes]:
    status, _, body = request(port, "GET", path, headers={"Cookie": cookie} if cookie else {})
    assert status == 200, (path, status)
    return len(body), body


def worker_rss_mb(master_pid: int) -> list[float]:
    pids = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True).stdout.split()
    sizes = []
    for pid in pids:
        try:
            rss = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
        except FileNotFoundError:
            rss = None
        if rss:  # a worker being recycled (GUNICORN_MAX_REQUESTS) has none, or is gone
            sizes.append(int(rss.group(1)) / 1024)
    return sorted(sizes)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    mem = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1)) / 1024 / 1024
    pg = subprocess.run(["psql", "-tAc", "show server_version", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres"],
                        capture_output=True, text=True).stdout.strip()  # fmt: skip
    return f"{os.cpu_count()} CPUs ({cpu}), {mem:.0f} GiB RAM, Python {platform.python_version()}, PostgreSQL {pg}"


# Starts (or ends) a paywall experiment on the site under test: two arms, every reader in one.
EXPERIMENT = """
from subscriptions.models import Experiment, ExperimentVariant
Experiment.objects.all().delete()
if %(on)s:
    e = Experiment.objects.create(name="bench", share=100, status="running")
    ExperimentVariant.objects.create(experiment=e, label="A")
    ExperimentVariant.objects.create(experiment=e, label="B", headline="Bench headline", trial_days=30)
"""


# Without and with alternate this many times: the shared machine's bursts are longer than one run.
EXPERIMENT_PAIRS = 4


def experiment_rows(env: dict, port: int, paths: list[str], meter_cookie: str, args) -> list[str]:
    """The article page with an experiment running ÷ without, per reader (see the module's docstring)."""
    def switch(on: bool) -> None:
        manage(env, "shell", "-c", EXPERIMENT % {"on": on})
        time.sleep(16)  # every worker reads the terms again (subscriptions/experiments.LOCAL_SECONDS)
        for path in paths:
            request(port, "GET", path)  # the pages of this arm and answer kept again, as in steady state

    rows = []
    for label, cookie, rotate in (("anonymous reader with credits", "", True),
                                  ("anonymous reader over the limit", meter_cookie, False)):  # fmt: skip
        runs: dict[bool, list[dict]] = {False: [], True: []}
        for on in (False, True) * EXPERIMENT_PAIRS:
            switch(on)
            runs[on].append(wrk(port, paths, seconds=args.seconds / (2 * EXPERIMENT_PAIRS),
                                connections=args.connections, cookie=cookie, rotate_ip=rotate))  # fmt: skip
        without, with_it = (sum(r["rps"] for r in runs[on]) / EXPERIMENT_PAIRS for on in (False, True))
        errors = sum(r["errors"] for r in runs[False] + runs[True])
        rows.append(f"| {label} | {with_it:.0f} | {without:.0f} | **{with_it / without:.2f}×** | {errors} |")
    switch(False)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--scale", default="1000,100000", help="article counts for the archive latency runs")
    parser.add_argument("--scale-db", default="", help="run the archive sizes in this database, kept between runs")
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--mechanism-seconds", type=float, default=0, help="per on/off run (default: --seconds / 2)")
    parser.add_argument("--no-mechanisms", action="store_true", help="skip the mechanism table")
    parser.add_argument("--experiment", action="store_true", help="only: article page, paywall experiment ÷ none")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2

    db = f"newsroom_bench_{os.getpid()}"
    extra = site_settings(db)
    lines: list[str] = []
    ok = True
    with running_site(db, production_conf=True, **extra) as (port, env):
        data = json.loads(manage(env, "shell", "-c", LOGIN_SESSION + SETUP).strip().splitlines()[-1])
        queries = json.loads(manage(env, "shell", "-c", QUERIES % {"limit": LIMIT}).strip().splitlines()[-1])
        paths = [f"/{slug}/" for slug in data["metered"][:-LIMIT]]
        subscriber_cookie = f"sessionid={data['session']}"
        # A browser keeps the CSRF cookie its first page set (the page's forms need it).
        _, headers, _ = request(port, "GET", paths[0], headers={"Cookie": subscriber_cookie})
        subscriber_cookie += f"; csrftoken={headers['cookies']['csrftoken']}"

        # A reader over the limit: spend the allowance on other articles first.
        spend = [f"/{slug}/" for slug in data["metered"][-LIMIT:]]
        _, headers, _ = request(port, "GET", spend[0])
        meter_cookie = "; ".join(f"{k}={v}" for k, v in headers["cookies"].items())
        for path in spend[1:]:
            request(port, "GET", path, headers={"Cookie": meter_cookie})

        # Each persona's page really is what it claims to be.
        _, credits_page = page_size(port, paths[0])
        _, over_page = page_size(port, paths[0], meter_cookie)
        _, subscriber_page = page_size(port, paths[0], subscriber_cookie)
        assert b'class="paywall"' not in credits_page and b"ad-slot" in credits_page
        assert b'class="paywall"' in over_page
        assert b'class="paywall"' not in subscriber_page and b"ad-slot" not in subscriber_page
        if args.experiment:
            wrk(port, paths, seconds=3, connections=args.connections)  # warm every worker
            rows = experiment_rows(env, port, paths, meter_cookie, args)
            commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
            publish("\n".join([
                f"## Paywall experiment — {time.strftime('%Y-%m-%d %H:%M %Z')}", "",
                f"Command: `.venv/bin/python bench/run.py --experiment --seconds {args.seconds:.0f} "
                f"--connections {args.connections}`  ",
                f"Commit: `{commit.stdout.strip()}`  ", f"Machine: {machine()}", "",
                "| Reader | With an experiment req/s | Without req/s | Ratio | Non-2xx |", "|---|---|---|---|---|",
                *rows, ""]) + "\n", record=args.record)  # fmt: skip
            return 0

        runs = [
            ("anonymous reader with credits", "", True),
            ("anonymous reader over the limit", meter_cookie, False),
            ("subscriber", subscriber_cookie, False),
        ]
        credits_size = round(sum(page_size(port, p)[0] for p in paths) / len(paths))
        # Warm every worker (template and URL caches) before measuring.
        wrk(port, paths, seconds=3, connections=args.connections, cookie=subscriber_cookie)
        rows = []
        for label, cookie, rotate in runs:
            size = round(sum(page_size(port, p, cookie)[0] for p in paths) / len(paths))
            # The minimal view gets the same requests (cookie, rotating X-Forwarded-For): the load
            # generator's own work is then alike on both sides, and the ratio is the server's.
            same = {"connections": args.connections, "cookie": cookie, "rotate_ip": rotate}
            article, minimal = alternating(
                functools.partial(wrk, port, paths, **same),
                functools.partial(wrk, port, [f"/_bench/minimal/{size}/"], **same),
                seconds=args.seconds,
            )
            ok &= article["errors"] == 0 and minimal["errors"] == 0
            rows.append((label, size, article, minimal))
        # The ceiling: a new reader's meter call alone (as in the first run), then the same-size page.
        meter_paths = [f"/_bench/meter-call/{i}/{credits_size}/" for i in data["ids"][: len(paths)]]
        meter_only, minimal = alternating(
            functools.partial(wrk, port, meter_paths, connections=args.connections, rotate_ip=True),
            functools.partial(wrk, port, [f"/_bench/minimal/{credits_size}/"], connections=args.connections,
                              rotate_ip=True),
            seconds=args.seconds,
        )
        ok &= meter_only["errors"] == 0 and minimal["errors"] == 0
        rows.append(("ceiling: the meter's call alone, then the minimal page", credits_size, meter_only,
                     minimal))  # fmt: skip
        rss = worker_rss_mb(int(env["GUNICORN_PID"]))
        workers = len(rss)  # counted after the runs: a preloading master forks its workers after /healthz answers

        # What each mechanism buys: its pages with it (this server) and without it (a second server),
        # alternated with, without, with, without so a neighbour's burst of load hits both sides.
        # A free account (the registration wall's reader): re-reading the articles their
        # allowance opened today, paywalled on the rest — the meter and the row on every view.
        registered_cookie = f"sessionid={data['free_session']}"
        readers = {"credits": ("", True), "over": (meter_cookie, False), "subscriber": (subscriber_cookie, False),
                   "registered": (registered_cookie, False)}  # fmt: skip
        mech_seconds = args.mechanism_seconds or max(5.0, args.seconds / 2)
        mechanism_rows = []
        for switch, off, what, served in [] if args.no_mechanisms else MECHANISMS:
            with serving(env | {switch: off}, production_conf=True) as (off_port, _):
                for path in paths * 3:  # every worker up and warm before measuring
                    request(off_port, "GET", path, headers={"Cookie": subscriber_cookie})
                wrk(off_port, paths, seconds=2, connections=args.connections, cookie=subscriber_cookie)
                for reader in served:
                    cookie, rotate = readers[reader]
                    runs = {port: [], off_port: []}
                    for server in (port, off_port, port, off_port):
                        runs[server].append(wrk(server, paths, seconds=mech_seconds / 2, connections=args.connections,
                                                cookie=cookie, rotate_ip=rotate))  # fmt: skip
                    ok &= all(r["errors"] == 0 for r in runs[port] + runs[off_port])
                    with_it, without = (sum(r["rps"] for r in runs[p]) / 2 for p in (port, off_port))
                    mechanism_rows.append((what, f"{switch}={off}", reader, with_it, without))
                    print(f"{switch}={off} {reader}: {with_it:.0f} with, {without:.0f} without", file=sys.stderr)

        targets = [int(n) for n in args.scale.split(",") if n]
        scale_rows, scale_notes = ([], []) if args.scale_db else archive.measure(env, port, targets, seconds=8)
    if args.scale_db:  # the archive sizes in a database kept between runs (a million articles are made once)
        with running_site(args.scale_db, production_conf=True, keep=True, **extra) as (port, env):
            scale_rows, scale_notes = archive.measure(env, port, targets, seconds=8)
    ok &= all(r["errors"] == 0 and u["errors"] == 0 for _, _, r, u in scale_rows)

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    commit = commit.stdout.strip()
    lines += [
        f"## Benchmark — {time.strftime('%Y-%m-%d %H:%M %Z')}",
        "",
        f"Command: `.venv/bin/python bench/run.py --seconds {args.seconds:.0f} --connections {args.connections} "
        f"--scale {args.scale or chr(34) * 2}{' --scale-db ' + args.scale_db if args.scale_db else ''}"
        f"{' --record' if args.record else ''}`  ",
        f"Commit: `{commit}`  ",
        f"Machine: {machine()}  ",
        f"Server: gunicorn with gunicorn.conf.py ({workers} gthread workers × 2 threads), PostgreSQL and Redis "
        f"on loopback, wrk -t2 -c{args.connections} on the same machine (it competes with the server for CPU).",
        "",
        "### Article page vs a minimal Django view of the same size (same server, same run)",
        "",
        "| Reader | Page bytes | Article req/s | Minimal req/s | Ratio | Article p50 / p99 ms | Minimal p50 / p99 ms "
        "| Non-2xx or timed out |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, size, article, minimal in rows:
        ratio = article["rps"] / minimal["rps"]
        lines.append(
            f"| {label} | {size} | {article['rps']:.0f} | {minimal['rps']:.0f} | **{ratio:.2f}×** "
            f"| {article['p50']:.1f} / {article['p99']:.1f} | {minimal['p50']:.1f} / {minimal['p99']:.1f} "
            f"| {article['errors']} + {minimal['errors']} |"
        )
    lines += ["", "Against the targets (issue 13; the subscriber's from issue 27): " + "; ".join(
        f"{label} **{article['rps'] / minimal['rps']:.2f}×** (≥ {TARGETS[label]}: "
        f"{'met' if article['rps'] / minimal['rps'] >= TARGETS[label] else 'NOT met'})"
        for label, _, article, minimal in rows if label in TARGETS)]  # fmt: skip
    if mechanism_rows:
        lines += ["", f"### What each mechanism buys (its pages with it ÷ without it: with, without, with, without, "
                  f"{mech_seconds / 2:.0f} s each, mean req/s; under 1.05× it does not pay its way)", "",
                  "| Mechanism | Switched off by | Reader | With req/s | Without req/s | Buys |",
                  "|---|---|---|---|---|---|"]  # fmt: skip
        names = {"credits": "anonymous with credits", "over": "anonymous over the limit", "subscriber": "subscriber",
                 "registered": "free account (registration wall)"}
        for what, switch, reader, on, off in mechanism_rows:
            buys = f"**{on / off:.2f}×**" if off else "— (the run without it failed)"
            lines.append(f"| {what} | `{switch}` | {names[reader]} | {on:.0f} | {off:.0f} | {buys} |")
    lines += ["", "### SQL statements per page (test client, same database, warm caches; no BEGIN/COMMIT)",
              "",
              "| Page | Queries |", "|---|---|"]  # fmt: skip
    lines += [f"| {page} | {n} |" for page, n in queries.items()]
    lines += ["", f"### Worker memory after the runs: {', '.join(f'{m:.0f}' for m in rss)} MB RSS "
              f"(max {max(rss):.0f} MB, total {sum(rss):.0f} MB)", ""]  # fmt: skip
    if scale_rows or scale_notes:
        lines += archive.table(scale_rows, scale_notes)
    if not ok:
        lines += ["", "**Errors: some responses were not 2xx/3xx — see wrk output.**"]
    publish("\n".join(lines) + "\n", record=args.record)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
