"""Load test on loopback: mixed readers, subscribers commenting, webhook redeliveries.

    .venv/bin/python bench/load.py [--users 200] [--seconds 60] [--record]

gunicorn + PostgreSQL with the demo newsroom. Each simulated user is a thread
for the whole run:
  * anonymous readers (70%): own cookie jar, open random articles;
  * subscribers (25%): complimentary access, read and post comments;
  * webhook senders (5%): redeliver one signed `customer.subscription.updated`
    event again and again (a small local Stripe fake answers the re-fetch).
Afterwards it checks, from the database and the meter's Redis: no 5xx was served; every comment the
site acknowledged (redirect to #comment-<id>) exists exactly once and nothing
else was written; every anonymous reader's meter equals the distinct metered
articles it was served in full and never exceeds the limit; the webhook event
was recorded once. Bounded in time; only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import random
import re
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import LOGIN_SESSION, ROOT, free_port, manage, request, running_site

LIMIT = 3
WEBHOOK_SECRET = "whsec_load_test_secret"
SUBSCRIPTION = {
    "id": "sub_load_1",
    "object": "subscription",
    "customer": "cus_load_1",
    "status": "active",
    "cancel_at_period_end": False,
    "current_period_end": int(time.time()) + 7 * 86400,
    "items": {"object": "list", "data": [{"id": "si_load_1", "price": {"id": "price_load_weekly"}}]},
}

SETUP = """
import json
from datetime import timedelta
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import timezone
from articles.models import Article
from subscriptions.models import ComplimentaryAccess, Plan, StripeCustomer
User = get_user_model()
sessions = []
for i in range({n}):
    u, _ = User.objects.get_or_create(username=f"load{{i}}", defaults={{"email": f"load{{i}}@example.com"}})
    EmailAddress.objects.get_or_create(user=u, email=u.email, defaults={{"verified": True, "primary": True}})
    ComplimentaryAccess.objects.create(user=u, until=timezone.now() + timedelta(days=1))
    sessions.append([u.pk, login_session(u)])
Plan.objects.filter(code="weekly").update(stripe_price_id="price_load_weekly")
payer, _ = User.objects.get_or_create(username="payer", defaults={{"email": "payer@example.com"}})
StripeCustomer.objects.get_or_create(user=payer, defaults={{"customer_id": "cus_load_1"}})
articles = list(Article.objects.published().values_list("slug", "access"))
print(json.dumps({{"sessions": sessions, "articles": articles}}))
"""

CHECK = """
import json
from articles.models import Comment
from subscriptions import counters, meter
from subscriptions.models import MeterDay, StripeEvent, Subscription
if counters.in_redis():  # each anonymous reader's articles read today, as the meter holds them
    prefix = meter._key(meter.today(), "")
    client = counters.client()
    meters = {k.decode()[len(prefix):]: client.scard(k) for k in client.scan_iter(prefix + "a:*")}
else:
    meters = {m.reader: m.count for m in MeterDay.objects.filter(reader__startswith="a:")}
print(json.dumps({
    "comments": list(Comment.objects.filter(user__username__startswith="load").values_list("pk", flat=True)),
    "meters": meters,
    "events": StripeEvent.objects.filter(event_id="evt_load_1").count(),
    "subscription": list(
        Subscription.objects.filter(stripe_subscription_id="sub_load_1").values_list("status", flat=True)
    ),
}))
"""


class FakeStripe(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/v1/subscriptions/sub_load_1"):
            body = json.dumps(SUBSCRIPTION).encode()
            self.send_response(200)
        else:
            body = json.dumps({"error": {"message": "not here", "type": "invalid_request_error"}}).encode()
            self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def signed_event() -> tuple[bytes, str]:
    payload = json.dumps(
        {"id": "evt_load_1", "object": "event", "type": "customer.subscription.updated",
         "data": {"object": SUBSCRIPTION}, "created": int(time.time())}
    ).encode()  # fmt: skip
    ts = str(int(time.time()))
    sig = hmac.new(WEBHOOK_SECRET.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return payload, f"t={ts},v1={sig}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()

    n_subscribers = max(1, args.users // 4)
    n_webhooks = max(1, args.users // 20)
    n_readers = args.users - n_subscribers - n_webhooks
    stripe_port = free_port()
    fake = ThreadingHTTPServer(("127.0.0.1", stripe_port), FakeStripe)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    db = f"newsroom_load_{os.getpid()}"
    extra = {
        "REDIS_URL": "redis://127.0.0.1:6379/0",  # as in production: the cache and the meter in Redis
        "CACHE_KEY_PREFIX": db,
        "FREE_ARTICLES_PER_DAY": str(LIMIT),
        "FREE_ARTICLES_PER_IP_PER_DAY": "0",  # every simulated reader shares 127.0.0.1
        "COMMENTS_PER_MINUTE": "1000",
        "STRIPE_SECRET_KEY": "sk_test_load",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": f"http://127.0.0.1:{stripe_port}",
    }
    statuses: Counter[int] = Counter()
    acknowledged: list[int] = []
    served_full: dict[str, set[str]] = {}
    lock = threading.Lock()
    with running_site(db, workers=args.workers, threads=8, **extra) as (port, env):
        setup = manage(env, "shell", "-c", LOGIN_SESSION + SETUP.format(n=n_subscribers))
        data = json.loads(setup.strip().splitlines()[-1])
        metered = [s for s, a in data["articles"] if a == "metered"]
        everything = [s for s, _ in data["articles"]]
        deadline = time.monotonic() + args.seconds

        def note(status: int) -> None:
            with lock:
                statuses[status] += 1

        def reader() -> None:
            rng, cookie = random.Random(), ""
            reads: set[str] = set()
            while time.monotonic() < deadline:
                slug = rng.choice(metered[:12])  # a small set, so re-reads happen too
                status, headers, body = request(port, "GET", f"/{slug}/", headers={"Cookie": cookie} if cookie else {})
                note(status)
                if not cookie and "reader" in headers.get("cookies", {}):
                    reader_id = headers["cookies"]["reader"]
                    cookie = f"reader={reader_id}"
                if status == 200 and b'class="paywall"' not in body:
                    reads.add(slug)
            if cookie:
                with lock:
                    served_full[reader_id] = reads

        def subscriber(user_session: list) -> None:
            rng = random.Random()
            cookie = {"Cookie": f"sessionid={user_session[1]}"}
            while time.monotonic() < deadline:
                slug = rng.choice(everything)
                status, headers, body = request(port, "GET", f"/{slug}/", headers=cookie)
                note(status)
                token = re.search(rb'name="token" value="([0-9a-f]+)"', body)
                csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
                if status != 200 or not token or not csrf or rng.random() > 0.3:
                    continue
                csrf_cookie = headers.get("cookies", {}).get("csrftoken")
                form = f"body=Load+test+remark+{rng.randrange(10**6)}&token={token.group(1).decode()}"
                form += f"&csrfmiddlewaretoken={csrf.group(1).decode()}"
                cookies = cookie["Cookie"] + (f"; csrftoken={csrf_cookie}" if csrf_cookie else "")
                status, headers, _ = request(
                    port, "POST", f"/{slug}/comments/", body=form.encode(),
                    headers={"Cookie": cookies, "Content-Type": "application/x-www-form-urlencoded",
                             "Referer": f"http://127.0.0.1:{port}/{slug}/", "Origin": f"http://127.0.0.1:{port}"},
                )  # fmt: skip
                note(status)
                found = re.search(r"#comment-(\d+)$", headers.get("Location", ""))
                if status == 302 and found:
                    with lock:
                        acknowledged.append(int(found.group(1)))

        def webhook_sender() -> None:
            while time.monotonic() < deadline:
                payload, signature = signed_event()
                status, _, _ = request(
                    port, "POST", "/stripe/webhook/", body=payload,
                    headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
                )  # fmt: skip
                note(status)
                time.sleep(0.2)

        threads = [threading.Thread(target=reader) for _ in range(n_readers)]
        threads += [threading.Thread(target=subscriber, args=(s,)) for s in data["sessions"]]
        threads += [threading.Thread(target=webhook_sender) for _ in range(n_webhooks)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        after = json.loads(manage(env, "shell", "-c", CHECK).strip().splitlines()[-1])
    fake.shutdown()

    total = sum(statuses.values())
    errors = sum(c for s, c in statuses.items() if s >= 500)
    comments_ok = sorted(after["comments"]) == sorted(acknowledged) and len(set(acknowledged)) == len(acknowledged)
    meter_mismatch = [
        reader
        for reader, reads in served_full.items()
        if after["meters"].get(f"a:{reader}", 0) != len(reads) or len(reads) > LIMIT
    ]
    summary = {
        "users": args.users,
        "seconds": round(elapsed, 1),
        "requests": total,
        "requests_per_second": round(total / elapsed, 1),
        "statuses": dict(sorted(statuses.items())),
        "5xx": errors,
        "comments_acknowledged": len(acknowledged),
        "comments_in_database": len(after["comments"]),
        "comments_exactly_once": comments_ok,
        "readers_checked": len(served_full),
        "meter_mismatches": len(meter_mismatch),
        "webhook_event_rows": after["events"],
        "subscription_status": after["subscription"],
    }
    print(json.dumps(summary, indent=2))
    ok = errors == 0 and comments_ok and not meter_mismatch and after["events"] == 1
    if args.record:
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        with open(ROOT / "bench" / "RESULTS.md", "a") as fh:
            fh.write(
                f"\n## Load: {args.users} users for {args.seconds:.0f} s\n\n"
                f"Command: `.venv/bin/python bench/load.py --users {args.users} --seconds {args.seconds:.0f} --record`"
                f" ({when}; gunicorn {args.workers} workers x 8 threads)\n\n"
                f"```\n{json.dumps(summary, indent=2)}\n```\n\nVerdict: {'PASS' if ok else 'FAIL'}\n"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
