"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py newsroom.wsgi`
(scripts/serve-prod does this after migrating and collecting static files).

Every value can be overridden from the environment, so the same file serves a
small VPS and a bigger app server. See docs/production.md.
"""

import multiprocessing
import os

# Loopback unless told otherwise: only the proxy in front (nginx on this host) may reach
# gunicorn, so the addresses it forwards are the only ones believed (TRUSTED_PROXIES).
bind = os.getenv("BIND", f"127.0.0.1:{os.getenv('PORT', '8000')}")

# Workers from the CPU count (gunicorn's own rule of thumb), threads for the
# time spent waiting on PostgreSQL, Redis and Stripe. Each thread keeps one
# persistent database connection (DB_CONN_MAX_AGE), so PostgreSQL needs
# max_connections >= app servers x workers x threads (+ cron and admin).
workers = int(os.getenv("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "gthread"
threads = int(os.getenv("GUNICORN_THREADS", "2"))

timeout = int(os.getenv("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak can never take a server down.
max_requests = int(os.getenv("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
# The master loads the site once and forks its workers from it, so a recycled worker costs
# a fork, not a second of CPU importing Django again, taken from the workers serving readers
# (bench/recycling.py: recycling every 500 requests, 1.75x the throughput and a seventh of
# the p99; at 5000, within the machine's noise). Safe because nothing connects at import:
# the master holds no database or Redis connection for its workers to share
# (tests/test_gunicorn_conf.py). The price: a reload (HUP) starts workers from the code
# already loaded; a deploy restarts the service.
preload_app = os.getenv("GUNICORN_PRELOAD", "1") != "0"

# Only the proxy in front (nginx on the same host by default) may set X-Forwarded-Proto:
# the proxies Django believes X-Forwarded-For from (TRUSTED_PROXIES), unless set apart.
forwarded_allow_ips = os.getenv("FORWARDED_ALLOW_IPS") or os.getenv("TRUSTED_PROXIES") or "127.0.0.1"

# Logs to stdout/stderr for systemd's journal or the platform's collector.
accesslog = os.getenv("ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.getenv("GUNICORN_LOG_LEVEL", "info")
if os.getenv("LOG_FORMAT", "plain") == "json":
    # gunicorn escapes double quotes in these atoms, so each line is one JSON object.
    access_log_format = (
        '{"time": "%(t)s", "logger": "gunicorn.access", "remote": "%(h)s", "method": "%(m)s", '
        '"path": "%(U)s", "query": "%(q)s", "status": %(s)s, "bytes": "%(B)s", '
        '"duration_ms": %(M)s, "user_agent": "%(a)s"}'
    )
else:
    access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s"'
