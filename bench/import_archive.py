"""The archive import at newsroom size: time and the importer's peak memory.

    .venv/bin/python bench/import_archive.py --sizes 10000,100000 [--record]

For each size: a WordPress export (WXR) of that many stories is written to a
temporary folder (five paragraphs each, a section from twelve, two topics from
forty, an author from twenty, every tenth story behind a paywall marker), a
throwaway database is created and migrated, and `manage.py import_archive`
runs in a child process twice: the import, then the same export again (every
story unchanged). The child's peak resident memory comes from os.wait4 (its own
rusage, not the benchmark's). The database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PY, ROOT, forget_redis_keys, git_commit, load_average, manage, psql, publish, site_env

WORDS = (
    "council vote record invoice harbor grid ledger warrant tender deadline engineer nurse pilot inspector freight "
    "levee reservoir broadband substation permit subsidy backlog procurement testimony hearing auditor ordinance"
).split()


def paragraph(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(60)).capitalize() + "."


def write_wxr(path: Path, n: int, seed: int = 1) -> None:
    """A WXR of n posts, written as it is generated (the benchmark itself stays small too)."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
            "<title>Bench Gazette</title><wp:wxr_version>1.2</wp:wxr_version>\n"
        )
        for a in range(20):
            fh.write(
                f"<wp:author><wp:author_login>writer{a}</wp:author_login>"
                f"<wp:author_email>writer{a}@old.example</wp:author_email>"
                f"<wp:author_display_name>Writer {a}</wp:author_display_name></wp:author>\n"
            )
        for i in range(1, n + 1):
            paras = [f"<p>{escape(paragraph(rng))}</p>" for _ in range(5)]
            if i % 10 == 0:
                paras.insert(2, "<!-- paywall -->")
            date = f"20{10 + i % 14:02d}-{1 + i % 12:02d}-{1 + i % 28:02d} 10:00:00"
            tags = "".join(
                f'<category domain="post_tag" nicename="topic-{t}"><![CDATA[Topic {t}]]></category>'
                for t in rng.sample(range(40), 2)
            )
            fh.write(
                f"<item><title>Story {i}: {escape(' '.join(rng.sample(WORDS, 5)))}</title>"
                f"<link>https://old.example/{date[:10].replace('-', '/')}/story-{i}/</link>"
                f"<dc:creator>writer{i % 20}</dc:creator>"
                f"<content:encoded><![CDATA[{''.join(paras)}]]></content:encoded>"
                f"<excerpt:encoded><![CDATA[{escape(paragraph(rng)[:200])}]]></excerpt:encoded>"
                f"<wp:post_id>{i}</wp:post_id><wp:post_date_gmt>{date}</wp:post_date_gmt>"
                f"<wp:post_name>story-{i}</wp:post_name><wp:status>publish</wp:status>"
                f"<wp:post_type>post</wp:post_type>"
                f'<category domain="category" nicename="section-{i % 12}"><![CDATA[Section {i % 12}]]></category>'
                f"{tags}</item>\n"
            )
        fh.write("</channel>\n</rss>\n")


def timed(env: dict, *args: str) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, last line of output) of one manage.py run in a child process."""
    started = time.monotonic()
    child = subprocess.Popen([PY, "manage.py", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed ({child.returncode}):\n{output[-2000:]}")
    return time.monotonic() - started, usage.ru_maxrss / 1024, output.strip().splitlines()[-1]


def measure(n: int, folder: Path) -> dict:
    export = folder / f"wxr-{n}.xml"
    write_wxr(export, n)
    db = f"newsroom_bench_import_{os.getpid()}_{n}"
    env = site_env(db, REDIS_URL="redis://127.0.0.1:6379/0", CACHE_KEY_PREFIX=db)
    psql(f"CREATE DATABASE {db}")
    try:
        manage(env, "migrate", "--noinput", "-v0")
        command = ("import_archive", "--from", "wordpress", str(export), "--no-progress")
        first = timed(env, *command)
        again = timed(env, *command)
    finally:
        psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        forget_redis_keys(env)  # the import retires cached versions under the run's prefix
    return {"n": n, "mb": export.stat().st_size / 1e6, "first": first, "again": again}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        for n in [int(s) for s in args.sizes.split(",") if s]:
            rows.append(measure(n, Path(folder)))
            print(rows[-1], file=sys.stderr)
    lines = [
        f"## Archive import — {time.strftime('%Y-%m-%d %H:%M %Z')}", "",
        f"Command: `.venv/bin/python bench/import_archive.py --sizes {args.sizes}"
        f"{' --record' if args.record else ''}`  ",
        f"Commit: `{git_commit()}`; load average at the end: {load_average()} "
        f"({os.cpu_count()} CPUs, shared with other developers' test runs)", "",
        "`manage.py import_archive --from wordpress` into an empty, migrated database (PostgreSQL, page cache in "
        "Redis), then the same export again. Peak memory is the importer process's own maximum RSS (os.wait4).", "",
        "| Stories | WXR size | Import: time | stories/s | peak RSS | Second run (all unchanged): time | peak RSS |",
        "|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for r in rows:
        (t1, m1, _), (t2, m2, _) = r["first"], r["again"]
        lines.append(f"| {r['n']:,} | {r['mb']:.0f} MB | {t1:.0f} s | {r['n'] / t1:.0f} | **{m1:.0f} MB** "
                     f"| {t2:.0f} s | {m2:.0f} MB |")  # fmt: skip
    lines += [""] + [f"- {r['n']:,}: `{r['first'][2]}`" for r in rows]
    publish("\n".join(lines) + "\n", record=args.record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
