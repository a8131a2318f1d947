"""Stripe over real HTTP for the billing tests.

A real localstripe process on a free loopback port, and our own fake
(tests/stripe_fake.py) in front of it for Prices, Checkout, Billing Portal and
the subscription lifecycle. The stripe library is configured only through
settings (STRIPE_API_BASE); nothing in it is patched.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from tests.stripe_fake import StripeFake

WEBHOOK_SECRET = "whsec_test_ledger_" + "x" * 16
SECRET_KEY = "sk_test_ledger_local"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def localstripe() -> Iterator[str]:
    port = _free_port()
    # localstripe's own aiohttp app, bound to loopback only (its CLI binds every interface).
    code = ("import sys; from aiohttp import web; from localstripe.server import app; "
            "web.run_app(app, host='127.0.0.1', port=int(sys.argv[1]), print=None, access_log=None)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(urllib.request.Request(base + "/_config/data", method="DELETE"), timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError("localstripe did not start")
    yield base
    proc.terminate()
    proc.wait(5)


@pytest.fixture(scope="session")
def stripe_fake(localstripe: str) -> Iterator[StripeFake]:
    fake = StripeFake(localstripe).start()
    yield fake
    fake.stop()


@pytest.fixture
def plans(db) -> None:
    """The plans migration 0002 makes; a transactional test elsewhere may have flushed them."""
    from importlib import import_module

    from django.apps import apps as django_apps

    import_module("subscriptions.migrations.0002_default_plans").create_plans(django_apps, None)
    import_module("subscriptions.migrations.0006_plan_interval_count_and_price_history").bill_weekly_every_four_weeks(
        django_apps, None
    )


@pytest.fixture
def stripe_env(stripe_fake: StripeFake, settings, plans):
    """Stripe configured against the fakes, with our plans synced to prices."""
    from subscriptions import billing

    stripe_fake.reset()
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_ledger_local"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = stripe_fake.base
    # As newsroom/settings.py does for a STRIPE_API_BASE in the environment: forms may be
    # redirected to the fake's Checkout and portal pages (CSP form-action).
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"].append(stripe_fake.base)
    settings.CONTENT_SECURITY_POLICY = policy
    billing.sync_plans()
    return stripe_fake


def sign(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """Stripe's scheme: t=<unix>,v1=HMAC-SHA256(secret, "<t>.<payload>")."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def event_json(event_type: str, obj: dict, event_id: str | None = None) -> str:
    return json.dumps({
        "id": event_id or "evt_" + secrets.token_hex(10),
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": int(time.time()),
        "livemode": False,
        "type": event_type,
        "data": {"object": obj},
    })


def deliver(client, event_type: str, obj: dict, event_id: str | None = None):
    payload = event_json(event_type, obj, event_id)
    return client.post("/stripe/webhook/", data=payload, content_type="application/json",
                       HTTP_STRIPE_SIGNATURE=sign(payload))


def customer_for_new_user(user) -> str:
    from subscriptions import billing

    return billing.customer_for(user)


def pay_at_checkout(fake: StripeFake, plan: str = "weekly", *, trial: bool = False, user=None):
    """A verified reader pays on Checkout through the site (no trial unless asked); Stripe's
    events wait in `fake.events`, undelivered. Returns (user, their logged-in client, subscription)."""
    from django.test import Client

    from subscriptions.models import Plan
    from tests.conftest import make_user

    if not trial:
        Plan.objects.update(trial_days=0)
    user = user or make_user()
    reader = Client()
    reader.force_login(user)
    location = reader.post("/subscribe/checkout/", {"plan": plan})["Location"]
    session = next(s for s in fake.sessions.values() if s["url"] == location)
    return user, reader, fake.complete_checkout(session["id"])
