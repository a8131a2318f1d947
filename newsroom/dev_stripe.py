"""A local Stripe for development, so a newcomer can take the whole money path on
their own machine: pick a plan, pass a test Checkout page, come back a subscriber.

It is the strict fake the tests use (tests/stripe_fake.py, in front of a
localstripe process), served on a fixed loopback port, and it delivers Stripe's
events to the development server's webhook with a real signature (the same
HMAC scheme Stripe uses, checked by the real stripe.Webhook.construct_event).
./scripts/dev runs the three steps:

    eval "$(python -m newsroom.dev_stripe env)"    # the keys and address below
    python -m newsroom.dev_stripe serve &           # the fake, until stopped
    python -m newsroom.dev_stripe prepare           # plans synced to its prices

Development only: its address and its keys are refused by `manage.py check
--deploy` (newsroom/checks.py), which scripts/serve-prod runs before starting.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

PORT = 12111  # stripe-mock's port too: one place a developer expects a local Stripe
# Recognisable, and refused by the deploy check (any sk_test_/pk_test_ key is, and so is a loopback base).
SECRET_KEY = "sk_test_local_dev_fake"
PUBLISHABLE_KEY = "pk_test_local_dev_fake"
WEBHOOK_SECRET = "whsec_local_dev_fake"
WEBHOOK_URL = "http://127.0.0.1:8000/stripe/webhook/"


def environment(port: int = PORT) -> dict[str, str]:
    """The settings (as environment variables) that point the site at the local Stripe."""
    return {
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": f"http://127.0.0.1:{port}",
    }


def is_local(url: str) -> bool:
    """Whether a Stripe API base is this machine (a fake), not Stripe."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback or ipaddress.ip_address(host).is_private
    except ValueError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_localstripe() -> tuple[subprocess.Popen, str]:
    port = _free_port()
    # localstripe's own aiohttp app, bound to loopback only (its CLI binds every interface).
    code = (
        "import sys; from aiohttp import web; from localstripe.server import app; "
        "web.run_app(app, host='127.0.0.1', port=int(sys.argv[1]), print=None, access_log=None)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(port)], stdout=subprocess.DEVNULL)  # noqa: S603
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/v1/customers", timeout=1).close()  # noqa: S310 (our loopback URL)
            return proc, base
        except urllib.error.HTTPError:
            return proc, base  # answering (401 without a key): up
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("localstripe did not start: is requirements-dev.txt installed?")


def serve(port: int = PORT, webhook_url: str = WEBHOOK_URL) -> None:
    """Run the local Stripe until SIGTERM or Ctrl+C."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository, for tests.stripe_fake
    from tests.stripe_fake import StripeFake

    localstripe, localstripe_base = _start_localstripe()
    try:
        fake = StripeFake(localstripe_base)
        # The fake binds a free port for the tests; here it must be the one STRIPE_API_BASE names.
        fake.server.server_close()
        fake.server = ThreadingHTTPServer(("127.0.0.1", port), fake._handler())
        fake.base = f"http://127.0.0.1:{port}"
        fake.thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
        fake.webhook_url, fake.webhook_secret = webhook_url, WEBHOOK_SECRET
        fake.start()
        print(f"Local Stripe (test fake) on {fake.base}, webhooks to {webhook_url}", flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        fake.stop()
    finally:
        localstripe.terminate()
        localstripe.wait(5)


def prepare() -> list[str]:
    """Sync the plans to the local Stripe, which starts empty on every run: the price,
    product and customer ids a previous run recorded name nothing there any more."""
    from django.conf import settings
    from django.db import transaction

    from subscriptions import billing
    from subscriptions.models import Plan, StripeCustomer

    if not is_local(settings.STRIPE_API_BASE):  # never forget a real Stripe's ids
        raise SystemExit("prepare is for the local Stripe only (STRIPE_API_BASE on this machine).")
    with transaction.atomic():
        Plan.objects.update(stripe_price_id="", stripe_product_id="")
        StripeCustomer.objects.all().delete()
    return billing.sync_plans()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m newsroom.dev_stripe", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("env", help="print the shell exports that point the site at the local Stripe")
    run = sub.add_parser("serve", help="run the local Stripe")
    run.add_argument("--port", type=int, default=PORT)
    run.add_argument("--webhook-url", default=WEBHOOK_URL)
    sub.add_parser("prepare", help="sync the plans to the local Stripe's prices")
    args = parser.parse_args(argv)
    if args.command == "env":
        print("\n".join(f"export {k}={v}" for k, v in environment().items()))
    elif args.command == "serve":
        serve(args.port, args.webhook_url)
    else:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
        import django

        django.setup()
        for line in prepare():
            print(line)


if __name__ == "__main__":
    main()
