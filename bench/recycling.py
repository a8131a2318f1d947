"""Benchmark: what recycling gunicorn's workers costs, with the site preloaded and without.

    .venv/bin/python bench/recycling.py [--max-requests 500] [--seconds 10] [--rounds 3] [--record]

On loopback only: the demo newsroom served with the production gunicorn.conf.py, as
bench/run.py serves it, twice on one database — GUNICORN_PRELOAD=1 (the default: the
master loads the site and forks its workers) and GUNICORN_PRELOAD=0 (each worker imports
Django itself) — with workers recycled every --max-requests requests (production: 5000;
fewer makes the cost of one recycle stand out from the shared machine's noise). The two
servers take turns, round by round; each serves new anonymous readers' kept article
pages and the same-size minimal view. Prints a Markdown section; --record appends it to
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import LOGIN_SESSION, git_commit, load_average, manage, publish, running_site, serving
from run import SETUP, site_settings, wrk

ARMS = {"preloaded (GUNICORN_PRELOAD=1)": "1", "each worker imports (GUNICORN_PRELOAD=0)": "0"}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-requests", type=int, default=500, help="GUNICORN_MAX_REQUESTS for both servers")
    parser.add_argument("--seconds", type=float, default=10, help="per reader, per server, per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()

    db = f"newsroom_recycling_{os.getpid()}"
    extra = site_settings(db)  # bench/run.py's site
    results: dict[tuple[str, str], list[dict]] = {}
    errors = 0
    with running_site(db, production_conf=True, **extra) as (_port, env):
        data = json.loads(manage(env, "shell", "-c", LOGIN_SESSION + SETUP).strip().splitlines()[-1])
        paths = [f"/{slug}/" for slug in data["metered"]]
        readers = {"new anonymous readers": paths, "minimal view, 24 kB": ["/_bench/minimal/24000/"]}
        for _ in range(args.rounds):
            for arm, preload in ARMS.items():
                arm_env = env | {"GUNICORN_PRELOAD": preload, "GUNICORN_MAX_REQUESTS": str(args.max_requests)}
                with serving(arm_env, production_conf=True) as (port, _server):
                    for reader, reader_paths in readers.items():
                        wrk(port, reader_paths, seconds=2, connections=args.connections, rotate_ip=True)  # warm
                        result = wrk(port, reader_paths, seconds=args.seconds, connections=args.connections,
                                     rotate_ip=True)  # fmt: skip
                        errors += result["errors"]
                        results.setdefault((arm, reader), []).append(result)

    lines = [
        f"## Recycling workers, preloaded or not — {git_commit()}",
        "",
        f"`bench/recycling.py --max-requests {args.max_requests} --seconds {args.seconds:g} --rounds {args.rounds}`; "
        f"load average {load_average()}; {errors} non-2xx/3xx answers. Median of the rounds; each round's own figures "
        "in brackets.",
        "",
        "| Server | Reader | req/s | p99 ms |",
        "|---|---|---|---|",
    ]
    for (arm, reader), done in results.items():
        rps, p99 = [r["rps"] for r in done], [r["p99"] for r in done]
        lines.append(f"| {arm} | {reader} | **{statistics.median(rps):.0f}** ({', '.join(f'{x:.0f}' for x in rps)}) "
                     f"| {statistics.median(p99):.0f} ({', '.join(f'{x:.0f}' for x in p99)}) |")  # fmt: skip
    publish("\n".join(lines) + "\n", record=args.record)
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
