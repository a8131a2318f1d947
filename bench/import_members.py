"""import_members on a generated Ghost members export, into a throwaway database.

    .venv/bin/python bench/import_members.py --members 5000,50000 --record

For each size: a fresh PostgreSQL database (migrated), a Ghost members CSV of that
many members written to /tmp (seven in ten take the emails, one in five pays with a
Stripe customer id, one in ten is comped, a third carry labels, names with
accents), then `manage.py import_members --from ghost` in its own process, twice:
the import, and the second run that must change nothing. Reports the time, members
per second and the importer's peak memory (ru_maxrss of that process): it must stay
flat as the file grows, since the file is streamed and the database read a batch
at a time. The cache is Redis (as in production: each new account retires its
cached entitlement there), under a key prefix of its own, removed afterwards.
`--record` appends the table to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import PY, ROOT, forget_redis_keys, git_commit, load_average, manage, psql, publish, site_env

HEADER = [
    "id", "email", "name", "note", "subscribed_to_emails", "complimentary_plan", "stripe_customer_id",
    "created_at", "deleted_at", "labels", "tiers",
]  # fmt: skip
FIRST = ["Ana", "Björn", "Chloé", "Dmitri", "Eun-ji", "François", "Grace", "Hamid", "Inès", "José"]
LAST = ["Álvarez", "Brown", "Černý", "Dubois", "Eriksen", "Fischer", "García", "Håkansson", "Ibáñez", "Jones"]
LABELS = ["VIP", "Press", "Founding member", "Events", "Local"]


def write_ghost_csv(path: Path, n: int) -> None:
    rng = random.Random(n)
    start = datetime(2018, 1, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for i in range(n):
            pays = rng.random() < 0.2
            writer.writerow([
                f"ghost{i:07d}", f"member{i}@bench.example", f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                "", "true" if rng.random() < 0.7 else "false", "true" if rng.random() < 0.1 else "false",
                f"cus_bench{i:07d}" if pays else "",
                (start + timedelta(minutes=rng.randrange(3_000_000))).isoformat().replace("+00:00", ".000Z"),
                "", ", ".join(rng.sample(LABELS, 2)) if rng.random() < 0.33 else "", "Gold" if pays else "",
            ])  # fmt: skip


def run_child(env: dict[str, str], path: Path) -> tuple[float, int, str]:
    started = time.perf_counter()
    with open(os.devnull, "w") as devnull, open(f"{path}.out", "w") as out:
        proc = subprocess.Popen(
            [PY, "manage.py", "import_members", "--from", "ghost", str(path), "--no-progress"],
            cwd=ROOT, env=env, stdout=out, stderr=devnull,
        )  # fmt: skip
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak, not all children's
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = Path(f"{path}.out").read_text().strip().splitlines()
    if proc.returncode != 0:
        raise SystemExit(f"import_members failed ({proc.returncode}): {lines[-5:]}")
    return seconds, usage.ru_maxrss, lines[-1]


def run_size(n: int, redis_url: str) -> dict:
    db = f"bench_members_{os.getpid()}_{n}"
    prefix = f"bench-members-{os.getpid()}-{n}"
    env = site_env(db, REDIS_URL=redis_url, CACHE_KEY_PREFIX=prefix)
    path = Path(f"/tmp/{db}.csv")
    write_ghost_csv(path, n)
    psql(f"CREATE DATABASE {db}")
    try:
        manage(env, "migrate", "--noinput", "-v0")
        first = run_child(env, path)
        second = run_child(env, path)
    finally:
        psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        forget_redis_keys(env)
        path.unlink(missing_ok=True)
        Path(f"{path}.out").unlink(missing_ok=True)
    return {"n": n, "first": first, "second": second}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", default="5000,50000", help="comma-separated sizes")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="the Redis the cache uses")
    parser.add_argument("--record", action="store_true", help="append the results to bench/RESULTS.md")
    args = parser.parse_args()
    sizes = [int(s) for s in args.members.split(",")]
    rows = [run_size(n, args.redis) for n in sizes]
    pg = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "show server_version"],
                        capture_output=True, text=True).stdout.strip()  # fmt: skip
    lines = [
        f"## Member import — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `.venv/bin/python bench/import_members.py --members {args.members}"
        f"{' --record' if args.record else ''}`  ",
        f"Commit: `{git_commit()}`  ",
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, PostgreSQL {pg}, Redis cache on "
        f"loopback; load average before: {load_average()}. One `import_members --from ghost` process on a "
        "generated Ghost export (each member in its own transaction); peak RSS is that process's ru_maxrss.",
        "",
        "| Members | Import s | Members/s | Peak RSS MB | Second run s | Second run peak MB | Second run says |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        (s1, rss1, _), (s2, rss2, said) = row["first"], row["second"]
        lines.append(
            f"| {row['n']:,} | {s1:.1f} | {row['n'] / s1:,.0f} | {rss1 / 1024:.0f} | {s2:.1f} | {rss2 / 1024:.0f} "
            f"| {said.split(': ', 1)[-1][:60]}… |"
        )
    publish("\n".join(lines) + "\n", record=args.record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
