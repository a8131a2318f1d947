"""Page checks: the Nu HTML Checker over every public page type, Lighthouse over
home and an article at phone and desktop settings. Run it through scripts/check-pages
(which installs the pinned npm tools first):

    ./scripts/check-pages [--record] [--runs 1]

What it does, on loopback only:
  1. creates a throwaway PostgreSQL database, migrates, loads the demo newsroom and
     serves it with gunicorn and the production settings (bench/common.py);
  2. fetches one page of each public type as the reader who sees it — home, section,
     author, search with and without results, an article as a new
     reader (meter bar, ads), the same article past the free limit (paywall), a
     subscriber's article page with comments, subscribe, log in, sign up, password
     reset, login by code, a 404 — and runs vnu.jar (Java) over all of them;
  3. runs Lighthouse (offline, Chromium headless) on home and an article, each at
     Lighthouse's mobile settings (a throttled phone) and with --preset=desktop,
     `--runs` times, keeping each category's median.
Prints a Markdown section; --record appends it to bench/RESULTS.md. Exits 1 when
the validator reports an error or a Lighthouse category is under 98.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import LOGIN_SESSION, ROOT, manage, publish, request, running_site

VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
TARGET = 98
# Lighthouse's simulated timings (ms; CLS unitless) behind the performance score.
METRICS = ("largest-contentful-paint", "total-blocking-time", "cumulative-layout-shift")

SETUP = """
import json
from articles.models import Article, Author, Category, Comment
from django.contrib.auth import get_user_model
user = get_user_model().objects.get(email="reader@ledger.example")  # seed_demo's complimentary subscriber
newest = Article.objects.published().order_by("-publish_at")
metered = list(newest.filter(access="metered").values_list("slug", flat=True)[:4])
discussed = Article.objects.get(pk=Comment.objects.filter(parent__isnull=False).values("article")[:1]).slug
print(json.dumps({
    "session": login_session(user), "metered": metered, "discussed": discussed,
    "category": Category.objects.order_by("position").values_list("slug", flat=True).first(),
    "author": Author.objects.order_by("id").values_list("slug", flat=True).first(),
}))
"""


def fetch(port: int, path: str, cookies: dict[str, str]) -> bytes:
    """GET as one browser would: sends and keeps its cookies (meter, session, CSRF)."""
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
    status, answer, body = request(port, "GET", path, headers=headers)
    cookies.update(answer.get("cookies", {}))
    if status not in (200, 404):
        raise SystemExit(f"{path}: HTTP {status}")
    return body


def pages(port: int, data: dict) -> dict[str, bytes]:
    """One page of each public type, as the reader who sees it."""
    reader: dict[str, str] = {}
    subscriber = {"sessionid": data["session"]}
    article = f"/{data['metered'][0]}/"
    out = {
        "home": fetch(port, "/", {}),
        "section": fetch(port, f"/category/{data['category']}/", {}),
        "author": fetch(port, f"/author/{data['author']}/", {}),
        "search": fetch(port, "/search/?q=shipyard", {}),
        "search, no query": fetch(port, "/search/", {}),
        "article, new reader": fetch(port, article, reader),
    }
    for slug in data["metered"][1:]:
        fetch(port, f"/{slug}/", reader)
    out["article, over the limit"] = fetch(port, article, reader)
    out["article, subscriber with comments"] = fetch(port, f"/{data['discussed']}/", subscriber)
    out["subscribe"] = fetch(port, "/subscribe/", {})
    out["log in"] = fetch(port, "/accounts/login/", {})
    out["sign up"] = fetch(port, "/accounts/signup/", {})
    out["password reset"] = fetch(port, "/accounts/password/reset/", {})
    out["login by code"] = fetch(port, "/accounts/login/code/", {})
    out["not found"] = fetch(port, "/no-such-story/", {})
    out["feeds"] = fetch(port, "/feeds/", {})
    out["about"] = fetch(port, "/about/", {})
    out["gift a subscription"] = fetch(port, "/gift/", {})
    out["account, subscriber"] = fetch(port, "/account/", subscriber)
    return out


# A page the checker must fault: proves it ran and that its answer is read right.
CANARY = b'<!doctype html><html lang="en"><title>c</title><p><time datetime="x">c</time>'


def validate(html: dict[str, bytes]) -> tuple[dict[str, list[str]], dict[str, int]]:
    """vnu.jar over every page: errors (listed) and warnings (counted) per page."""
    with tempfile.TemporaryDirectory() as tmp:
        files: dict[str, str] = {}
        for n, (name, body) in enumerate({**html, "canary": CANARY}.items()):
            path = Path(tmp) / f"{n:02d}.html"
            path.write_bytes(body)
            files[str(path)] = name
        run = subprocess.run(
            ["java", "-jar", str(VNU), "--format", "json", "--stdout", *files], capture_output=True, text=True
        )
        if run.returncode not in (0, 1):
            raise SystemExit(f"vnu.jar failed: {run.stderr[-2000:]}")
        messages = json.loads(run.stdout)["messages"]
    errors: dict[str, list[str]] = {name: [] for name in files.values()}
    warnings: dict[str, int] = dict.fromkeys(files.values(), 0)
    for m in messages:
        name = files[m["url"].removeprefix("file:")]
        if m.get("type") == "error":
            errors[name].append(f"line {m.get('lastLine')}: {m.get('message')}")
        else:
            warnings[name] += 1
    if not errors.pop("canary"):
        raise SystemExit("vnu.jar found nothing wrong with a broken page: the check is not working")
    warnings.pop("canary")
    return errors, warnings


def lighthouse(url: str, desktop: bool) -> dict[str, float]:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [
            str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out.name}",
            "--only-categories=" + ",".join(CATEGORIES), "--chrome-flags=--headless --no-sandbox",
            *(["--preset=desktop"] if desktop else []),
        ]  # fmt: skip
        env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
        subprocess.run(command, check=True, env=env, capture_output=True)
        report = json.loads(Path(out.name).read_text())
    failing = [
        f"{audit['id']} ({audit['score']})"
        for audit in report["audits"].values()
        if audit.get("score") is not None and audit["score"] < 0.9 and audit.get("scoreDisplayMode") == "binary"
    ]
    scores = {c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES}
    metrics = {m: report["audits"][m]["numericValue"] for m in METRICS}
    return {**scores, **metrics, "failing": failing}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="append the report to bench/RESULTS.md")
    parser.add_argument("--runs", type=int, default=1, help="Lighthouse runs per page and setting (median kept)")
    args = parser.parse_args()
    for tool in (VNU, LIGHTHOUSE):
        if not tool.exists():
            raise SystemExit(f"{tool} is missing: run ./scripts/check-pages (it installs the npm tools)")

    db = f"checkpages_{os.getpid()}"
    with running_site(db, workers=2, threads=2) as (port, env):
        data = json.loads(manage(env, "shell", "-c", LOGIN_SESSION + SETUP).strip().splitlines()[-1])
        html = pages(port, data)
        errors, warnings = validate(html)
        base = f"http://127.0.0.1:{port}"
        targets = {"home": "/", "article": f"/{data['metered'][0]}/"}
        scores: dict[tuple[str, str], dict] = {}
        for name, path in targets.items():
            for setting in ("phone", "desktop"):
                runs = [lighthouse(base + path, desktop=setting == "desktop") for _ in range(args.runs)]
                scores[(name, setting)] = {
                    **{c: statistics.median(r[c] for r in runs) for c in CATEGORIES + METRICS},
                    "failing": sorted({f for r in runs for f in r["failing"]}),
                }

    n_errors = sum(len(e) for e in errors.values())
    low = [(k, c) for k, s in scores.items() for c in CATEGORIES if s[c] < TARGET]
    version = subprocess.run([str(LIGHTHOUSE), "--version"], capture_output=True, text=True).stdout.strip()
    lines = [
        f"## Page checks — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        "",
        f"`./scripts/check-pages{' --record' if args.record else ''}{f' --runs {args.runs}' if args.runs != 1 else ''}`"
        f" — vnu-jar and Lighthouse {version} (package.json), Chromium headless, loopback, gunicorn with"
        f" production settings; {platform.node()}, {os.cpu_count()} CPUs shared.",
        "",
        f"### Nu HTML Checker: {n_errors} errors on {len(html)} pages (target 0)",
        "",
        "| Page | Errors | Warnings |",
        "|---|---|---|",
        *(f"| {name} | {len(errors.get(name, []))} | {warnings.get(name, 0)} |" for name in html),
    ]
    for name, errs in errors.items():
        lines += [f"- {name}: {e}" for e in errs[:10]]
    lines += [
        "",
        f"### Lighthouse (target ≥ {TARGET} in every category; median of {args.runs} run(s))",
        "",
        "| Page | Setting | Performance | Accessibility | Best practices | SEO | LCP ms | TBT ms | CLS | Failing |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *(
            f"| {name} | {setting} | "
            + " | ".join(f"{s[c]:.0f}" for c in CATEGORIES)
            + f" | {s[METRICS[0]]:.0f} | {s[METRICS[1]]:.0f} | {s[METRICS[2]]:.3f}"
            + f" | {', '.join(s['failing']) or '—'} |"
            for (name, setting), s in scores.items()
        ),
    ]
    ok = n_errors == 0 and not low
    if not ok:
        lines += ["", f"**Not met:** {n_errors} validator errors; under {TARGET}: {low or 'none'}."]
    publish("\n".join(lines) + "\n", record=args.record)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
