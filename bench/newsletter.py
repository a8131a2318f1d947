"""One digest to many generated recipients through a real SMTP server on loopback.

    .venv/bin/python bench/newsletter.py --recipients 1000,10000 --record

For each size: a throwaway PostgreSQL database, that many verified readers who
chose the digest (one in ten a subscriber, so both bodies — full text and
teaser — are sent), a day's stories; then `manage.py send_newsletter` in its own
process, as cron runs it, against aiosmtpd on a free loopback port (in this
process, so it shares the 2 CPUs with the sender and PostgreSQL). Reports the
time to create the send and its delivery rows, emails per second while sending,
and the sender's peak memory (ru_maxrss of that process): it must stay flat as
the recipients grow — rows are streamed and claimed one at a time, and each
distinct body is rendered once. `--record` appends the table to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import PY, ROOT, manage, psql, publish, site_env
from tests.smtp_server import smtp_server

SEED = """
import datetime
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from allauth.account.models import EmailAddress
from articles.models import Article, Author, Category
from newsletter.models import Preference
from subscriptions.models import ComplimentaryAccess

N = {n}
now = timezone.now()
User = get_user_model()
password = make_password(None)
for start in range(0, N, 2000):
    users = User.objects.bulk_create(
        User(username=f"r{{i}}", email=f"r{{i}}@bench.example", password=password)
        for i in range(start, min(N, start + 2000))
    )
    EmailAddress.objects.bulk_create(EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users)
    Preference.objects.bulk_create(Preference(user=u, digest=True) for u in users)
    ComplimentaryAccess.objects.bulk_create(
        ComplimentaryAccess(user=u, until=now + datetime.timedelta(days=30), note="bench") for u in users[::10]
    )
category = Category.objects.create(name="News", slug="news")
author = Author.objects.create(name="A Writer", slug="a-writer")
body = "\\n\\n".join(f"Paragraph {{p}} of a story long enough to look like one. " * 6 for p in range(12))
for s in range(6):
    a = Article.objects.create(
        title=f"Story {{s}} of the day", slug=f"story-{{s}}", standfirst="A summary line for the digest.",
        body=body, category=category, access=Article.Access.METERED, status=Article.Status.PUBLISHED,
        publish_at=now - datetime.timedelta(minutes=120 + s),
    )
    a.authors.add(author)
"""

SCHEDULE = "from newsletter import sending; [s] = sending.schedule(); print(s.deliveries.count())"


def run_size(n: int, senders: int) -> dict:
    db = f"bench_newsletter_{os.getpid()}_{n}"
    with smtp_server(keep=False) as (recorder, port):
        env = site_env(
            db,
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(port),
            EMAIL_USE_TLS="0",
            TIME_ZONE="UTC",
            NEWSLETTER_DAILY_HOUR=str(datetime.now(UTC).hour),  # the digest is due now
            REDIS_URL="",
        )
        psql(f"CREATE DATABASE {db}")
        try:
            manage(env, "migrate", "--noinput", "-v0")
            manage(env, "shell", "-v0", "-c", SEED.format(n=n))
            started = time.perf_counter()
            recipients = int(manage(env, "shell", "-v0", "-c", SCHEDULE).strip())
            scheduled = time.perf_counter() - started
            started = time.perf_counter()
            processes = [
                subprocess.Popen(
                    [PY, "manage.py", "send_newsletter", "--no-progress"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )  # fmt: skip
                for _ in range(senders)
            ]
            peak_kb = 0
            for sender in processes:
                _, status, usage = os.wait4(sender.pid, 0)  # this process's own peak, not all children's
                peak_kb = max(peak_kb, usage.ru_maxrss)
                sender.returncode = os.waitstatus_to_exitcode(status)
                if sender.returncode != 0:
                    raise SystemExit(f"send_newsletter failed: {sender.stderr.read().decode()}")
            seconds = time.perf_counter() - started
        finally:
            psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        return {
            "n": n,
            "recipients": recipients,
            "received": recorder.count,
            "schedule_s": scheduled,
            "send_s": seconds,
            "rate": recorder.count / seconds,
            "peak_mb": peak_kb / 1024,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", default="1000,10000", help="comma-separated sizes")
    parser.add_argument("--senders", type=int, default=1, help="send_newsletter processes at once")
    parser.add_argument("--record", action="store_true", help="append the results to bench/RESULTS.md")
    args = parser.parse_args()
    sizes = [int(s) for s in args.recipients.split(",")]
    rows = [run_size(n, args.senders) for n in sizes]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    pg = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "show server_version"],
                        capture_output=True, text=True).stdout.strip()  # fmt: skip
    lines = [
        f"## Newsletter send — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `.venv/bin/python bench/newsletter.py --recipients {args.recipients} --senders {args.senders}"
        f"{' --record' if args.record else ''}`  ",
        f"Commit: `{commit.strip()}`  ",
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, PostgreSQL {pg}; aiosmtpd in the "
        "benchmark's process on loopback (it competes with the sender and PostgreSQL for CPU); entitlement cache: "
        f"the file cache (no Redis); {args.senders} sender process(es) at once; peak RSS is the largest sender's.",
        "",
        "| Recipients | Emails received | Make the send (s) | Sending (s) | Emails/s | Sender peak RSS (MB) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['recipients']:,} | {r['received']:,} | {r['schedule_s']:.1f} | {r['send_s']:.1f} "
            f"| **{r['rate']:.0f}** | **{r['peak_mb']:.0f}** |"
        )
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        lines += [
            "",
            f"{last['n'] // first['n']}× the recipients: peak memory ×{last['peak_mb'] / first['peak_mb']:.2f}, "
            f"emails/s ×{last['rate'] / first['rate']:.2f}.",
        ]
    ok = all(r["received"] == r["recipients"] for r in rows)
    if not ok:
        lines += ["", "**Not every recipient received the email.**"]
    publish("\n".join(lines) + "\n", record=args.record)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
