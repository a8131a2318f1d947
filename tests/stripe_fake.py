"""A small Stripe fake over real HTTP, in front of localstripe.

The `stripe` library is pointed (STRIPE_API_BASE) at this server. It answers
itself the endpoints localstripe 1.15.10 lacks or cannot express:

* Prices (localstripe only has legacy Plans),
* Checkout Sessions and Billing Portal sessions (absent from localstripe),
* Customers and subscriptions that already exist when a newsroom moves in
  (`add_customer`, `add_price`, `make_subscription`: on prices none of our
  plans has, with another site's metadata, two customers sharing an email),
  and the customer and subscription lists, paged as Stripe pages them
  (`limit` 1-100, `starting_after`, `has_more`), so auto-paging is exercised;
* Subscriptions created through our fake Checkout: localstripe never puts a
  subscription in `trialing` (a trial subscription stays `incomplete` forever),
  has no `price` on subscription items and no way to reach `past_due` or
  `paused` on demand, so the subscription lifecycle is kept here, in Stripe's
  documented shape, and tests move it the way Stripe would.

Everything else (customers, products, unknown subscription ids) is forwarded
to a real localstripe process.

It refuses what Stripe refuses (tests/test_stripe_fake.py shows each rule):
every request is checked against the pinned library's typed parameters
(tests/stripe_params.py: unknown names at any depth, missing required ones,
values outside a closed set) and the pinned API version; an idempotency key
replays its first result — a 500 included — and is refused with other
parameters; a lookup key belongs to one price unless transferred; a price's
amount cannot change; Checkout Sessions expire (`expires_at`, 30 minutes to 24
hours); and Stripe's limits on values (`limits`): metadata (50 keys, keys of
40 and values of 500 characters), `client_reference_id` (200), trials of 1 to
730 days, intervals up to three years, known currencies, no negative amount and
no Checkout total under the currency's minimum charge, valid emails, a
recurring price only in `subscription` mode and a one-time price only in
`payment` mode; and, from the library's params and Stripe's docs, what their
types cannot say: `customer` or `customer_email` (not both), redirect URLs that
are absolute http(s), lookup keys of 200 characters and 10 to a list,
idempotency keys of 255, `limit` 1-100 on every list, one currency per customer,
no Billing Portal session without a configuration until the test-mode default is
saved (`save_portal_settings()`), and a test clock that moves at most two
intervals of its shortest subscription at once. `advance()` moves Stripe's clock
(a test clock's customers move only with their clock):
trials end, renewals charge (with Stripe's fee in a balance transaction),
declined renewals go past_due, are retried and end unpaid; a renewal whose card
needs its holder (`needs_action`) waits on the hosted invoice page; a
subscription whose collection is paused (`pause_collection`) renews without a
charge. What happens in Stripe's dashboard or at the bank has helpers that send
Stripe's events: `refund()` (charge.refunded), `dispute()` and
`close_dispute()` (charge.dispute.created/closed, with the dispute fee),
`delete_customer()` (customer.deleted, its subscriptions cancelled).
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
import traceback
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests import stripe_params


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


API_VERSION = "2026-10-28.endive"  # the pinned library's; the site must send the same
PERIOD_SECONDS = {"day": 86400, "week": 7 * 86400, "month": 30 * 86400, "year": 365 * 86400}
# Stripe's US card pricing: 2.9% + 30¢ per successful charge.
FEE_PERCENT, FEE_FIXED = Decimal("0.029"), 30
# Smart Retries, shortened: a failed renewal is retried after these many days,
# then the subscription is marked unpaid (Settings → Billing → "mark as unpaid").
RETRY_DAYS = (3, 5, 7)
# Stripe's minimum charge per currency, in the currency's smallest unit
# (docs.stripe.com/currencies#minimum-and-maximum-charge-amounts).
MINIMUM_CHARGE = {"usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50, "czk": 1500,
                  "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50, "jpy": 50, "mxn": 1000,
                  "myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200, "sek": 300, "sgd": 50, "thb": 1000}
# Currencies Stripe charges in beyond those (a sample: enough to tell a real code from a typo).
CURRENCIES = set(MINIMUM_CHARGE) | {"zar", "isk", "ils", "krw", "twd", "php", "idr", "try", "cny", "kes", "ngn"}
# A recurring price's longest interval: three years.
MAX_INTERVALS = {"day": 1095, "week": 156, "month": 36, "year": 3}
DISPUTE_FEE = 1500  # Stripe's US dispute fee, kept whatever the outcome
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class StripeFake:
    def __init__(self, localstripe_base: str) -> None:
        self.localstripe = localstripe_base.rstrip("/")
        self.lock = threading.RLock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        # Strictness switches, on by default; a test turns one off to show
        # that its rule is what catches a bug (see tests/test_stripe_fake.py).
        self.strict = {"params": True, "idempotency": True, "lookup_keys": True, "expiry": True, "version": True,
                       "limits": True}
        self.reset()

    def start(self) -> StripeFake:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        # localstripe too: customers an earlier test made would be in every later test's lists.
        try:
            urllib.request.urlopen(urllib.request.Request(self.localstripe + "/_config/data", method="DELETE"),
                                   timeout=5).close()
        except OSError:
            pass  # not started yet (the first reset, from __init__)
        with self.lock:
            self.prices: dict[str, dict] = {}
            self.customers: dict[str, dict] = {}  # seeded by tests; the site's own live in localstripe
            self.sessions: dict[str, dict] = {}
            self.portal_sessions: dict[str, dict] = {}
            self.subscriptions: dict[str, dict] = {}
            self.payment_methods: dict[str, dict] = {}
            self.invoices: dict[str, dict] = {}
            self.charges: dict[str, dict] = {}
            self.balance_transactions: list[dict] = []
            self.refunds: dict[str, dict] = {}
            self.payment_intents: dict[str, dict] = {}
            self.disputes: dict[str, dict] = {}
            self.coupons: dict[str, dict] = {}  # offers (growth/): see _route_discounts
            self.promotion_codes: dict[str, dict] = {}
            self.deleted_customers: set[str] = set()
            self.needs_action: set[str] = set()  # customers whose card asks its holder to authenticate
            self.test_clocks: dict[str, dict] = {}
            self.customer_clocks: dict[str, str] = {}  # customer id -> test clock id
            self._clock_now: int | None = None  # the time of the clock being advanced
            self.portal_configurations: dict[str, dict] = {}
            # The test-mode default portal configuration exists once someone saves the portal
            # settings in the dashboard (tests: save_portal_settings()); the API cannot make it.
            self.portal_default: str | None = None
            self.idempotent: dict[str, tuple[str, str, dict, int, bytes]] = {}
            self.requests: list[tuple[str, str, dict]] = []
            self.versions: set[str] = set()
            self.events: list[dict] = []
            self._outbox: list[tuple[str, dict]] = []
            self.declining: set[str] = set()  # customers whose cards are declined
            self.offset = 0  # seconds the clock was advanced
            # Answer the next N API requests with a 500, like a Stripe outage,
            # or the ones for which fail_when(method, path) is true.
            self.fail_next = 0
            self.fail_when: Callable[[str, str], bool] | None = None
            # Where and how to deliver webhooks (None: events only collect in self.events).
            self.webhook_url: str | None = None
            self.webhook_secret = ""
            for rule in self.strict:
                self.strict[rule] = True

    def now(self) -> int:
        # While a test clock's customers are served, their time is the clock's.
        return self._clock_now if self._clock_now is not None else int(time.time()) + self.offset

    @contextmanager
    def _clock_time(self, customer: str | None) -> Iterator[None]:
        """Run what follows at the time of `customer`'s test clock, if it has one (lock held)."""
        clock = self.test_clocks.get(self.customer_clocks.get(customer or "", ""))
        self._clock_now = clock["frozen_time"] if clock else None
        try:
            yield
        finally:
            self._clock_now = None

    def count(self, method: str, path_prefix: str) -> int:
        """How many requests the library made (idempotent replays included)."""
        return sum(1 for m, p, _ in self.requests if m == method and p.startswith(path_prefix))

    # --- what Stripe does on its side (driven by tests) ---

    def add_card(self, customer: str, number: str = "4242424242424242") -> dict:
        """A card as Checkout collects it; the same number always has the same fingerprint."""
        pm = {"id": "pm_" + secrets.token_hex(8), "object": "payment_method", "type": "card", "customer": customer,
              "card": {"brand": "visa", "last4": number[-4:], "exp_month": 12, "exp_year": 2035,
                       "fingerprint": hashlib.sha256(number.encode()).hexdigest()[:16]}}
        self.payment_methods[pm["id"]] = pm
        return pm

    def complete_checkout(self, session_id: str, *, with_card: bool = True, card: str = "4242424242424242") -> dict:
        """The reader pays on Checkout: Stripe creates the subscription (and charges when there is no trial)."""
        with self.lock, self._clock_time(self.sessions.get(session_id, {}).get("customer")):
            session = self._session(session_id)
            if session["status"] != "open":
                raise ValueError(f"checkout session {session_id} is {session['status']}")
            price = self.prices[session["_price"]]
            if session["mode"] == "payment":  # a one-off: charged, no subscription
                self._redeem_discounts(session)
                pi = self._charge(self.discounted(price["unit_amount"], session), None, price["currency"],
                                  session["customer"])
                session.update(status="complete", payment_status="paid", payment_intent=pi)
                self._event("checkout.session.completed", self._public(session))
                return {}
            trial_days = int(session["_trial_days"] or 0)
            pm = self.add_card(session["customer"], card) if with_card else None
            sub = self.make_subscription(
                session["customer"], price["id"], status="trialing" if trial_days else "active",
                trial_days=trial_days, metadata=session["_subscription_metadata"],
                payment_method=pm["id"] if pm else None,
                trial_end_behavior=session["_trial_end_behavior"],
            )
            sub["discounts"] = self._redeem_discounts(session)
            paid = self._invoice(sub, 0 if trial_days else self.discounted(price["unit_amount"], session))
            if not paid:
                sub["status"] = "incomplete"
            session.update(status="complete", payment_status="no_payment_required" if trial_days else "paid",
                           subscription=sub["id"])
            self._event("checkout.session.completed", self._public(session))
            self._event("customer.subscription.created", sub)
        self.flush()
        return sub

    def make_subscription(self, customer: str, price_id: str, *, status: str = "active", trial_days: int = 0,
                          metadata: dict | None = None, payment_method: str | None = None,
                          trial_end_behavior: str = "cancel") -> dict:
        now = self.now()
        price = self.prices.get(price_id) or {"id": price_id, "object": "price", "unit_amount": 100,
                                              "recurring": {"interval": "week", "interval_count": 1},
                                              "currency": "usd", "product": "prod_other"}
        period_end = now + (trial_days * 86400 if trial_days else _period(price))
        sub_id = "sub_" + secrets.token_hex(8)
        sub = {
            "id": sub_id, "object": "subscription", "customer": customer, "status": status,
            "created": now, "start_date": now, "cancel_at_period_end": False, "cancel_at": None,
            "canceled_at": None, "ended_at": None, "metadata": metadata or {},
            "trial_start": now if trial_days else None, "trial_end": now + trial_days * 86400 if trial_days else None,
            "trial_settings": {"end_behavior": {"missing_payment_method": trial_end_behavior}},
            "latest_invoice": None, "default_payment_method": payment_method, "livemode": False,
            "pause_collection": None,
            "items": {"object": "list", "has_more": False, "url": f"/v1/subscription_items?subscription={sub_id}",
                      "data": [{"id": "si_" + secrets.token_hex(6), "object": "subscription_item", "price": price,
                                "quantity": 1, "current_period_start": now, "current_period_end": period_end,
                                "subscription": sub_id}]},
            "_retries": 0, "_next_retry": None,
        }
        with self.lock:
            self.subscriptions[sub_id] = sub
        return sub

    def add_customer(self, email: str | None, *, name: str | None = None, metadata: dict | None = None) -> dict:
        """A customer the account already had (made by the site the newsroom moved from)."""
        customer = {"id": "cus_" + secrets.token_hex(8), "object": "customer", "email": email, "name": name,
                    "created": self.now(), "metadata": metadata or {}, "livemode": False, "deleted": False}
        with self.lock:
            self.customers[customer["id"]] = customer
        return customer

    def add_price(self, unit_amount: int, *, interval: str = "month", interval_count: int = 1,
                  currency: str = "usd") -> dict:
        """A price the old site sold, which none of our plans has (no lookup key of ours)."""
        price = {"id": "price_" + secrets.token_hex(8), "object": "price", "active": True, "product": "prod_oldsite",
                 "unit_amount": unit_amount, "currency": currency, "type": "recurring",
                 "recurring": {"interval": interval, "interval_count": interval_count}, "lookup_key": None,
                 "metadata": {}, "livemode": False, "created": self.now()}
        with self.lock:
            self.prices[price["id"]] = price
        return price

    def update_subscription(self, sub_id: str, **changes: Any) -> dict:
        with self.lock:
            sub = self.subscriptions[sub_id]
            if "current_period_end" in changes:
                sub["items"]["data"][0]["current_period_end"] = changes.pop("current_period_end")
            sub.update(changes)
            return sub

    def advance(self, seconds: int) -> list[dict]:
        """Move Stripe's clock forward (a test clock) and do what falls due on the
        way, in order: trials end, renewals charge, failed payments are retried,
        subscriptions end. Returns the events that happened."""
        with self.lock:
            first = len(self.events)
            target = self.now() + seconds
            while (due := self._next_due()) is not None and due[0] <= target:
                when, sub = due
                self.offset += max(0, when - self.now())
                self._fall_due(sub)
            self.offset += max(0, target - self.now())
            happened = self.events[first:]
        self.flush()
        return happened

    def _next_due(self, clock: str | None = None) -> tuple[int, dict] | None:
        """The next subscription to fall due: on the test clock `clock`, or on none (Stripe's own time)."""
        due = []
        for sub in self.subscriptions.values():
            if self.customer_clocks.get(sub["customer"]) != clock:
                continue
            period_end = sub["items"]["data"][0]["current_period_end"]
            if sub["status"] == "trialing":
                due.append((sub["trial_end"], sub))
            elif sub["status"] == "active":
                due.append((period_end, sub))
            elif sub["status"] == "past_due" and sub["_next_retry"]:
                due.append((sub["_next_retry"], sub))
        return min(due, key=lambda d: d[0]) if due else None

    def _fall_due(self, sub: dict) -> None:
        price = sub["items"]["data"][0]["price"]
        status = sub["status"]
        if status == "trialing" and not sub["default_payment_method"]:
            if sub["trial_settings"]["end_behavior"]["missing_payment_method"] == "cancel":
                return self._end(sub)
            sub["status"] = "paused"
            return self._event("customer.subscription.paused", sub)
        if status == "active" and sub["cancel_at_period_end"]:
            return self._end(sub)
        if status in ("trialing", "active"):
            self._new_period(sub)
        pause = sub.get("pause_collection")
        if pause and pause.get("resumes_at") and int(pause["resumes_at"]) <= self.now():
            sub["pause_collection"] = pause = None  # the pause ran out: this period is collected
        if pause and status in ("trialing", "active"):
            # Collection paused: the period's invoice is made but nothing is charged; it stays a
            # draft, is voided, or is marked uncollectible, as `behavior` says. The status stays.
            self._invoice(sub, price["unit_amount"], void=True)
            invoice = self.invoices[sub["latest_invoice"]]
            invoice["status"] = {"void": "void", "keep_as_draft": "draft",
                                 "mark_uncollectible": "uncollectible"}[pause["behavior"]]
            invoice["status_transitions"]["voided_at"] = self.now() if invoice["status"] == "void" else None
            if invoice["status"] == "draft":
                invoice["status_transitions"]["finalized_at"] = None
            elif invoice["status"] == "uncollectible":
                invoice["status_transitions"]["marked_uncollectible_at"] = self.now()
            sub["status"] = "active"
            return self._event("customer.subscription.updated", sub)
        if self._invoice(sub, self.renewal_amount(sub, price["unit_amount"])):
            sub.update(status="active", _retries=0, _next_retry=None)
        elif sub["_retries"] < len(RETRY_DAYS):
            sub["status"] = "past_due"
            sub["_next_retry"] = self.now() + RETRY_DAYS[sub["_retries"]] * 86400
            sub["_retries"] += 1
        else:
            sub.update(status="unpaid", _next_retry=None)
        self._event("customer.subscription.updated", sub)

    def _new_period(self, sub: dict) -> None:
        item = sub["items"]["data"][0]
        item["current_period_start"] = self.now()
        item["current_period_end"] = self.now() + _period(item["price"])

    def _end(self, sub: dict) -> None:
        sub.update(status="canceled", canceled_at=sub["canceled_at"] or self.now(), ended_at=self.now())
        self._event("customer.subscription.deleted", sub)

    def _invoice(self, sub: dict, amount: int, *, void: bool = False) -> bool:
        """Invoice and charge the subscription's card; False when the card is declined or
        its holder must authenticate (on the invoice's hosted page)."""
        inv_id = "in_" + secrets.token_hex(8)
        price = sub["items"]["data"][0]["price"]
        currency = price.get("currency", "usd")
        action = amount > 0 and not void and sub["customer"] in self.needs_action
        declined = not void and amount > 0 and (
            action or sub["customer"] in self.declining or not sub["default_payment_method"])
        payments = []
        if amount and not declined and not void:
            pi = self._charge(amount, inv_id, currency, sub["customer"])
            payments = [{"id": "inpay_" + secrets.token_hex(8), "object": "invoice_payment", "invoice": inv_id,
                         "status": "paid", "amount_paid": amount,
                         "payment": {"type": "payment_intent", "payment_intent": pi}}]
        elif action:
            pi = "pi_" + secrets.token_hex(8)
            self.payment_intents[pi] = {"id": pi, "object": "payment_intent", "amount": amount,
                                        "currency": currency, "status": "requires_action", "latest_charge": None}
            payments = [{"id": "inpay_" + secrets.token_hex(8), "object": "invoice_payment", "invoice": inv_id,
                         "status": "open", "amount_paid": 0,
                         "payment": {"type": "payment_intent", "payment_intent": pi}}]
        status = "void" if void else "open" if declined else "paid"
        now = self.now()
        invoice = {"id": inv_id, "object": "invoice", "customer": sub["customer"], "amount_due": amount,
                   "amount_paid": amount if status == "paid" else 0, "currency": currency, "created": now,
                   "status": status, "attempt_count": sub["_retries"] + 1,
                   "hosted_invoice_url": f"{self.base}/invoice/{inv_id}",
                   "status_transitions": {"finalized_at": now, "paid_at": now if status == "paid" else None,
                                          "voided_at": now if void else None, "marked_uncollectible_at": None},
                   "parent": {"type": "subscription_details",
                              "subscription_details": {"subscription": sub["id"]}},
                   "payments": {"object": "list", "has_more": False, "data": payments}}
        self.invoices[inv_id] = invoice
        sub["latest_invoice"] = inv_id
        if void:
            return True
        self._event("invoice.payment_failed" if declined else "invoice.paid", invoice)
        if action:
            self._event("invoice.payment_action_required", invoice)
        return not declined

    def _charge(self, amount: int, invoice_id: str | None, currency: str = "usd", customer: str | None = None) -> str:
        pi = "pi_" + secrets.token_hex(8)
        ch = "ch_" + secrets.token_hex(8)
        fee = int((amount * FEE_PERCENT).to_integral_value()) + FEE_FIXED
        txn = {"id": "txn_" + secrets.token_hex(8), "object": "balance_transaction", "type": "charge",
               "reporting_category": "charge", "amount": amount, "fee": fee, "net": amount - fee,
               "fee_details": _fee_details(fee, currency, "Stripe processing fees"),
               "currency": currency, "created": self.now(), "source": ch, "status": "available"}
        self.balance_transactions.append(txn)
        self.charges[pi] = {"id": ch, "object": "charge", "amount": amount, "refunded": 0, "invoice": invoice_id,
                            "txn": txn["id"], "currency": currency, "customer": customer, "payment_intent": pi,
                            "disputed": False, "created": self.now()}
        self.payment_intents[pi] = {"id": pi, "object": "payment_intent", "amount": amount, "currency": currency,
                                    "status": "succeeded", "latest_charge": ch}
        return pi

    def charge_object(self, charge: dict) -> dict:
        """A charge as Stripe shows it (`refunded` is an amount in this fake's own record)."""
        return {"id": charge["id"], "object": "charge", "amount": charge["amount"],
                "amount_refunded": charge["refunded"], "refunded": charge["refunded"] >= charge["amount"],
                "disputed": charge["disputed"], "currency": charge["currency"], "customer": charge["customer"],
                "payment_intent": charge["payment_intent"], "balance_transaction": charge["txn"],
                "status": "succeeded", "paid": True, "created": charge["created"], "livemode": False}

    def _charge_by_id(self, charge_id: str) -> dict | None:
        return next((c for c in self.charges.values() if c["id"] == charge_id), None)

    def refund(self, payment_intent: str, amount: int | None = None) -> dict:
        """Staff refund in Stripe's dashboard (the same as an API refund): charge.refunded follows."""
        with self.lock:
            status, body = self._refund({"payment_intent": payment_intent, **({"amount": amount} if amount else {})})
            if status != 200:
                raise ValueError(json.loads(body)["error"]["message"])
        self.flush()
        return json.loads(body)

    def dispute(self, payment_intent: str, reason: str = "fraudulent") -> dict:
        """The card holder's bank disputes a charge: Stripe takes the amount and its fee at once."""
        with self.lock:
            charge = self.charges[payment_intent]
            charge["disputed"] = True
            dp = {"id": "dp_" + secrets.token_hex(8), "object": "dispute", "amount": charge["amount"],
                  "charge": charge["id"], "payment_intent": payment_intent, "currency": charge["currency"],
                  "reason": reason, "status": "needs_response", "created": self.now(), "livemode": False,
                  "is_charge_refundable": False, "metadata": {}, "balance_transactions": []}
            dp["balance_transactions"].append(self._balance(
                "adjustment", "dispute", -charge["amount"], DISPUTE_FEE, charge["currency"], dp["id"]))
            self.disputes[dp["id"]] = dp
            self._event("charge.dispute.created", dp)
        self.flush()
        return dp

    def close_dispute(self, dispute_id: str, *, won: bool) -> dict:
        """The bank decides: a won dispute gives the amount back (Stripe keeps its fee)."""
        with self.lock:
            dp = self.disputes[dispute_id]
            dp["status"] = "won" if won else "lost"
            if won:
                dp["balance_transactions"].append(self._balance(
                    "adjustment", "dispute_reversal", dp["amount"], 0, dp["currency"], dp["id"]))
            self._event("charge.dispute.closed", dp)
        self.flush()
        return dp

    def _balance(self, type_: str, category: str, amount: int, fee: int, currency: str, source: str) -> dict:
        txn = {"id": "txn_" + secrets.token_hex(8), "object": "balance_transaction", "type": type_,
               "reporting_category": category, "amount": amount, "fee": fee, "net": amount - fee,
               "fee_details": _fee_details(fee, currency, "Dispute fee" if category == "dispute" else "Stripe fee"),
               "currency": currency, "created": self.now(), "source": source, "status": "available"}
        self.balance_transactions.append(txn)
        return txn

    def delete_customer(self, customer_id: str) -> dict:
        """The customer is deleted (in the dashboard or by the API): its subscriptions end at once."""
        with self.lock:
            gone = self._delete_customer(customer_id)
        self.flush()
        return gone

    def _delete_customer(self, customer_id: str) -> dict:
        for sub in list(self.subscriptions.values()):
            if sub["customer"] == customer_id and sub["status"] not in ("canceled", "incomplete_expired"):
                self._end(sub)
        self.deleted_customers.add(customer_id)
        gone = {"id": customer_id, "object": "customer", "deleted": True}
        self._event("customer.deleted", {**self.customers.get(customer_id, {"email": None, "metadata": {}}),
                                         **gone})
        return gone

    def pause_collection(self, sub_id: str, behavior: str | None = "void") -> dict:
        """Collection paused (or resumed, with None) in the dashboard: the status stays what it was."""
        with self.lock:
            sub = self.subscriptions[sub_id]
            sub["pause_collection"] = {"behavior": behavior, "resumes_at": None} if behavior else None
            self._event("customer.subscription.updated", sub)
        self.flush()
        return sub

    def _event(self, event_type: str, obj: dict) -> None:
        event = {"id": "evt_" + secrets.token_hex(10), "object": "event", "api_version": API_VERSION,
                 "type": event_type, "created": self.now(), "livemode": False,
                 "data": {"object": json.loads(json.dumps(self._public(obj)))}}
        self.events.append(event)
        if self.webhook_url:
            # Sent by flush(), once the lock is released: the site calls back into the fake.
            self._outbox.append((event_type, json.loads(json.dumps(self._public(obj)))))

    def flush(self) -> None:
        """Deliver the events waiting to be sent, in order (never while holding the lock)."""
        while True:
            with self.lock:
                if not self._outbox:
                    return
                event_type, obj = self._outbox.pop(0)
            self.send_event(event_type, obj)

    def send_event(self, event_type: str, obj: dict) -> int | None:
        """Deliver a signed event to the site, as Stripe does."""
        if not self.webhook_url:
            return None
        payload = json.dumps({"id": "evt_" + secrets.token_hex(10), "object": "event", "type": event_type,
                              "api_version": API_VERSION, "created": self.now(), "livemode": False,
                              "data": {"object": self._public(obj)}})
        t = int(time.time())
        mac = hmac.new(self.webhook_secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
        req = urllib.request.Request(self.webhook_url, data=payload.encode(), method="POST", headers={
            "Content-Type": "application/json", "Stripe-Signature": f"t={t},v1={mac}"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

    @staticmethod
    def _public(obj: dict) -> dict:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    def _session(self, sid: str) -> dict:
        session = self.sessions[sid]
        if session["status"] == "open" and self.strict["expiry"] and self.now() >= session["expires_at"]:
            session["status"] = "expired"
        return session

    # --- HTTP ---

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _send(self, status: int, body: bytes, replayed: bool = False) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Request-Id", "req_" + secrets.token_hex(6))
                if replayed:
                    self.send_header("Idempotent-Replayed", "true")
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
                    with fake.lock:
                        session = fake._session(obj_id)
                        price = fake.prices[session["_price"]]
                    amount = f"${price['unit_amount'] / 100:.2f} every {price['recurring']['interval_count']} " \
                             f"{price['recurring']['interval']}(s)" if price["recurring"] else \
                             f"${price['unit_amount'] / 100:.2f} once"
                    if session.get("discounts"):  # what Stripe shows under the total
                        amount += f" · {fake.discount_words(session)}"
                    title, action, label = f"Test checkout · {amount}", f"/pay/{obj_id}", \
                        "Pay with 4242 4242 4242 4242"
                    if session["status"] != "open":
                        label = ""
                        title = f"This Checkout Session is {session['status']}"
                else:
                    title, action, label = "Test billing portal", f"/portal/{obj_id}", "Cancel subscription"
                form = f"<form method=post action='{html.escape(action)}'><button>{label}</button></form>"
                body = (f"<!doctype html><title>{html.escape(title)}</title><h1>{html.escape(title)}</h1>"
                        f"{form if label else ''}").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _browser_post(self) -> None:
                kind, _, obj_id = self.path.strip("/").partition("/")
                if kind == "pay":
                    try:
                        fake.complete_checkout(obj_id)
                    except ValueError:
                        return self._page()
                    target = fake.sessions[obj_id]["success_url"]
                else:
                    portal = fake.portal_sessions[obj_id]
                    for sub in list(fake.subscriptions.values()):
                        if sub["customer"] == portal["customer"] and sub["status"] in ("trialing", "active"):
                            fake.update_subscription(sub["id"], cancel_at_period_end=True)
                            fake._event("customer.subscription.updated", sub)
                    target = portal["return_url"]
                fake.flush()
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
                if not (self.headers.get("Authorization") or "").startswith("Bearer sk_"):
                    return self._send(401, _error("Invalid API key provided", "authentication_error"))
                version = self.headers.get("Stripe-Version") or ""
                fake.versions.add(version)
                if fake.strict["version"] and version != API_VERSION:
                    return self._send(400, _error(f"Invalid Stripe API version: {version or '(none)'}"))
                cls = stripe_params.params_class(method, url.path)
                if cls is None:
                    return self._send(404, _error(f"Unrecognized request URL ({method}: {url.path})"))
                if fake.strict["params"] and (errors := stripe_params.check(cls, params)):
                    # Refused before it runs: Stripe saves no idempotent result for these.
                    return self._send(400, _error(errors[0]))
                if fake.strict["limits"] and (problem := _value_problem(params)):
                    return self._send(400, _error(problem))
                key = self.headers.get("Idempotency-Key")
                if fake.strict["limits"] and (problem := _request_problem(method, url.path, params, key)):
                    return self._send(400, _error(problem))
                with fake.lock:
                    if method == "POST" and key and (stored := fake.idempotent.get(key)):
                        if fake.strict["idempotency"] and stored[:3] != (method, url.path, params):
                            return self._send(400, _error(
                                "Keys for idempotent requests can only be used with the same parameters they "
                                f"were first used with. Try using a key other than '{key}' if you meant to "
                                "execute a different request.", "idempotency_error"))
                        return self._send(*stored[3:], replayed=True)
                    if fake.fail_next > 0 or (fake.fail_when and fake.fail_when(method, url.path)):
                        fake.fail_next = max(0, fake.fail_next - 1)
                        result = (500, _error("Simulated outage", "api_error"))
                    else:
                        try:
                            result = fake.route(method, url.path, params, raw, dict(self.headers))
                        except Exception:  # a bug in the fake: say so loudly, don't drop the connection
                            traceback.print_exc()
                            result = (500, _error(f"stripe_fake crashed: {traceback.format_exc()}", "api_error"))
                    if method == "POST" and key:
                        # Stripe keeps the first result for 24 hours, a 500 included.
                        fake.idempotent[key] = (method, url.path, params, *result)
                self._send(*result)
                if fake._outbox:
                    # Events this call caused go out on their own thread: the caller
                    # may hold locks the webhook needs, and its next request may come
                    # on this same keep-alive connection.
                    threading.Thread(target=fake.flush, daemon=True).start()

        return Handler

    def route(self, method: str, path: str, params: dict, raw: bytes, headers: dict) -> tuple[int, bytes]:
        with self.lock:
            if path == "/v1/prices" and method == "POST":
                return self._create_price(params)
            if path == "/v1/prices" and method == "GET":
                data = list(self.prices.values())
                if params.get("lookup_keys"):
                    keys = set(_as_list(params["lookup_keys"]))
                    data = [p for p in data if p.get("lookup_key") in keys]
                if "active" in params:
                    data = [p for p in data if p["active"] == (params["active"] == "true")]
                return _ok(_list("/v1/prices", data))
            if m := re.fullmatch(r"/v1/prices/(\w+)", path):
                if m[1] not in self.prices:
                    return _missing("price", m[1])
                return self._modify_price(self.prices[m[1]], params) if method == "POST" else _ok(self.prices[m[1]])
            if path == "/v1/customers" and method == "GET":
                return self._list_customers(params)
            if (m := re.fullmatch(r"/v1/customers/(\w+)", path)) and m[1] in self.deleted_customers:
                if method == "GET":  # Stripe still answers for a deleted customer, as a stub
                    return _ok({"id": m[1], "object": "customer", "deleted": True})
                return _missing("customer", m[1])
            if (m := re.fullmatch(r"/v1/customers/(\w+)", path)) and method == "DELETE":
                return _ok(self._delete_customer(m[1]))
            if (m := re.fullmatch(r"/v1/customers/(\w+)", path)) and m[1] in self.customers and method == "GET":
                return _ok(self.customers[m[1]])
            if (m := re.fullmatch(r"/v1/customers/(\w+)", path)) and m[1] in self.customer_clocks and method == "GET":
                status, body = self._forward(method, path, raw, headers)
                return _ok({**json.loads(body), "test_clock": self.customer_clocks[m[1]]}) if status == 200 \
                    else (status, body)
            if m := re.fullmatch(r"/v1/charges/(\w+)", path):
                charge = self._charge_by_id(m[1])
                return _ok(self.charge_object(charge)) if charge else _missing("charge", m[1])
            if m := re.fullmatch(r"/v1/disputes/(\w+)", path):
                return _ok(self.disputes[m[1]]) if m[1] in self.disputes else _missing("dispute", m[1])
            if m := re.fullmatch(r"/v1/payment_intents/(\w+)", path):
                pi = self.payment_intents.get(m[1])
                return _ok(pi) if pi else _missing("payment_intent", m[1])
            if path == "/v1/invoice_payments":
                return self._list_invoice_payments(params)
            if path == "/v1/checkout/sessions":
                return self._create_session(params) if method == "POST" else self._list_sessions(params)
            if m := re.fullmatch(r"/v1/checkout/sessions/(\w+)(/expire)?", path):
                if m[1] not in self.sessions:
                    return _missing("checkout.session", m[1])
                session = self._session(m[1])
                if m[2]:
                    if session["status"] != "open":
                        return _bad(f"Only Checkout Sessions with a status of `open` can be expired; "
                                    f"this one is `{session['status']}`.")
                    session["status"] = "expired"
                return _ok(self._public(session))
            if path == "/v1/billing_portal/sessions" and method == "POST":
                return self._create_portal(params)
            if path.startswith("/v1/billing_portal/configurations"):
                return self._route_portal_configurations(method, path, params)
            if m := re.fullmatch(r"/v1/balance_transactions/(\w+)", path):
                txn = next((t for t in self.balance_transactions if t["id"] == m[1]), None)
                return _ok(txn) if txn else _missing("balance_transaction", m[1])
            if path == "/v1/subscriptions" and method == "GET":
                return self._list_subscriptions(params)
            if (m := re.fullmatch(r"/v1/subscriptions/(\w+)/resume", path)) and m[1] in self.subscriptions:
                return self._resume_subscription(self.subscriptions[m[1]])
            if (m := re.fullmatch(r"/v1/subscriptions/(\w+)", path)) and m[1] in self.subscriptions:
                sub = self.subscriptions[m[1]]
                if method == "DELETE":
                    return self._cancel_subscription(sub)
                if method == "POST":
                    return self._modify_subscription(sub, params)
                return _ok(self._public(sub))
            if (m := re.fullmatch(r"/v1/payment_methods/(\w+)", path)) and m[1] in self.payment_methods:
                return _ok(self.payment_methods[m[1]])
            if m := re.fullmatch(r"/v1/invoices/(\w+)(/void)?", path):
                if m[1] not in self.invoices:
                    return _missing("invoice", m[1])
                invoice = self.invoices[m[1]]
                if method == "DELETE":  # only a draft can be deleted; a finalized invoice is voided
                    if invoice["status"] != "draft":
                        return _bad(f"You can only delete draft invoices; this one is {invoice['status']}.")
                    del self.invoices[m[1]]
                    return _ok({"id": m[1], "object": "invoice", "deleted": True})
                if m[2]:
                    if invoice["status"] not in ("open", "uncollectible"):
                        return _bad(f"You can only void an open or uncollectible invoice; this one is "
                                    f"{invoice['status']}.")
                    invoice["status"] = "void"
                return _ok(invoice)
            if path == "/v1/refunds":
                return self._refund(params)
            if path == "/v1/balance_transactions":
                return self._list_balance_transactions(params)
            if path == "/v1/test_helpers/test_clocks":
                clock = {"id": "clock_" + secrets.token_hex(8), "object": "test_helpers.test_clock",
                         "frozen_time": int(params["frozen_time"]), "status": "ready", "name": params.get("name"),
                         "created": self.now(), "deletes_after": self.now() + 30 * 86400, "livemode": False}
                self.test_clocks[clock["id"]] = clock
                return _ok(clock)
            if m := re.fullmatch(r"/v1/test_helpers/test_clocks/(\w+)(/advance)?", path):
                clock = self.test_clocks.get(m[1])
                if clock is None:
                    return _missing("test_helpers.test_clock", m[1])
                return self._advance_clock(clock, int(params["frozen_time"])) if m[2] else _ok(clock)
            if path == "/v1/customers" and method == "POST" and params.get("test_clock"):
                return self._create_clock_customer(params["test_clock"], raw, headers)
            if path.startswith(("/v1/coupons", "/v1/promotion_codes")):
                return self._route_discounts(method, path, params)
        return self._forward(method, path, raw, headers)

    def _create_clock_customer(self, clock_id: str, raw: bytes, headers: dict) -> tuple[int, bytes]:
        """A customer on a test clock (localstripe knows no clocks: it keeps the rest)."""
        if clock_id not in self.test_clocks:
            return _missing("test_helpers.test_clock", clock_id)
        rest = [(k, v) for k, v in urllib.parse.parse_qsl(raw.decode(), keep_blank_values=True) if k != "test_clock"]
        status, body = self._forward("POST", "/v1/customers", urllib.parse.urlencode(rest).encode(), headers)
        if status != 200:
            return status, body
        customer = {**json.loads(body), "test_clock": clock_id}
        self.customer_clocks[customer["id"]] = clock_id
        return _ok(customer)

    def _advance_clock(self, clock: dict, target: int) -> tuple[int, bytes]:
        """Move one test clock: its customers' subscriptions fall due on the way, nobody else's.
        Stripe moves a clock at most two intervals of the shortest subscription price on it
        (two years when it has none), so that no renewal is skipped unseen."""
        if target <= clock["frozen_time"]:
            return _bad("The frozen time must be after the clock's current frozen time.")
        live = [s for s in self.subscriptions.values() if self.customer_clocks.get(s["customer"]) == clock["id"]
                and s["status"] not in ("canceled", "incomplete_expired")]
        furthest = 2 * min((_period(s["items"]["data"][0]["price"]) for s in live), default=365 * 86400)
        if self.strict["limits"] and target - clock["frozen_time"] > furthest:
            return _bad("Cannot advance the test clock more than two intervals of the shortest subscription on it "
                        f"(at most to {clock['frozen_time'] + furthest}); advance in smaller steps.")
        clock["status"] = "advancing"
        self._clock_now = clock["frozen_time"]
        try:
            while (due := self._next_due(clock["id"])) is not None and due[0] <= target:
                self._clock_now = max(self._clock_now, due[0])
                self._fall_due(due[1])
        finally:
            self._clock_now = None
        clock.update(frozen_time=target, status="ready")
        return _ok(clock)

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
        if not p.get("product") or "unit_amount" not in p:
            return _bad("Missing required param: product and unit_amount")
        recurring = p.get("recurring") or None
        if self.strict["limits"] and (problem := _price_problem(p)):
            return _bad(problem)
        lookup_key = p.get("lookup_key")
        holder = next((q for q in self.prices.values() if lookup_key and q.get("lookup_key") == lookup_key), None)
        if holder is not None and self.strict["lookup_keys"]:
            if p.get("transfer_lookup_key") != "true":
                return _bad(f"A price (`{holder['id']}`) already uses that lookup key.")
            holder["lookup_key"] = None
        price = {
            "id": "price_" + secrets.token_hex(8), "object": "price", "active": True, "product": p["product"],
            "unit_amount": int(p["unit_amount"]), "currency": p["currency"],
            "type": "recurring" if recurring else "one_time",
            "recurring": {"interval": recurring["interval"],
                          "interval_count": int(recurring.get("interval_count") or 1)} if recurring else None,
            "lookup_key": lookup_key, "metadata": p.get("metadata", {}), "livemode": False, "created": self.now(),
        }
        self.prices[price["id"]] = price
        return _ok(price)

    def _modify_price(self, price: dict, p: dict) -> tuple[int, bytes]:
        # Amount, currency and recurrence are not in PriceModifyParams: the
        # strict parameter check refuses them before we get here.
        if "lookup_key" in p and p["lookup_key"]:
            holder = next((q for q in self.prices.values() if q.get("lookup_key") == p["lookup_key"]), None)
            if holder is not None and holder is not price:
                if p.get("transfer_lookup_key") != "true":
                    return _bad(f"A price (`{holder['id']}`) already uses that lookup key.")
                holder["lookup_key"] = None
        for field in ("active", "lookup_key", "nickname"):
            if field in p:
                price[field] = (p[field] == "true") if field == "active" else (p[field] or None)
        price["metadata"].update(p.get("metadata") or {})
        return _ok(price)

    def _create_session(self, p: dict) -> tuple[int, bytes]:
        items = [dict(item) for item in _as_list(p.get("line_items"))]
        if len(items) == 1 and items[0].get("price_data") and "price" not in items[0]:
            if (problem := self._inline_price_problem(items[0]["price_data"])) is not None:
                return _bad(problem)
            items[0]["price"] = self._inline_price(items[0]["price_data"])
        if len(items) != 1 or items[0].get("price") not in self.prices or str(items[0].get("quantity")) != "1":
            return _bad("line_items must hold one known price with quantity 1")
        price = self.prices[items[0]["price"]]
        if not price["active"]:
            return _bad(f"The price specified is inactive: {items[0]['price']}")
        if not p.get("success_url") or not p.get("cancel_url"):
            return _bad("success_url and cancel_url are required")  # the session id placeholder is optional
        if p.get("mode") == "subscription" and not price["recurring"]:
            return _bad("You must provide at least one recurring price in `subscription` mode when using prices.")
        if self.strict["limits"] and (problem := _session_problem(p, price)):
            return _bad(problem)
        if p.get("mode") != "payment" and (not p.get("customer") or not p.get("client_reference_id")):
            return _bad("customer and client_reference_id are required")  # ours always sends both
        if (problem := self._discount_problem(p, price)) is not None:
            return _bad(problem)
        now = self.now()
        expires_at = int(p.get("expires_at") or now + 86400)
        if self.strict["expiry"] and not now + 30 * 60 <= expires_at <= now + 86400:
            return _bad("expires_at must be between 30 minutes and 24 hours from Checkout Session creation.")
        if p.get("customer"):
            status, _ = self._forward("GET", f"/v1/customers/{p['customer']}", b"",
                                      {"Authorization": "Bearer sk_test_fake"})
            if (status != 200 and p["customer"] not in self.customers) or p["customer"] in self.deleted_customers:
                return _missing("customer", p["customer"])
            held = self._customer_currency(p["customer"])
            if self.strict["limits"] and held and held != price["currency"]:
                return _bad("You cannot combine currencies on a single customer. This customer has an active "
                            f"subscription, subscription schedule, discount, quote, or invoice item with currency "
                            f"{held}.")
        sub_data = p.get("subscription_data") or {}
        sid = "cs_test_" + secrets.token_hex(10)
        session = {
            "id": sid, "object": "checkout.session", "mode": p.get("mode"), "status": "open",
            "payment_status": "unpaid", "customer": p.get("customer"), "subscription": None,
            "client_reference_id": p.get("client_reference_id"), "metadata": p.get("metadata", {}),
            "customer_email": p.get("customer_email"), "payment_intent": None,
            "discounts": [{"coupon": self.promotion_codes[d["promotion_code"]]["promotion"]["coupon"],
                           "promotion_code": d["promotion_code"]} for d in _as_list(p.get("discounts"))],
            "url": f"{self.base}/pay/{sid}", "success_url": p["success_url"].replace("{CHECKOUT_SESSION_ID}", sid),
            "cancel_url": p["cancel_url"], "livemode": False, "created": now, "expires_at": expires_at,
            "_price": items[0]["price"], "_trial_days": sub_data.get("trial_period_days"),
            "_trial_end_behavior": ((sub_data.get("trial_settings") or {}).get("end_behavior") or {}).get(
                "missing_payment_method", "create_invoice"),
            "_subscription_metadata": sub_data.get("metadata", {}), "_params": p,
        }
        self.sessions[sid] = session
        return _ok(self._public(session))

    def _customer_currency(self, customer: str) -> str | None:
        """The currency a customer is bound to by a live subscription or an unpaid invoice."""
        for sub in self.subscriptions.values():
            if sub["customer"] == customer and sub["status"] not in ("canceled", "incomplete_expired"):
                return sub["items"]["data"][0]["price"].get("currency", "usd")
        for invoice in self.invoices.values():
            if invoice["customer"] == customer and invoice["status"] in ("draft", "open"):
                return invoice["currency"]
        return None

    def _list_sessions(self, p: dict) -> tuple[int, bytes]:
        data = [self._public(self._session(sid)) for sid in sorted(self.sessions)]
        if p.get("customer"):
            data = [s for s in data if s["customer"] == p["customer"]]
        if p.get("status"):
            data = [s for s in data if s["status"] == p["status"]]
        return _ok(_list("/v1/checkout/sessions", data))

    def save_portal_settings(self) -> str:
        """Someone saves the Billing Portal settings in the test-mode dashboard: the default
        configuration exists from then on."""
        with self.lock:
            if self.portal_default is None:
                status, body = self._create_portal_configuration({"features": {"invoice_history": {"enabled": "true"}}})
                self.portal_default = json.loads(body)["id"]
                self.portal_configurations[self.portal_default]["is_default"] = True
            return self.portal_default

    def _create_portal_configuration(self, p: dict) -> tuple[int, bytes]:
        features = p.get("features") or {}
        enabled = {name: (f or {}).get("enabled") == "true" for name, f in features.items() if isinstance(f, dict)}
        if not any(enabled.values()):
            return _bad("A portal configuration needs at least one feature enabled.")
        if enabled.get("subscription_cancel") is False and "mode" in (features.get("subscription_cancel") or {}):
            return _bad("features[subscription_cancel][mode] needs the feature enabled.")
        conf_id = "bpc_" + secrets.token_hex(8)
        conf = {"id": conf_id, "object": "billing_portal.configuration", "active": True, "is_default": False,
                "livemode": False, "created": self.now(), "updated": self.now(), "name": p.get("name") or None,
                "default_return_url": p.get("default_return_url") or None, "metadata": p.get("metadata") or {},
                "features": {name: {**(f or {}), "enabled": enabled.get(name, False)}
                             for name, f in features.items()}}
        self.portal_configurations[conf_id] = conf
        return _ok(conf)

    def _route_portal_configurations(self, method: str, path: str, p: dict) -> tuple[int, bytes]:
        if path == "/v1/billing_portal/configurations":
            if method == "POST":
                return self._create_portal_configuration(p)
            data = list(self.portal_configurations.values())
            for flag in ("active", "is_default"):
                if flag in p:
                    data = [c for c in data if c[flag] == (p[flag] == "true")]
            return _page(path, data, p)
        conf_id = path.rsplit("/", 1)[1]
        conf = self.portal_configurations.get(conf_id)
        if conf is None:
            return _missing("billing_portal.configuration", conf_id)
        if method == "POST":
            if "active" in p:
                if conf["is_default"] and p["active"] == "false":
                    return _bad("The default configuration cannot be deactivated.")
                conf["active"] = p["active"] == "true"
            conf["metadata"].update(p.get("metadata") or {})
            conf["updated"] = self.now()
        return _ok(conf)

    def _create_portal(self, p: dict) -> tuple[int, bytes]:
        if not p.get("customer") or not p.get("return_url"):
            return _bad("customer and return_url are required")
        if conf_id := p.get("configuration"):
            conf = self.portal_configurations.get(conf_id)
            if conf is None:
                return _missing("billing_portal.configuration", conf_id)
            if not conf["active"]:
                return _bad(f"The configuration {conf_id} is not active.")
        elif self.portal_default is None and self.strict["limits"]:
            return _bad("No configuration provided and your test mode default configuration has not been created. "
                        "Provide a configuration or create your default by saving your customer portal settings in "
                        "test mode at https://dashboard.stripe.com/test/settings/billing/portal.")
        pid = "bps_" + secrets.token_hex(8)
        session = {"id": pid, "object": "billing_portal.session", "customer": p["customer"],
                   "configuration": p.get("configuration") or self.portal_default, "return_url": p["return_url"],
                   "url": f"{self.base}/portal/{pid}", "livemode": False}
        self.portal_sessions[pid] = session
        return _ok(session)

    def _cancel_subscription(self, sub: dict) -> tuple[int, bytes]:
        if sub["status"] in ("canceled", "incomplete_expired"):
            return _bad(f"A canceled subscription can only update its cancellation_details. ({sub['id']})")
        self._end(sub)
        return _ok(self._public(sub))

    def _modify_subscription(self, sub: dict, p: dict) -> tuple[int, bytes]:
        if sub["status"] == "canceled":
            return _bad("A canceled subscription can only update its cancellation_details and metadata.")
        if "cancel_at_period_end" in p:
            sub["cancel_at_period_end"] = p["cancel_at_period_end"] == "true"
        sub["metadata"].update(p.get("metadata") or {})
        if "pause_collection" in p:
            pause = p["pause_collection"]  # an empty string resumes collection
            resumes_at = int(pause["resumes_at"]) if isinstance(pause, dict) and "resumes_at" in pause else None
            if resumes_at is not None and resumes_at <= self.now() and self.strict["limits"]:
                return _bad("Invalid pause_collection[resumes_at]: must be in the future.")
            sub["pause_collection"] = {"behavior": pause["behavior"], "resumes_at": resumes_at} \
                if isinstance(pause, dict) else None
        if p.get("trial_end") == "now" and sub["status"] == "trialing":
            # Ending a trial invoices at once, like a trial that ran out.
            sub["trial_end"] = self.now()
            self._fall_due(sub)
        elif "trial_end" in p:
            return _bad("trial_end can only be 'now' in this fake")
        if p:
            self._event("customer.subscription.updated", sub)
        return _ok(self._public(sub))

    def _resume_subscription(self, sub: dict) -> tuple[int, bytes]:
        """A paused subscription (its trial ended without a card) resumes: invoiced at once."""
        if sub["status"] != "paused":
            return _bad("Only paused subscriptions can be resumed.")
        self._new_period(sub)
        sub["status"] = "active" if self._invoice(sub, sub["items"]["data"][0]["price"]["unit_amount"]) else "past_due"
        self._event("customer.subscription.resumed", sub)
        return _ok(self._public(sub))

    def _list_invoice_payments(self, p: dict) -> tuple[int, bytes]:
        pays = [pay for inv in self.invoices.values() for pay in inv["payments"]["data"]]
        if p.get("invoice"):
            pays = [pay for pay in pays if pay["invoice"] == p["invoice"]]
        if wanted := (p.get("payment") or {}).get("payment_intent"):
            pays = [pay for pay in pays if pay["payment"].get("payment_intent") == wanted]
        return _page("/v1/invoice_payments", pays, p)

    def _refund(self, p: dict) -> tuple[int, bytes]:
        pi = p.get("payment_intent")
        charge = self.charges.get(pi or "")
        if charge is None:
            return _missing("payment_intent", pi or "")
        amount = int(p.get("amount") or charge["amount"] - charge["refunded"])
        if amount <= 0 or charge["refunded"] + amount > charge["amount"]:
            return _bad(f"Charge for {pi} has already been refunded.")
        charge["refunded"] += amount
        refund = {"id": "re_" + secrets.token_hex(8), "object": "refund", "amount": amount, "charge": charge["id"],
                  "payment_intent": pi, "status": "succeeded", "created": self.now(), "currency": charge["currency"]}
        self.refunds[refund["id"]] = refund
        # Stripe does not return its fee on a refund.
        self._balance("refund", "refund", -amount, 0, charge["currency"], refund["id"])
        self._event("charge.refunded", self.charge_object(charge))
        return _ok(refund)

    def _list_balance_transactions(self, p: dict) -> tuple[int, bytes]:
        data = self.balance_transactions
        gte = (p.get("created") or {}).get("gte") if isinstance(p.get("created"), dict) else None
        if gte:
            data = [t for t in data if t["created"] >= int(gte)]
        return _page("/v1/balance_transactions", data, p)

    def _localstripe_list(self, path: str) -> list[dict]:
        """Every object of a localstripe list (the site's own customers live there), page by page."""
        found: list[dict] = []
        after = ""
        while True:
            query = "?limit=100" + (f"&starting_after={after}" if after else "")
            status, body = self._forward("GET", path, b"", {"Authorization": "Bearer sk_test_fake"}, query)
            if status != 200:
                return found
            page = json.loads(body)
            found += page["data"]
            if not page.get("has_more") or not page["data"]:
                return found
            after = page["data"][-1]["id"]

    def _list_customers(self, p: dict) -> tuple[int, bytes]:
        data = [*self.customers.values(), *self._localstripe_list("/v1/customers")]
        if p.get("email"):  # Stripe matches the email case-sensitively
            data = [c for c in data if c.get("email") == p["email"]]
        return _page("/v1/customers", data, p)

    def _list_subscriptions(self, p: dict) -> tuple[int, bytes]:
        # Ours plus the ones living in localstripe (created there directly by tests).
        status, body = self._forward("GET", "/v1/subscriptions", b"", {"Authorization": "Bearer sk_test_fake"},
                                     "?status=all&limit=100")
        real = json.loads(body)["data"] if status == 200 else []
        data = [*map(self._public, self.subscriptions.values()), *real]
        if p.get("status", "all") != "all":
            data = [s for s in data if s["status"] == p["status"]]
        if p.get("customer"):
            data = [s for s in data if s["customer"] == p["customer"]]
        return _page("/v1/subscriptions", data, p)

    # --- Offers (growth/): coupons, promotion codes, and the discounts Checkout applies ---
    # As Stripe has them: a coupon is immutable but for its name and metadata; a promotion code
    # names one coupon, is unique among active codes (any case), may expire and be used up, and
    # only its `active` changes. Checkout refuses a discount that is not a live code whose
    # coupon applies to the price (its products, its currency), and `discounts` together with
    # `allow_promotion_codes`. The first invoice (or the one-off payment) is charged discounted;
    # renewals too while the coupon's duration lasts.

    def _route_discounts(self, method: str, path: str, p: dict) -> tuple[int, bytes]:
        if path == "/v1/coupons" and method == "POST":
            return self._create_coupon(p)
        if m := re.fullmatch(r"/v1/coupons/(\w+)", path):
            coupon = self.coupons.get(m[1])
            if coupon is None:
                return _missing("coupon", m[1])
            if method == "DELETE":
                coupon["_deleted"] = True
                return _ok({"id": coupon["id"], "object": "coupon", "deleted": True})
            if method == "POST":
                coupon["name"] = p.get("name", coupon["name"])
                coupon["metadata"].update(p.get("metadata") or {})
            return _ok(self._public(coupon))
        if path == "/v1/promotion_codes" and method == "POST":
            return self._create_promotion_code(p)
        if path == "/v1/promotion_codes":
            data = [self._public(c) for c in self.promotion_codes.values()]
            if "code" in p:
                data = [c for c in data if c["code"].lower() == p["code"].lower()]
            if "active" in p:
                data = [c for c in data if c["active"] == (p["active"] == "true")]
            return _page("/v1/promotion_codes", data, p)
        if m := re.fullmatch(r"/v1/promotion_codes/(\w+)", path):
            code = self.promotion_codes.get(m[1])
            if code is None:
                return _missing("promotion_code", m[1])
            if method == "POST" and "active" in p:
                active = p["active"] == "true"
                if active and any(c["active"] and c["id"] != code["id"] and c["code"].lower() == code["code"].lower()
                                  for c in self.promotion_codes.values()):
                    return _bad(f"An active promotion code with `code: {code['code']}` already exists.")
                code["active"] = active
            if method == "POST":
                code["metadata"].update(p.get("metadata") or {})
            return _ok(self._public(code))
        return _bad(f"Unrecognized request URL ({method}: {path})")

    def _create_coupon(self, p: dict) -> tuple[int, bytes]:
        has_percent, has_amount = "percent_off" in p, "amount_off" in p
        if has_percent == has_amount:
            return _bad("You must pass exactly one of `percent_off` or `amount_off`.")
        if has_percent and not 0 < float(p["percent_off"]) <= 100:
            return _bad("Invalid percent_off: must be greater than 0 and at most 100.")
        if has_amount and (int(p["amount_off"]) <= 0 or str(p.get("currency", "")).lower() not in CURRENCIES):
            return _bad("amount_off must be positive and comes with a valid `currency`.")
        duration = p.get("duration", "once")
        if (duration == "repeating") != ("duration_in_months" in p):
            return _bad("`duration_in_months` is required with duration `repeating`, and allowed only with it.")
        if "max_redemptions" in p and int(p["max_redemptions"]) <= 0:
            return _bad("Invalid max_redemptions: must be positive.")
        if "redeem_by" in p and int(p["redeem_by"]) <= self.now():
            return _bad("Invalid redeem_by: must be in the future.")
        products = _as_list((p.get("applies_to") or {}).get("products"))
        for product in products:
            status, _ = self._forward("GET", f"/v1/products/{product}", b"", {"Authorization": "Bearer sk_test_fake"})
            if status != 200:
                return _missing("product", product)
        coupon_id = p.get("id") or secrets.token_hex(4)
        if coupon_id in self.coupons:
            return _bad(f"Coupon already exists: {coupon_id}")
        coupon = {"id": coupon_id, "object": "coupon", "valid": True, "created": self.now(), "livemode": False,
                  "name": p.get("name"), "metadata": p.get("metadata") or {}, "duration": duration,
                  "duration_in_months": int(p["duration_in_months"]) if "duration_in_months" in p else None,
                  "percent_off": float(p["percent_off"]) if has_percent else None,
                  "amount_off": int(p["amount_off"]) if has_amount else None,
                  "currency": str(p["currency"]).lower() if has_amount else None,
                  "applies_to": {"products": products} if products else None,
                  "max_redemptions": int(p["max_redemptions"]) if "max_redemptions" in p else None,
                  "redeem_by": int(p["redeem_by"]) if "redeem_by" in p else None, "times_redeemed": 0}
        self.coupons[coupon_id] = coupon
        return _ok(coupon)

    def _coupon_valid(self, coupon: dict) -> bool:
        return not coupon.get("_deleted") and not (coupon["redeem_by"] and coupon["redeem_by"] <= self.now()) \
            and not (coupon["max_redemptions"] and coupon["times_redeemed"] >= coupon["max_redemptions"])

    def _create_promotion_code(self, p: dict) -> tuple[int, bytes]:
        promotion = p.get("promotion") or {}
        coupon = self.coupons.get(promotion.get("coupon") or "")
        if coupon is None:
            return _missing("coupon", promotion.get("coupon") or "")
        if not self._coupon_valid(coupon):
            return _bad(f"Coupon {coupon['id']} is no longer valid.")
        code = p.get("code") or secrets.token_hex(4).upper()
        if not re.fullmatch(r"[A-Za-z0-9-]{1,500}", code):
            return _bad("Invalid code: use letters, digits and dashes.")
        active = p.get("active", "true") == "true"
        if active and any(c["active"] and c["code"].lower() == code.lower() for c in self.promotion_codes.values()):
            return _bad(f"An active promotion code with `code: {code}` already exists.")
        expires_at = int(p["expires_at"]) if "expires_at" in p else None
        if expires_at is not None and (expires_at <= self.now() or (coupon["redeem_by"] and
                                                                    expires_at > coupon["redeem_by"])):
            return _bad("Invalid expires_at: must be in the future, and not after the coupon's redeem_by.")
        if "max_redemptions" in p and int(p["max_redemptions"]) <= 0:
            return _bad("Invalid max_redemptions: must be positive.")
        promo = {"id": "promo_" + secrets.token_hex(8), "object": "promotion_code", "code": code, "active": active,
                 "promotion": {"type": "coupon", "coupon": coupon["id"]}, "created": self.now(),
                 "expires_at": expires_at, "livemode": False, "metadata": p.get("metadata") or {},
                 "max_redemptions": int(p["max_redemptions"]) if "max_redemptions" in p else None,
                 "times_redeemed": 0, "customer": p.get("customer")}
        self.promotion_codes[promo["id"]] = promo
        return _ok(promo)

    def _discount_problem(self, p: dict, price: dict) -> str | None:
        """Why Checkout refuses this session's discounts (None: it takes them)."""
        discounts = _as_list(p.get("discounts"))
        if not discounts:
            return None
        if p.get("allow_promotion_codes") == "true":
            return "You may only specify one of these parameters: allow_promotion_codes, discounts."
        if len(discounts) > 1 or set(discounts[0]) != {"promotion_code"}:
            return "This fake takes one discount, by promotion_code (as the site sends it)."
        promo = self.promotion_codes.get(discounts[0]["promotion_code"])
        if promo is None:
            return f"No such promotion code: '{discounts[0]['promotion_code']}'"
        coupon = self.coupons[promo["promotion"]["coupon"]]
        if not promo["active"] or (promo["expires_at"] and promo["expires_at"] <= self.now()) or \
                (promo["max_redemptions"] and promo["times_redeemed"] >= promo["max_redemptions"]) or \
                not self._coupon_valid(coupon):
            return f"The promotion code `{promo['code']}` is not active or has expired."
        products = (coupon["applies_to"] or {}).get("products")
        if products and price["product"] not in products:
            return f"The promotion code `{promo['code']}` does not apply to any item in this session."
        if coupon["amount_off"] and coupon["currency"] != price["currency"]:
            return f"The coupon's currency ({coupon['currency']}) is not the price's ({price['currency']})."
        return None

    def _redeem_discounts(self, session: dict) -> list[dict]:
        """The session is paid: its promotion code and coupon count one more redemption."""
        for discount in session["discounts"]:
            self.promotion_codes[discount["promotion_code"]]["times_redeemed"] += 1
            self.coupons[discount["coupon"]]["times_redeemed"] += 1
        return [{**d, "start": self.now()} for d in session["discounts"]]

    def discounted(self, amount: int, holder: dict) -> int:
        """`amount` after the coupon of a session's (or subscription's) discount."""
        for discount in holder.get("discounts") or []:
            coupon = self.coupons[discount["coupon"]]
            if coupon["percent_off"]:
                amount = int((Decimal(amount) * (100 - Decimal(str(coupon["percent_off"]))) / 100)
                             .quantize(Decimal(1), rounding="ROUND_HALF_UP"))
            else:
                amount = max(0, amount - coupon["amount_off"])
        return amount

    def renewal_amount(self, sub: dict, amount: int) -> int:
        """A renewal's amount: discounted while its coupon's duration lasts (a month is 30 days here)."""
        lasting = []
        for discount in sub.get("discounts") or []:
            coupon = self.coupons[discount["coupon"]]
            if coupon["duration"] == "forever" or (coupon["duration"] == "repeating" and self.now() <
                                                   discount["start"] + coupon["duration_in_months"] * 30 * 86400):
                lasting.append(discount)
        return self.discounted(amount, {"discounts": lasting})

    def discount_words(self, session: dict) -> str:
        """What Stripe's page shows of a session's discount: the code and the coupon's terms."""
        words = []
        for discount in session["discounts"]:
            coupon = self.coupons[discount["coupon"]]
            off = f"{coupon['percent_off']:g}% off" if coupon["percent_off"] else \
                f"${coupon['amount_off'] / 100:.2f} off"
            lasting = {"once": "once", "forever": "forever"}.get(coupon["duration"],
                                                                 f"for {coupon['duration_in_months']} months")
            words.append(f"{self.promotion_codes[discount['promotion_code']]['code']}: {off} {lasting}")
        return "; ".join(words)

    def _inline_price_problem(self, data: dict) -> str | None:
        if str(data.get("currency", "")).lower() not in CURRENCIES or "unit_amount" not in data:
            return "price_data needs a known currency and a unit_amount"
        if not (data.get("product") or (data.get("product_data") or {}).get("name")):
            return "price_data needs a product or product_data[name]"
        return None

    def _inline_price(self, data: dict) -> str:
        """A price made by Checkout for one session's `price_data` (not listed, as in Stripe)."""
        price_id = "price_" + secrets.token_hex(8)
        recurring = data.get("recurring")
        self.prices[price_id] = {
            "id": price_id, "object": "price", "active": True, "product": data.get("product") or "prod_inline",
            "unit_amount": int(data["unit_amount"]), "currency": str(data["currency"]).lower(),
            "type": "recurring" if recurring else "one_time",
            "recurring": {"interval": recurring["interval"],
                          "interval_count": int(recurring.get("interval_count") or 1)} if recurring else None,
            "lookup_key": None, "metadata": {}, "livemode": False, "created": self.now()}
        return price_id


def _value_problem(params: Any, path: str = "") -> str | None:
    """Stripe's limits on values any request may carry: metadata and emails."""
    if not isinstance(params, dict):
        return None
    for key, value in params.items():
        name = f"{path}[{key}]" if path else key
        if key == "metadata" and isinstance(value, dict):
            if len(value) > 50:
                return f"Invalid {name}: metadata can have at most 50 keys."
            for k, v in value.items():
                if len(k) > 40:
                    return f"Invalid {name}: keys must be at most 40 characters ({k[:45]!r})."
                if isinstance(v, str) and len(v) > 500:
                    return f"Invalid {name}[{k}]: values must be at most 500 characters."
        elif key in ("email", "customer_email") and isinstance(value, str) and value and not _EMAIL.fullmatch(value):
            return f"Invalid email address: {value}"
        elif isinstance(value, dict) and (problem := _value_problem(value, name)):
            return problem
    return None


_URL_PARAMS = ("success_url", "cancel_url", "return_url")


def _request_problem(method: str, path: str, params: dict, idempotency_key: str | None) -> str | None:
    """Stripe's limits that hang on one endpoint's parameters (or headers) rather than on a value's
    type: the library's typed params cannot say them."""
    if idempotency_key is not None and len(idempotency_key) > 255:
        return "Invalid Idempotency-Key: keys must be at most 255 characters long."
    if method == "GET" and "limit" in params:  # every list endpoint
        limit = int(params["limit"]) if re.fullmatch(r"-?\d+", str(params["limit"])) else 0
        if not 1 <= limit <= 100:
            return f"Invalid limit: must be between 1 and 100 (got {limit})."
    lookup_keys = [params["lookup_key"]] if isinstance(params.get("lookup_key"), str) else []
    if path == "/v1/prices" and method == "GET" and "lookup_keys" in params:
        listed = _as_list(params["lookup_keys"])
        if len(listed) > 10:
            return f"Invalid lookup_keys: at most 10 lookup keys may be given (got {len(listed)})."
        lookup_keys += listed
    if too_long := next((k for k in lookup_keys if len(k) > 200), None):
        return f"Invalid lookup_key: must be at most 200 characters ({too_long[:20]}…)."
    for name in _URL_PARAMS:
        if name in params and not _absolute_url(params[name]):
            return f"Not a valid URL: {name} must be an absolute http(s) URL (got {params[name]!r})."
    if path == "/v1/checkout/sessions" and method == "POST" and params.get("customer") \
            and params.get("customer_email"):
        return "You may only specify one of these parameters: customer, customer_email."
    return None


def _absolute_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    url = urllib.parse.urlsplit(value)
    return url.scheme in ("http", "https") and bool(url.hostname) and not any(c.isspace() for c in value)


def _price_problem(p: dict) -> str | None:
    currency = str(p.get("currency", "")).lower()
    if currency not in CURRENCIES:
        return f"Invalid currency: {currency}. Stripe supports these currencies: {', '.join(sorted(CURRENCIES))}"
    if int(p["unit_amount"]) < 0:
        return "Invalid unit_amount: must be greater than or equal to 0"
    recurring = p.get("recurring") or {}
    if recurring:
        interval, count = recurring["interval"], int(recurring.get("interval_count") or 1)
        if interval in MAX_INTERVALS and count > MAX_INTERVALS[interval]:
            return (f"Invalid recurring[interval_count]: the maximum interval is three years "
                    f"({MAX_INTERVALS[interval]} {interval}s).")
    return None


def _session_problem(p: dict, price: dict) -> str | None:
    if len(p.get("client_reference_id") or "") > 200:
        return "Invalid client_reference_id: must be at most 200 characters."
    trial = (p.get("subscription_data") or {}).get("trial_period_days")
    if trial is not None and not 1 <= int(trial) <= 730:
        return "Invalid subscription_data[trial_period_days]: must be between 1 and 730."
    if p.get("mode") == "payment" and price["recurring"]:
        return "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode " \
               "or use only one-time prices."
    minimum = MINIMUM_CHARGE.get(price["currency"], 0)
    if 0 < price["unit_amount"] < minimum:
        return (f"The Checkout Session's total amount due must add up to at least {minimum} in the smallest unit "
                f"of {price['currency']}.")
    return None


def _fee_details(fee: int, currency: str, description: str) -> list[dict]:
    """A balance transaction's fee, itemised as Stripe itemises it (empty when there is none)."""
    return [{"amount": fee, "currency": currency, "description": description, "type": "stripe_fee",
             "application": None}] if fee else []


def _period(price: dict) -> int:
    recurring = price["recurring"]
    return PERIOD_SECONDS[recurring["interval"]] * int(recurring.get("interval_count") or 1)


def _as_list(value: Any) -> list:
    if isinstance(value, dict):
        return [value[k] for k in sorted(value, key=int)]
    return list(value or [])


def _page(url: str, data: list[dict], p: dict) -> tuple[int, bytes]:
    """One page of a list as Stripe pages it: `limit` objects (1 to 100, default 10) after
    the object `starting_after` names, and `has_more` when others follow. The order is the
    ids' (Stripe's is newest first: any fixed order pages the same way)."""
    limit = int(p.get("limit") or 10)  # the parameter check has refused a limit that is no integer
    if not 1 <= limit <= 100:
        return _bad(f"Invalid limit: must be between 1 and 100 (got {limit}).")
    if "ending_before" in p:
        return _bad("This fake pages forward only (starting_after).")
    data = sorted(data, key=lambda o: o["id"])
    if after := p.get("starting_after"):
        if not any(o["id"] == after for o in data):
            return _missing("object", after)
        data = [o for o in data if o["id"] > after]
    body = _list(url, data[:limit])
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
    body = json.loads(_error(f"No such {kind}: '{id_}'"))
    body["error"]["code"] = "resource_missing"  # as Stripe names it
    return 404, json.dumps(body).encode()
