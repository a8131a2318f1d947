"""A small Stripe fake over real HTTP, in front of localstripe.

The `stripe` library is pointed (STRIPE_API_BASE) at this server. It answers
itself the endpoints localstripe 1.15.10 lacks or cannot express:

* Prices (localstripe only has legacy Plans),
* Checkout Sessions and Billing Portal sessions (absent from localstripe),
* Subscriptions created through our fake Checkout: localstripe never puts a
  subscription in `trialing` (a trial subscription stays `incomplete` forever),
  has no `price` on subscription items and no way to reach `past_due` or
  `paused` on demand, so the subscription lifecycle is kept here, in Stripe's
  documented shape, and tests move it the way Stripe would.

Everything else (customers, products, unknown subscription ids) is forwarded
to a real localstripe process. POSTs honour `Idempotency-Key` like Stripe: the
same key returns the first response. Parameters are checked and a bad request
gets Stripe's error shape with status 400.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def parse_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding (`a[b][0][c]=v`) back into nested dicts/lists."""
    root: dict[str, Any] = {}
    for key, value in urllib.parse.parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt_is_index = not last and parts[i + 1].isdigit()
            if isinstance(node, list):
                idx = int(part)
                while len(node) <= idx:
                    node.append({} if not nxt_is_index else [])
                if last:
                    node[idx] = value
                else:
                    if not isinstance(node[idx], dict | list) or (nxt_is_index and not isinstance(node[idx], list)):
                        node[idx] = [] if nxt_is_index else {}
                    node = node[idx]
            else:
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, [] if nxt_is_index else {})
    return root


class StripeFake:
    def __init__(self, localstripe_base: str) -> None:
        self.localstripe = localstripe_base.rstrip("/")
        self.lock = threading.RLock()
        self.prices: dict[str, dict] = {}
        self.sessions: dict[str, dict] = {}
        self.portal_sessions: dict[str, dict] = {}
        self.subscriptions: dict[str, dict] = {}
        self.idempotent: dict[tuple[str, str], tuple[int, bytes]] = {}
        self.requests: list[tuple[str, str, dict]] = []
        # Answer the next N API requests with a 500, like a Stripe outage.
        self.fail_next = 0
        # Where and how to deliver webhooks (None: tests deliver them by hand).
        self.webhook_url: str | None = None
        self.webhook_secret = ""
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> StripeFake:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        with self.lock:
            self.prices.clear()
            self.sessions.clear()
            self.portal_sessions.clear()
            self.subscriptions.clear()
            self.idempotent.clear()
            self.requests.clear()
            self.fail_next = 0
            self.webhook_url = None

    def count(self, method: str, path_prefix: str) -> int:
        """How many requests the library made (idempotent replays included)."""
        return sum(1 for m, p, _ in self.requests if m == method and p.startswith(path_prefix))

    # --- what Stripe does on its side (driven by tests) ---

    def complete_checkout(self, session_id: str, *, with_card: bool = True) -> dict:
        """The reader pays on Checkout: Stripe creates the subscription."""
        with self.lock:
            session = self.sessions[session_id]
            price = self.prices[session["_price"]]
            trial_days = int(session["_trial_days"] or 0)
            sub = self.make_subscription(
                session["customer"],
                price["id"],
                status="trialing" if trial_days else "active",
                trial_days=trial_days,
                metadata=session["_subscription_metadata"],
            )
            sub["default_payment_method"] = "pm_card_visa" if with_card else None
            session.update(status="complete", payment_status="no_payment_required" if trial_days else "paid",
                           subscription=sub["id"])
            return sub

    def make_subscription(self, customer: str, price_id: str, *, status: str = "active", trial_days: int = 0,
                          metadata: dict | None = None) -> dict:
        now = int(time.time())
        price = self.prices.get(price_id) or {"id": price_id, "object": "price", "recurring": {"interval": "week"},
                                              "unit_amount": 100, "currency": "usd", "product": "prod_other"}
        period_end = now + (trial_days * 86400 if trial_days else 7 * 86400)
        sub_id = "sub_" + secrets.token_hex(8)
        sub = {
            "id": sub_id, "object": "subscription", "customer": customer, "status": status,
            "created": now, "start_date": now, "cancel_at_period_end": False, "cancel_at": None,
            "canceled_at": None, "ended_at": None, "metadata": metadata or {},
            "trial_start": now if trial_days else None, "trial_end": now + trial_days * 86400 if trial_days else None,
            "latest_invoice": None, "default_payment_method": None, "livemode": False,
            "items": {"object": "list", "has_more": False, "url": f"/v1/subscription_items?subscription={sub_id}",
                      "data": [{"id": "si_" + secrets.token_hex(6), "object": "subscription_item", "price": price,
                                "quantity": 1, "current_period_start": now, "current_period_end": period_end,
                                "subscription": sub_id}]},
        }
        with self.lock:
            self.subscriptions[sub_id] = sub
        return sub

    def update_subscription(self, sub_id: str, **changes: Any) -> dict:
        with self.lock:
            sub = self.subscriptions[sub_id]
            if "current_period_end" in changes:
                sub["items"]["data"][0]["current_period_end"] = changes.pop("current_period_end")
            sub.update(changes)
            return sub

    def send_event(self, event_type: str, obj: dict) -> int | None:
        """Deliver a signed event to the site, as Stripe does."""
        if not self.webhook_url:
            return None
        payload = json.dumps({"id": "evt_" + secrets.token_hex(10), "object": "event", "type": event_type,
                              "created": int(time.time()), "livemode": False, "data": {"object": obj}})
        t = int(time.time())
        mac = hmac.new(self.webhook_secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
        req = urllib.request.Request(self.webhook_url, data=payload.encode(), method="POST", headers={
            "Content-Type": "application/json", "Stripe-Signature": f"t={t},v1={mac}"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

    # --- HTTP ---

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Request-Id", "req_" + secrets.token_hex(6))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path.startswith(("/pay/", "/portal/")):
                    return self._page()
                self._dispatch("GET", b"")

            def _page(self) -> None:
                """The hosted pages a browser sees (Checkout, Billing Portal)."""
                kind, _, obj_id = self.path.strip("/").partition("/")
                if kind == "pay":
                    title, action, label = "Test checkout", f"/pay/{obj_id}", "Pay with 4242 4242 4242 4242"
                else:
                    title, action, label = "Test billing portal", f"/portal/{obj_id}", "Cancel subscription"
                body = (f"<!doctype html><title>{title}</title><h1>{title}</h1>"
                        f"<form method=post action='{html.escape(action)}'><button>{label}</button></form>").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _browser_post(self) -> None:
                kind, _, obj_id = self.path.strip("/").partition("/")
                if kind == "pay":
                    sub = fake.complete_checkout(obj_id)
                    session = fake.sessions[obj_id]
                    fake.send_event("checkout.session.completed",
                                    {k: v for k, v in session.items() if not k.startswith("_")})
                    fake.send_event("customer.subscription.created", sub)
                    target = session["success_url"]
                else:
                    portal = fake.portal_sessions[obj_id]
                    for sub in list(fake.subscriptions.values()):
                        if sub["customer"] == portal["customer"] and sub["status"] in ("trialing", "active"):
                            fake.update_subscription(sub["id"], cancel_at_period_end=True)
                            fake.send_event("customer.subscription.updated", sub)
                    target = portal["return_url"]
                self.send_response(303)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_DELETE(self) -> None:
                self._dispatch("DELETE", b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if self.path.startswith(("/pay/", "/portal/")):
                    self.rfile.read(length)
                    return self._browser_post()
                self._dispatch("POST", self.rfile.read(length))

            def _dispatch(self, method: str, raw: bytes) -> None:
                url = urllib.parse.urlsplit(self.path)
                params = parse_form(raw.decode() if method == "POST" else url.query)
                fake.requests.append((method, url.path, params))
                with fake.lock:
                    if fake.fail_next > 0:
                        fake.fail_next -= 1
                        return self._send(500, _error("Simulated outage", "api_error"))
                if not (self.headers.get("Authorization") or "").startswith("Bearer sk_"):
                    return self._send(401, _error("Invalid API key provided", "authentication_error"))
                key = self.headers.get("Idempotency-Key")
                if method == "POST" and key:
                    # Stripe replays the first response for a repeated key; a
                    # concurrent duplicate waits here for the first to finish.
                    with fake.lock:
                        cached = fake.idempotent.get((url.path, key))
                        if cached is None:
                            cached = fake.route(method, url.path, params, raw, dict(self.headers))
                            fake.idempotent[(url.path, key)] = cached
                    return self._send(*cached)
                self._send(*fake.route(method, url.path, params, raw, dict(self.headers)))

        return Handler

    def route(self, method: str, path: str, params: dict, raw: bytes, headers: dict) -> tuple[int, bytes]:
        with self.lock:
            if path == "/v1/prices" and method == "POST":
                return self._create_price(params)
            if path == "/v1/prices" and method == "GET":
                data = list(self.prices.values())
                if params.get("lookup_keys"):
                    data = [p for p in data if p.get("lookup_key") in params["lookup_keys"]]
                return _ok(_list("/v1/prices", data))
            if m := re.fullmatch(r"/v1/prices/([\w]+)", path):
                return _ok(self.prices[m[1]]) if m[1] in self.prices else _missing("price", m[1])
            if path == "/v1/checkout/sessions" and method == "POST":
                return self._create_session(params)
            if m := re.fullmatch(r"/v1/checkout/sessions/([\w]+)", path):
                if m[1] not in self.sessions:
                    return _missing("checkout.session", m[1])
                return _ok({k: v for k, v in self.sessions[m[1]].items() if not k.startswith("_")})
            if path == "/v1/billing_portal/sessions" and method == "POST":
                return self._create_portal(params)
            if path == "/v1/subscriptions" and method == "GET":
                return self._list_subscriptions(params)
            if (m := re.fullmatch(r"/v1/subscriptions/([\w]+)", path)) and m[1] in self.subscriptions:
                return _ok(self.subscriptions[m[1]])
        return self._forward(method, path, raw, headers)

    def _forward(self, method: str, path: str, raw: bytes, headers: dict, query: str = "") -> tuple[int, bytes]:
        req = urllib.request.Request(
            self.localstripe + path + query,
            data=raw if method == "POST" else None,
            method=method,
            headers={"Authorization": headers.get("Authorization", ""),
                     "Content-Type": headers.get("Content-Type", "application/x-www-form-urlencoded")},
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def _create_price(self, p: dict) -> tuple[int, bytes]:
        missing = [k for k in ("product", "unit_amount", "currency") if not p.get(k)]
        if missing or not (p.get("recurring") or {}).get("interval"):
            return _bad(f"Missing required param: {', '.join(missing) or 'recurring[interval]'}")
        if p["recurring"]["interval"] not in ("day", "week", "month", "year"):
            return _bad("Invalid recurring[interval]")
        price = {
            "id": "price_" + secrets.token_hex(8), "object": "price", "active": True, "product": p["product"],
            "unit_amount": int(p["unit_amount"]), "currency": p["currency"], "type": "recurring",
            "recurring": {"interval": p["recurring"]["interval"], "interval_count": 1},
            "lookup_key": p.get("lookup_key"), "metadata": p.get("metadata", {}), "livemode": False,
        }
        self.prices[price["id"]] = price
        return _ok(price)

    def _create_session(self, p: dict) -> tuple[int, bytes]:
        if p.get("mode") != "subscription":
            return _bad("mode must be subscription")
        items = p.get("line_items") or []
        if len(items) != 1 or items[0].get("price") not in self.prices or str(items[0].get("quantity")) != "1":
            return _bad("line_items must hold one known price with quantity 1")
        if "{CHECKOUT_SESSION_ID}" not in p.get("success_url", "") or not p.get("cancel_url"):
            return _bad("success_url must contain {CHECKOUT_SESSION_ID}; cancel_url is required")
        if not p.get("customer") or not p.get("client_reference_id"):
            return _bad("customer and client_reference_id are required")
        status, _ = self._forward("GET", f"/v1/customers/{p['customer']}", b"",
                                  {"Authorization": "Bearer sk_test_fake"})
        if status != 200:
            return _missing("customer", p["customer"])
        sub_data = p.get("subscription_data") or {}
        sid = "cs_test_" + secrets.token_hex(10)
        session = {
            "id": sid, "object": "checkout.session", "mode": "subscription", "status": "open",
            "payment_status": "unpaid", "customer": p["customer"], "subscription": None,
            "client_reference_id": p["client_reference_id"], "metadata": p.get("metadata", {}),
            "url": f"{self.base}/pay/{sid}", "success_url": p["success_url"].replace("{CHECKOUT_SESSION_ID}", sid),
            "cancel_url": p["cancel_url"], "livemode": False, "created": int(time.time()),
            "_price": items[0]["price"], "_trial_days": sub_data.get("trial_period_days"),
            "_subscription_metadata": sub_data.get("metadata", {}), "_params": p,
        }
        self.sessions[sid] = session
        return _ok({k: v for k, v in session.items() if not k.startswith("_")})

    def _create_portal(self, p: dict) -> tuple[int, bytes]:
        if not p.get("customer") or not p.get("return_url"):
            return _bad("customer and return_url are required")
        pid = "bps_" + secrets.token_hex(8)
        session = {"id": pid, "object": "billing_portal.session", "customer": p["customer"],
                   "return_url": p["return_url"], "url": f"{self.base}/portal/{pid}", "livemode": False}
        self.portal_sessions[pid] = session
        return _ok(session)

    def _list_subscriptions(self, p: dict) -> tuple[int, bytes]:
        # Ours plus the ones living in localstripe (created there directly by tests).
        status, body = self._forward("GET", "/v1/subscriptions", b"", {"Authorization": "Bearer sk_test_fake"},
                                     "?status=all&limit=100")
        real = json.loads(body)["data"] if status == 200 else []
        data = sorted([*self.subscriptions.values(), *real], key=lambda s: s["id"])
        if p.get("status", "all") != "all":
            data = [s for s in data if s["status"] == p["status"]]
        if p.get("customer"):
            data = [s for s in data if s["customer"] == p["customer"]]
        if after := p.get("starting_after"):
            data = [s for s in data if s["id"] > after]
        limit = int(p.get("limit") or 10)
        body = _list("/v1/subscriptions", data[:limit])
        body["has_more"] = len(data) > limit
        return _ok(body)


def _list(url: str, data: list) -> dict:
    return {"object": "list", "url": url, "has_more": False, "data": data}


def _ok(obj: dict) -> tuple[int, bytes]:
    return 200, json.dumps(obj).encode()


def _error(message: str, type_: str = "invalid_request_error") -> bytes:
    return json.dumps({"error": {"message": message, "type": type_}}).encode()


def _bad(message: str) -> tuple[int, bytes]:
    return 400, _error(message)


def _missing(kind: str, id_: str) -> tuple[int, bytes]:
    return 404, _error(f"No such {kind}: '{id_}'")
