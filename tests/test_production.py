"""Production serving: the health check and the JSON log switch."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_healthz_round_trips_to_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get("/healthz", secure=True)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def _log_line(log_format: str) -> str:
    env = {**os.environ, "LOG_FORMAT": log_format, "DJANGO_SETTINGS_MODULE": "newsroom.settings", "DEBUG": "1"}
    code = "import django, logging; django.setup(); logging.getLogger('newsroom.test').warning('paywall \"shown\"')"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return result.stderr.strip().splitlines()[-1]


def test_json_log_format_writes_one_json_object_per_line():
    record = json.loads(_log_line("json"))
    assert record["message"] == 'paywall "shown"'
    assert record["level"] == "WARNING"
    assert record["logger"] == "newsroom.test"
    assert "time" in record


def test_plain_log_format_is_for_people():
    line = _log_line("plain")
    assert "WARNING newsroom.test paywall" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)
