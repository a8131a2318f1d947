"""Benchmark: reading while the newsroom edits.

    .venv/bin/python bench/editing.py [--seconds 5] [--rounds 2] [--connections 16] [--record]

On loopback only: the demo newsroom served by gunicorn with the production
gunicorn.conf.py and Redis, as bench/run.py serves it. Three readers are measured
with wrk — new anonymous readers (a new reader and address every request), a
logged-in subscriber, and the home page — in three phases:

  quiet      nobody edits;
  drafts     a separate process saves a draft every 0.5 s;
  published  a separate process saves a published story that none of the readers
             reads every 2 s (an old one: not in any "More from" cards).

One editor process runs the whole time (started and warmed before anything is
measured) and is told on its standard input what to save, or to rest: switching
phases costs nothing, and the quiet phase has the same processes as the others.
Each round measures each reader in its three phases back to back (their order
turning round by round), so a phase is compared with a quiet phase of the same
reader seconds away, and a neighbour's burst of load on the shared machine hits
each alike. Each phase's requests/s are given as a ratio to the quiet phase's,
with p99 latencies.
Prints a Markdown section; --record appends it to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import LOGIN_SESSION, PY, ROOT, git_commit, load_average, manage, publish, running_site
from run import LIMIT, SETUP, wrk

# The editor: told on its standard input "<slug> <seconds>" saves that story every that
# many seconds (saying "saving" after the first save), "rest" stops saving (saying
# "resting"), until its input closes.
EDITOR = """
import sys, threading, time
from django.utils import timezone
from articles.models import Article
told = [0, None]  # how many times told, and what: [slug, seconds], None to rest, "stop"
def listen():
    for line in sys.stdin:
        told[:] = [told[0] + 1, line.split() if line.strip() != "rest" else None]
        if told[1] is None:
            print("resting", flush=True)
    told[:] = [told[0] + 1, "stop"]
threading.Thread(target=listen, daemon=True).start()
heard, n = 0, 0
while told[1] != "stop":
    seq, now = told
    if now is None:
        time.sleep(0.01)
        continue
    if seq != heard:
        story, every = Article.objects.get(slug=now[0]), float(now[1])
    n += 1
    story.standfirst = f"Edited {n} times at {timezone.now():%H:%M:%S}."
    story.save()
    if seq != heard:
        heard = seq
        print("saving", flush=True)  # the bench measures from here
    time.sleep(every)
"""

PICK = """
import json
from django.utils import timezone
from articles.models import Article, Category
draft = Article.objects.create(title="A draft being written", slug="a-draft-being-written", standfirst="Draft.",
                               body="Words.", category=Category.objects.first(), status=Article.Status.DRAFT,
                               publish_at=timezone.now())
old = Article.objects.published().exclude(slug__in=%(read)r).order_by("publish_at").first()
print(json.dumps({"draft": draft.slug, "old": old.slug}))
"""


class Editor:
    """The editor's process (EDITOR): started once, told what to save for each phase."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [PY, "manage.py", "shell", "-c", EDITOR], cwd=ROOT, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip

    def tell(self, editing: tuple[str, float] | None) -> None:
        """Save `editing` ((slug, every seconds)) from now on, or nothing; returns once it does."""
        self.process.stdin.write(f"{editing[0]} {editing[1]}\n" if editing else "rest\n")
        self.process.stdin.flush()
        expected = "saving" if editing else "resting"
        for line in self.process.stdout:  # manage.py may say something first
            if line.strip() == expected:
                return
        raise RuntimeError(f"the editor's process stopped (exit code {self.process.wait()})")

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5, help="per reader, per phase, per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()

    db = f"newsroom_editing_{os.getpid()}"
    extra = {
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "CACHE_KEY_PREFIX": db,
        "FREE_ARTICLES_PER_DAY": str(LIMIT),
        "TRUSTED_PROXIES": "127.0.0.1",  # wrk plays the proxy: new readers come from new addresses
    }
    with running_site(db, production_conf=True, **extra) as (port, env):
        data = json.loads(manage(env, "shell", "-c", LOGIN_SESSION + SETUP).strip().splitlines()[-1])
        paths = [f"/{slug}/" for slug in data["metered"]]
        picked = json.loads(manage(env, "shell", "-c", PICK % {"read": data["metered"]}).strip().splitlines()[-1])
        same = {"connections": args.connections}
        readers = {
            "new anonymous readers": functools.partial(wrk, port, paths, rotate_ip=True, **same),
            "subscriber": functools.partial(wrk, port, paths, cookie=f"sessionid={data['session']}", **same),
            "home page": functools.partial(wrk, port, ["/"], **same),
        }
        phases = {"quiet": None, "drafts": (picked["draft"], 0.5), "published": (picked["old"], 2.0)}
        editor = Editor(env)
        try:
            editor.tell(phases["drafts"])  # its first save starts Django (a second of CPU): not measured
            editor.tell(None)
            for run in readers.values():  # warm every worker and the cache
                run(seconds=2)
            results: dict[str, dict[str, list[dict]]] = {p: {r: [] for r in readers} for p in phases}
            errors = 0
            order = list(phases)
            for round_ in range(args.rounds):
                for reader, run in readers.items():
                    for phase in order[round_ % 3 :] + order[: round_ % 3]:
                        editor.tell(phases[phase])
                        result = run(seconds=args.seconds)
                        errors += result["errors"]
                        results[phase][reader].append(result)
        finally:
            editor.close()

    def mean(phase: str, reader: str, what: str) -> float:
        done = results[phase][reader]
        return sum(r[what] for r in done) / len(done)

    def spread(phase: str, reader: str) -> str:
        """The median, lowest and highest of the rounds' own ratios (each round's phase ÷ that
        round's quiet phase of the same reader, measured next to it): how much of a cell is the
        shared machine."""
        ratios = [e["rps"] / q["rps"] for e, q in zip(results[phase][reader], results["quiet"][reader], strict=True)]
        return f"median {statistics.median(ratios):.2f}; {min(ratios):.2f}–{max(ratios):.2f}"

    lines = [
        f"## Reading while editing — {git_commit()}",
        "",
        f"`bench/editing.py --seconds {args.seconds:g} --rounds {args.rounds}`; load average {load_average()}; "
        f"{errors} non-2xx/3xx or timed-out answers. Each ratio is the phase's mean req/s ÷ the quiet phase's, "
        "with the median, lowest and highest of the rounds' own ratios in brackets.",
        "",
        "| Reader | Quiet req/s | p99 ms | Drafts every 0.5 s | p99 ms | Published story every 2 s | p99 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for reader in readers:
        quiet = mean("quiet", reader, "rps")
        cells = [f"{quiet:.0f}", f"{mean('quiet', reader, 'p99'):.0f}"]
        for phase in ("drafts", "published"):
            ratio = f"**{mean(phase, reader, 'rps') / quiet:.2f}×** ({spread(phase, reader)})"
            cells += [ratio, f"{mean(phase, reader, 'p99'):.0f}"]
        lines.append(f"| {reader} | " + " | ".join(cells) + " |")
    publish("\n".join(lines) + "\n", record=args.record)
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
