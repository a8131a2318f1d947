"""Gift subscriptions: bought once through Checkout (payment mode) over real HTTP against the
strict fake, sent on their day, redeemed once as complimentary access, refundable."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client, TestCase
from django.utils import timezone

from articles.models import Article
from growth import gifts
from growth.models import Conversion, GiftSubscription
from subscriptions import access
from subscriptions.models import ComplimentaryAccess
from tests.conftest import MARKER, make_article, make_subscription, make_user
from tests.conftest_billing import deliver

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http\S+/gift/redeem/(\S+)/")


def _buy(client: Client, stripe_env, *, deliver_on=None, months: int = 12) -> GiftSubscription:
    resp = client.post("/gift/", {
        "months": str(months), "recipient_email": "friend@example.com", "recipient_name": "Sam",
        "message": "Happy birthday <b>Sam</b>", "deliver_on": (deliver_on or timezone.localdate()).isoformat(),
        "buyer_name": "Ada", "buyer_email": "ada@example.com"})
    assert resp.status_code == 303 and resp["Location"].startswith(stripe_env.base + "/pay/"), resp.content[:500]
    return GiftSubscription.objects.latest("pk")


def _pay(client: Client, stripe_env, gift: GiftSubscription) -> GiftSubscription:
    session = next(s for s in stripe_env.sessions.values() if s["metadata"].get("gift") == str(gift.pk))
    stripe_env.complete_checkout(session["id"])
    with TestCase.captureOnCommitCallbacks(execute=True):  # the receipt and the gift go after the commit
        assert deliver(client, "checkout.session.completed", {"id": session["id"], "object": "checkout.session"}) \
            .status_code == 200
    gift.refresh_from_db()
    return gift


def _token() -> str:
    return LINK.search([m for m in mail.outbox if m.to == ["friend@example.com"]][-1].body)[1]


def test_anyone_buys_a_gift_paid_once_and_the_friend_gets_a_link(client, stripe_env) -> None:
    gift = _buy(client, stripe_env)
    session = list(stripe_env.sessions.values())[-1]
    assert session["mode"] == "payment" and session["customer_email"] == "ada@example.com"
    assert stripe_env.prices[session["_price"]]["unit_amount"] == 5000  # 12 months
    assert stripe_env.prices[session["_price"]]["recurring"] is None  # nothing renews
    gift = _pay(client, stripe_env, gift)
    assert gift.status == "delivered" and gift.stripe_payment_intent_id.startswith("pi_")
    receipt = next(m for m in mail.outbox if m.to == ["ada@example.com"])
    assert "receipt" in receipt.subject.lower() and "$50.00" in receipt.body
    to_friend = next(m for m in mail.outbox if m.to == ["friend@example.com"])
    assert "Ada gave you 12 months" in to_friend.subject and "Happy birthday <b>Sam</b>" in to_friend.body
    token = _token()
    assert len(token) >= 40
    # Only a hash of the token is kept.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM growth_giftsubscription WHERE token_hash = %s", [token])
        assert cursor.fetchone()[0] == 0
    assert gifts.gift_for_token(token) == gift


def test_a_redelivered_webhook_and_the_thanks_page_send_one_receipt(client, stripe_env) -> None:
    gift = _buy(client, stripe_env)
    gift = _pay(client, stripe_env, gift)
    with TestCase.captureOnCommitCallbacks(execute=True):
        resp = client.get(f"/gift/thanks/?session_id={gift.stripe_checkout_session_id}")
        deliver(client, "checkout.session.completed", {"id": gift.stripe_checkout_session_id, "object": "x"})
    assert "Thank you for your gift" in resp.content.decode()
    assert len([m for m in mail.outbox if m.to == ["ada@example.com"]]) == 1
    assert len([m for m in mail.outbox if m.to == ["friend@example.com"]]) == 1


def test_a_gift_for_later_is_sent_on_its_day(client, stripe_env) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    gift = _pay(client, stripe_env, _buy(client, stripe_env, deliver_on=tomorrow))
    assert gift.status == "paid" and not [m for m in mail.outbox if m.to == ["friend@example.com"]]
    assert gifts.deliver_due() == 0
    assert gifts.deliver_due(tomorrow) == 1 and gifts.deliver_due(tomorrow) == 0
    assert GiftSubscription.objects.get().status == "delivered"
    assert len([m for m in mail.outbox if m.to == ["friend@example.com"]]) == 1


def test_the_form_refuses_a_past_day_and_asks_stripe_nothing(client, stripe_env) -> None:
    resp = client.post("/gift/", {"months": "3", "recipient_email": "friend@example.com",
                                  "deliver_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
                                  "buyer_email": "ada@example.com"})
    assert resp.status_code == 200 and "That day has passed" in resp.content.decode()
    assert not GiftSubscription.objects.exists() and not stripe_env.sessions


def test_new_reader_makes_an_account_then_redeems_and_reads_subscribers_only(client, stripe_env) -> None:
    _pay(client, stripe_env, _buy(client, stripe_env, months=3))
    url = f"/gift/redeem/{_token()}/"
    body = client.get(url).content.decode()
    assert "Ada gave you 3 months" in body and "Create your account" in body
    assert "Happy birthday &lt;b&gt;Sam&lt;/b&gt;" in body  # what the buyer wrote is escaped
    friend = make_user("friend@example.com")
    client.force_login(friend)
    assert "Start my 3 months" in client.get(url).content.decode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        resp = client.post(url)
    assert resp.status_code == 302
    gift = GiftSubscription.objects.get()
    assert gift.status == "redeemed" and gift.redeemed_by == friend
    assert gift.access.until.date() >= (timezone.now() + timedelta(days=88)).date()
    article = make_article(access=Article.Access.SUBSCRIBERS)
    assert MARKER in client.get(article.get_absolute_url()).content.decode()
    assert any("has been opened" in m.subject for m in mail.outbox if m.to == ["ada@example.com"])
    assert Conversion.objects.filter(kind="gift", source="gift").count() == 1
    # Once only.
    other = make_user()
    client.force_login(other)
    client.post(url)
    assert not ComplimentaryAccess.objects.filter(user=other).exists()


def test_a_paying_subscriber_keeps_the_gift_for_after_their_subscription(client, stripe_env) -> None:
    _pay(client, stripe_env, _buy(client, stripe_env))
    url = f"/gift/redeem/{_token()}/"
    payer = make_user()
    make_subscription(payer)
    client.force_login(payer)
    body = client.get(url).content.decode()
    assert "once your subscription has ended" in body and "Start my" not in body
    client.post(url)
    assert GiftSubscription.objects.get().status == "delivered"
    assert not ComplimentaryAccess.objects.filter(user=payer).exists()


@pytest.mark.django_db(transaction=True)
def test_two_readers_redeeming_at_once_redeem_it_once(stripe_env) -> None:
    client = Client()
    _pay(client, stripe_env, _buy(client, stripe_env))
    gift = GiftSubscription.objects.get()
    readers = [make_user(), make_user()]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def redeem(user) -> None:
        barrier.wait()
        try:
            gifts.gift_redeem(gift_id=gift.pk, user=user)
            outcomes.append("ok")
        except gifts.GiftNotRedeemable:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=redeem, args=(u,)) for u in readers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert ComplimentaryAccess.objects.filter(user__in=readers).count() == 1


def test_staff_refund_stops_the_gifts_access_and_its_link(client, stripe_env) -> None:
    _pay(client, stripe_env, _buy(client, stripe_env))
    url = f"/gift/redeem/{_token()}/"
    friend = make_user()
    client.force_login(friend)
    client.post(url)
    article = make_article(access=Article.Access.SUBSCRIBERS)
    assert access.decide_for_user(friend, article).full
    gift = GiftSubscription.objects.get()
    staff = make_user(is_staff=True, is_superuser=True)
    client.force_login(staff)
    resp = client.post("/admin/growth/giftsubscription/", {"action": "refund", "_selected_action": [gift.pk]})
    assert resp.status_code == 302
    gift.refresh_from_db()
    assert gift.status == "refunded"
    charge = stripe_env.charges[gift.stripe_payment_intent_id]
    assert charge["refunded"] == 5000
    # Stripe's charge.refunded follows: handled as the gift's, once, not as a subscription's.
    assert deliver(client, "charge.refunded", stripe_env.charge_object(charge)).status_code == 200
    friend.refresh_from_db()
    assert not access.decide_for_user(friend, article).full
    client.force_login(friend)
    assert client.get(url).status_code == 404


def test_a_refund_made_in_stripes_dashboard_ends_the_gift(client, stripe_env) -> None:
    gift = _pay(client, stripe_env, _buy(client, stripe_env))
    stripe_env.refund(gift.stripe_payment_intent_id)
    charge = stripe_env.charges[gift.stripe_payment_intent_id]
    assert deliver(client, "charge.refunded", stripe_env.charge_object(charge)).status_code == 200
    assert GiftSubscription.objects.get().status == "refunded"


def test_resend_makes_a_new_link_and_the_old_one_stops_working(client, stripe_env) -> None:
    _pay(client, stripe_env, _buy(client, stripe_env))
    old = _token()
    gift = GiftSubscription.objects.get()
    client.force_login(make_user(is_staff=True, is_superuser=True))
    client.post("/admin/growth/giftsubscription/", {"action": "resend", "_selected_action": [gift.pk]})
    new = _token()
    assert new != old
    assert client.get(f"/gift/redeem/{old}/").status_code == 404
    assert client.get(f"/gift/redeem/{new}/").status_code == 200


def test_an_unknown_link_is_a_404_not_a_500(client, db) -> None:
    assert client.get("/gift/redeem/nothing/").status_code == 404
    assert client.get("/gift/redeem/" + "x" * 300 + "/").status_code == 404
