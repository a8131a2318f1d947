"""A short run of bench/load.py in CI: gunicorn + PostgreSQL on loopback,
anonymous readers, commenting subscribers and webhook redeliveries at once.
The script checks the database afterwards (no 5xx, comments exactly once,
meters exact and within the limit, one webhook event row) and exits non-zero
otherwise. The full-size run (200 users, 60 s) is recorded in bench/RESULTS.md."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.load


def test_mixed_load_serves_no_errors_and_keeps_every_count_exact() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "load.py"), "--users", "60", "--seconds", "15"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = run.stdout[run.stdout.find("{") :]
    assert run.returncode == 0, report + run.stderr[-3000:]
    assert '"5xx": 0' in report
    assert '"comments_exactly_once": true' in report
    assert '"meter_mismatches": 0' in report
