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
import http.client
import os
import random
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(sql: str) -> None:
    subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c", sql], check=True)


def get(port: int, path: str, timeout: float = 5.0) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": "127.0.0.1"})
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return 599  # connection refused/reset: counts as a server error
    finally:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--restart-at", type=float, default=8)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()

    db = f"newsroom_fault_{os.getpid()}"
    port = free_port()
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "SECURE_HSTS_SECONDS": "0",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db}",
        "FREE_ARTICLES_PER_IP_PER_DAY": "0",
        "MEDIA_ROOT": f"/tmp/{db}-media",
        "CACHE_DIR": f"/tmp/{db}-cache",
    }
    psql(f"CREATE DATABASE {db}")
    server = None
    try:
        for cmd in (["migrate", "--noinput", "-v0"], ["collectstatic", "--noinput", "-v0"], ["seed_demo"]):
            subprocess.run([PY, "manage.py", *cmd], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        server = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "newsroom.wsgi", "-b", f"127.0.0.1:{port}", "-w", "3",
             "--timeout", "30", "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        for _ in range(100):
            if get(port, "/healthz") == 200:
                break
            time.sleep(0.1)
        home = http.client.HTTPConnection("127.0.0.1", port)
        home.request("GET", "/", headers={"Host": "127.0.0.1"})
        slugs = sorted(set(re.findall(r'href="/([a-z0-9-]{20,})/"', home.getresponse().read().decode())))
        paths = ["/", "/healthz"] + [f"/{s}/" for s in slugs[:20]]

        results: list[tuple[float, int]] = []
        lock = threading.Lock()
        start = time.monotonic()
        stop_at = start + args.seconds

        def reader() -> None:
            rng = random.Random()
            while time.monotonic() < stop_at:
                status = get(port, rng.choice(paths))
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
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        for _ in range(50):
            if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"]).returncode == 0:
                break
            time.sleep(0.2)
        psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")

    results.sort()
    bad = [(t, s) for t, s in results if s >= 500]
    last_bad = max((t for t, _ in bad), default=restart_t)
    recovery = max(0.0, last_bad - restart_t)
    before = sum(1 for t, s in bad if t < restart_t)
    after_recovery = sum(1 for t, s in bad if t > restart_t + 5)
    summary = (
        f"requests: {len(results)} in {args.seconds:.0f} s with {args.threads} threads; "
        f"PostgreSQL restart at {restart_t:.1f} s took {restarted_t - restart_t:.1f} s; "
        f"5xx before: {before}, during/after: {len(bad) - before}, later than 5 s after the restart: {after_recovery}; "
        f"recovered {recovery:.1f} s after the restart began"
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
    return 0 if before == 0 and after_recovery == 0 and recovery <= 5 else 1


if __name__ == "__main__":
    sys.exit(main())
