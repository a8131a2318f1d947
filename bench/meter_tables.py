"""The meter's records at a million reads a day: in Redis (production: memory;
keys expire by themselves) and in the database store's tables (size, and the
daily prune's cost).

    .venv/bin/python bench/meter_tables.py [--reads 1000000] [--record]

Redis: `--reads` reads by reads ÷ 3 readers (three articles each) and their
per-address counters (ten readers an address), written as the meter writes
them; reports the Redis memory they take, then removes them.

In a throwaway database (migrated, demo newsroom): one day past the retention
gets `--reads` meter reads by reads ÷ 3 readers (three articles each, the
default daily allowance) plus their day counters, inserted with SQL. Reports the
two tables' size with indexes per day of reads (× the retention = the steady
state), then runs the prune (subscriptions.meter.prune, in batches) while
another connection keeps taking credits for new readers today through the
database store's transaction, and reports the prune's time and the credit calls'
latency before and during it: the daily job must never hold up the article path.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import git_commit, load_average, manage, publish, running_site

SCRIPT = """
import json, statistics, threading, time
from datetime import timedelta
from django.conf import settings
from django.db import connection
from articles.models import Article
from subscriptions import meter
N = %(reads)d
keep = settings.METER_RETENTION_DAYS
old = meter.today() - timedelta(days=keep + 1)
ids = list(Article.objects.values_list("pk", flat=True))
started = time.monotonic()
with connection.cursor() as c:
    c.execute("INSERT INTO subscriptions_meterread (reader, day, article_id) "
              "SELECT 'a:' || (g / 3), %%s, (%%s::int[])[1 + g %%%% %%s] FROM generate_series(0, %%s - 1) g",
              [old, ids, len(ids), N])
    c.execute("INSERT INTO subscriptions_meterday (reader, day, count) "
              "SELECT 'a:' || r, %%s, 3 FROM generate_series(0, %%s / 3 - 1) r", [old, N])
    c.execute("VACUUM ANALYZE subscriptions_meterread")
    c.execute("VACUUM ANALYZE subscriptions_meterday")
    c.execute("SELECT pg_total_relation_size('subscriptions_meterread'), "
              "pg_total_relation_size('subscriptions_meterday')")
    reads_bytes, days_bytes = c.fetchone()
fill = time.monotonic() - started

def credits(stop, out):
    i = 0
    while not stop.is_set():
        i += 1
        with connection.cursor() as c:
            t = time.perf_counter()
            meter._consume_in_database(f"a:bench-{i}-{time.time_ns()}", f"ip:10.9.{i %% 250}.{i %% 199}",
                                       meter.today(), ids[i %% len(ids)], 3, 0)
            out.append((time.perf_counter() - t) * 1000)
        connection.close()  # a fresh connection each time, as separate workers would have

def run(seconds=None, job=None):
    stop, out = threading.Event(), []
    worker = threading.Thread(target=credits, args=(stop, out))
    worker.start()
    t = time.monotonic()
    removed = job() if job else time.sleep(seconds)
    took = time.monotonic() - t
    stop.set(); worker.join()
    out.sort()
    return took, removed, {"n": len(out), "p50": statistics.median(out), "p99": out[int(len(out) * 0.99) - 1],
                           "max": out[-1]}

from subscriptions import counters
r = counters.client()
used_before = r.info("memory")["used_memory"]
today = meter.today()
pipe = r.pipeline(transaction=False)
for reader in range(N // 3):
    key = meter._key(today, f"a:{reader:032x}")
    pipe.sadd(key, *(ids[(reader * 3 + k) %% len(ids)] for k in range(3))).expire(key, meter._KEEP_SECONDS)
    if reader %% 10 == 0:
        address = meter._key(today, f"ip:10.{reader // 65536 %% 256}.{reader // 256 %% 256}.{reader %% 256}")
        pipe.incrby(address, 30).expire(address, meter._KEEP_SECONDS)
    if reader %% 5000 == 0:
        pipe.execute()
pipe.execute()
redis_bytes = r.info("memory")["used_memory"] - used_before
redis_keys = sum(1 for _ in r.scan_iter(meter._key(today, "*"), count=10000))
for keys in iter(lambda: [k for _, k in zip(range(10000), r.scan_iter(meter._key(today, "*"), count=10000))], []):
    r.delete(*keys)

_, _, before = run(seconds=5)
took, removed, during = run(job=lambda: meter.prune(keep_days=keep))
print(json.dumps({"redis_bytes": redis_bytes, "redis_keys": redis_keys,
                  "reads_bytes": reads_bytes, "days_bytes": days_bytes, "fill": fill, "keep": keep,
                  "prune_seconds": took, "removed": removed, "before": before, "during": during,
                  "batch": meter.PRUNE_BATCH}))
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=1_000_000)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    db = f"newsroom_bench_meter_{os.getpid()}"
    with running_site(db, workers=1, REDIS_URL="redis://127.0.0.1:6379/0", CACHE_KEY_PREFIX=db) as (_port, env):
        out = json.loads(manage(env, "shell", "-c", SCRIPT % {"reads": args.reads}).strip().splitlines()[-1])
    mb = 1024 * 1024
    per_day = (out["reads_bytes"] + out["days_bytes"]) / mb
    b, d = out["before"], out["during"]
    lines = [
        f"## Meter records at {args.reads:,} reads a day — {time.strftime('%Y-%m-%d %H:%M %Z')}", "",
        f"Command: `.venv/bin/python bench/meter_tables.py --reads {args.reads}{' --record' if args.record else ''}`  ",
        f"Commit: `{git_commit()}`; load average at the end {load_average()} "
        f"({os.cpu_count()} CPUs shared with other developers).", "",
        f"- In Redis (what production uses): {out['redis_keys']:,} keys, **{out['redis_bytes'] / mb:.0f} MB** "
        f"of Redis memory for the day; they expire 25 hours after their last write, so about two days' worth "
        f"at most is ever held. No prune.",
        f"- In the database store (no Redis): one day: meter reads {out['reads_bytes'] / mb:.0f} MB "
        f"+ day counters {out['days_bytes'] / mb:.0f} MB "
        f"(tables with indexes) = {per_day:.0f} MB; kept {out['keep']} days (+ today) ≈ "
        f"**{per_day * (out['keep'] + 1) / 1024:.1f} GB** in steady state. Filled with SQL in {out['fill']:.0f} s.",
        f"- Prune of that day ({out['removed']:,} rows, batches of {out['batch']:,}, each its own transaction): "
        f"**{out['prune_seconds']:.1f} s**.",
        f"- Credits for new readers on another connection (the database store), before the prune: "
        f"{b['n']} calls, p50 {b['p50']:.1f} ms, p99 {b['p99']:.1f} ms, max {b['max']:.1f} ms; during it: "
        f"{d['n']} calls, p50 {d['p50']:.1f} ms, p99 {d['p99']:.1f} ms, max {d['max']:.1f} ms.",
    ]  # fmt: skip
    publish("\n".join(lines) + "\n", record=args.record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
