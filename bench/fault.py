"""Fault test: restart PostgreSQL in the middle of a load and measure recovery.

    .venv/bin/python bench/fault.py [--seconds 30] [--threads 16] [--restart-at 8]

Loopback only, bounded in time. It creates a throwaway database, migrates and
seeds it, starts gunicorn on a free port, and runs reader threads (anonymous
article reads, the home page, /healthz) while `pg_ctlcluster ... restart`
runs once. It reports 5xx responses before, during and after the restart, and
the recovery time: from the restart until the first moment after which every
response is good. Expected: recovery within 5 s, no 5xx afterwards.
Results are appended to bench/RESULTS.md when --record is given.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, request, running_site


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--restart-at", type=float, default=8)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()

    results: list[tuple[float, int]] = []
    lock = threading.Lock()
    # The 5xx during the restart are counted here; their tracebacks would bury the CI log.
    settings = {"FREE_ARTICLES_PER_IP_PER_DAY": "0", "LOG_LEVEL": "CRITICAL"}
    with running_site(f"newsroom_fault_{os.getpid()}", workers=3, threads=4, **settings) as (port, _env):
        home = request(port, "GET", "/")[2].decode()
        slugs = sorted(set(re.findall(r'href="/([a-z0-9-]{20,})/"', home)))
        paths = ["/", "/healthz"] + [f"/{s}/" for s in slugs[:20]]
        start = time.monotonic()
        stop_at = start + args.seconds

        def reader() -> None:
            rng = random.Random()
            while time.monotonic() < stop_at:
                status = request(port, "GET", rng.choice(paths), timeout=10)[0]
                with lock:
                    results.append((time.monotonic() - start, status))

        threads = [threading.Thread(target=reader) for _ in range(args.threads)]
        for t in threads:
            t.start()
        time.sleep(args.restart_at)
        restart_t = time.monotonic() - start
        version = subprocess.run(["ls", "/etc/postgresql"], capture_output=True, text=True).stdout.split()[0]
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True)
        restarted_t = time.monotonic() - start
        for t in threads:
            t.join()

    results.sort()
    bad = [(t, s) for t, s in results if s >= 500]
    last_bad = max((t for t, _ in bad), default=restart_t)
    recovery = max(0.0, last_bad - restart_t)
    before = sum(1 for t, _ in bad if t < restart_t)
    late = sum(1 for t, _ in bad if t > restart_t + 5)
    summary = (
        f"requests: {len(results)} in {args.seconds:.0f} s with {args.threads} threads; "
        f"PostgreSQL restart at {restart_t:.1f} s took {restarted_t - restart_t:.1f} s; "
        f"5xx before it: {before}, during/after it: {len(bad) - before}, later than 5 s after it began: {late}; "
        f"last 5xx {recovery:.1f} s after the restart began"
    )
    print(summary)
    if args.record:
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        command = (
            f".venv/bin/python bench/fault.py --seconds {args.seconds:.0f} --threads {args.threads} "
            f"--restart-at {args.restart_at:.0f} --record"
        )
        with open(ROOT / "bench" / "RESULTS.md", "a") as fh:
            fh.write(f"\n## Fault: PostgreSQL restart under load\n\nCommand: `{command}` ({when})\n\n{summary}.\n")
    return 0 if before == 0 and late == 0 and recovery <= 5 else 1


if __name__ == "__main__":
    sys.exit(main())
