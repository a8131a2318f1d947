"""Production serving: the health check and the JSON log switch."""

import json
import os
import secrets
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


@pytest.mark.django_db(transaction=True)
def test_the_health_check_notices_a_connection_the_server_ended():
    """CONN_HEALTH_CHECKS: a connection the server has ended (as on a restart)
    fails the check, so Django reconnects before use."""
    import time

    import psycopg2
    from django.db import connection

    connection.ensure_connection()
    assert connection.is_usable()
    pid = connection.connection.get_backend_pid()
    settings = connection.settings_dict
    admin = psycopg2.connect(host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"],
                             dbname="postgres")  # fmt: skip
    try:
        admin.autocommit = True
        admin.cursor().execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        admin.close()
    for _ in range(50):  # the goodbye reaches our socket a moment later
        if not connection.is_usable():
            break
        time.sleep(0.05)
    assert not connection.is_usable()
    # A new request's first query: Django runs the check, drops the dead connection, opens a new one.
    connection.health_check_done = False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def _check_deploy(site_url: str, **extra: str) -> subprocess.CompletedProcess:
    """`manage.py check --deploy --fail-level WARNING`, as scripts/serve-prod runs it."""
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "news.example.org"}
    env.pop("TRUSTED_PROXY_COUNT", None)
    env |= {"SITE_URL": site_url, "TRUSTED_PROXIES": "127.0.0.1", **extra}
    if not site_url:
        del env["SITE_URL"]  # the development default
    command = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)


@pytest.mark.parametrize(
    ("site_url", "refused"),
    [
        ("", "newsroom.W001"),  # the development default, http://127.0.0.1:8000
        ("https://elsewhere.example.org", "newsroom.W001"),
        ("http://news.example.org", "newsroom.W002"),
        ("https://news.example.org", None),
    ],
)
def test_production_refuses_to_start_with_a_site_url_readers_cannot_use(site_url, refused):
    result = _check_deploy(site_url)
    if refused:
        assert result.returncode != 0 and refused in result.stderr
    else:
        assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("extra", "refused"),
    [
        ({"TRUSTED_PROXIES": ""}, "newsroom.W004"),  # every reader would share nginx's address
        ({"TRUSTED_PROXY_COUNT": "1"}, "newsroom.W003"),  # an upgrade still set up the old way
        ({"TRUSTED_PROXIES": "127.0.0.1,::1,10.0.0.0/24"}, None),
    ],
)
def test_production_refuses_to_start_without_naming_its_proxies(extra, refused):
    result = _check_deploy("https://news.example.org", **extra)
    if refused:
        assert result.returncode != 0 and refused in result.stderr
    else:
        assert result.returncode == 0, result.stderr
