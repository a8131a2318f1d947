"""Welcome emails (issue 28) through a real SMTP server on loopback: written by staff in the
admin, off until turned on, sent once per reader through the newsletter's deliveries — when a
new account confirms its address, and when a subscription first gives access (after the
webhook's transaction commits, and never twice however often Stripe sends the event)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from allauth.account.signals import email_confirmed
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from newsletter.models import Delivery, Send, WelcomeEmail
from subscriptions import billing, experiments
from subscriptions.models import Plan, Subscription

from .conftest import PASSWORD, make_user
from .conftest_billing import deliver
from .smtp_server import free_port, smtp_server, use_smtp

# Each test commits (transaction=True): what runs "after the commit" runs as in production.
pytestmark = pytest.mark.django_db(transaction=True)

CONFIRM_LINK = re.compile(r"https?://testserver(/accounts/confirm-email/[^\s/]+/)")
FREE_SUBJECT = "Welcome aboard the Ledger"
SUBSCRIBER_SUBJECT = "Thank you for subscribing: your first week"


def welcome(audience: str, *, on: bool = True, subject: str = "", body: str = "") -> WelcomeEmail:
    return WelcomeEmail.objects.create(
        audience=audience,
        subject=subject or (FREE_SUBJECT if audience == "free" else SUBSCRIBER_SUBJECT),
        body=body or "Hello, and **thank you**. Read [the guide](https://example.org/guide).",
        enabled=on,
    )


def welcomes(smtp, subject: str) -> list:
    return [m for m in smtp.messages if m["Subject"] == subject]


def sign_up_and_confirm(smtp, email: str) -> None:
    """allauth's own sign-up form, then the confirmation link it emailed (read off the SMTP server)."""
    client = Client()
    client.post("/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD})
    path = CONFIRM_LINK.search(smtp.to(email)[-1].get_body(("plain",)).get_content())[1]
    assert client.post(path).status_code == 302
    assert EmailAddress.objects.get(email=email).verified


def subscribe_by_webhook(stripe_env, client, user, event_id: str = "") -> dict:
    customer = billing.customer_for(user)
    sub = stripe_env.make_subscription(customer, Plan.objects.get(code="weekly").stripe_price_id)
    assert deliver(client, "customer.subscription.created", sub, event_id or None).status_code == 200
    return sub


def test_welcome_emails_written_but_not_turned_on_send_nothing(smtp, stripe_env, client) -> None:
    staff = make_user(is_staff=True, is_superuser=True)
    client.force_login(staff)
    page = client.get("/admin/newsletter/welcomeemail/add/?audience=subscriber")
    assert page.status_code == 200 and 'name="enabled"' in page.text
    assert 'name="enabled" checked' not in page.text  # off unless staff tick it
    response = client.post("/admin/newsletter/welcomeemail/add/", {
        "audience": "subscriber", "subject": SUBSCRIBER_SUBJECT, "body": "Thank you."})
    assert response.status_code == 302
    assert WelcomeEmail.objects.get().enabled is False
    welcome("free", on=False)

    sign_up_and_confirm(smtp, "quiet.reader@example.com")
    subscribe_by_webhook(stripe_env, client, make_user("quiet.subscriber@example.com"))

    assert welcomes(smtp, FREE_SUBJECT) == [] and welcomes(smtp, SUBSCRIBER_SUBJECT) == []
    assert not Delivery.objects.filter(send__kind=Send.Kind.WELCOME).exists()


def test_a_new_account_is_welcomed_once_when_it_confirms_its_address(smtp) -> None:
    welcome("free")

    sign_up_and_confirm(smtp, "new.reader@example.com")

    [message] = welcomes(smtp, FREE_SUBJECT)
    assert message["To"] == "new.reader@example.com"
    html, text = message.get_body(("html",)).get_content(), message.get_body(("plain",)).get_content()
    assert "<strong" in html and "thank you" in html and 'href="https://example.org/guide"' in html
    assert "the guide (https://example.org/guide)" in text and "**" not in text
    assert message["List-Unsubscribe"] is None  # no list: nothing to unsubscribe from
    user = get_user_model().objects.get(email="new.reader@example.com")
    row = Delivery.objects.get(send__key="welcome:free", user=user)  # the delivery log
    assert row.status == Delivery.Status.SENT and row.sent_at is not None

    # The trigger again (a second confirmation, a retried request): nothing more goes out.
    address = EmailAddress.objects.get(user=user)
    email_confirmed.send(sender=EmailAddress, request=None, email_address=address)
    call_command("send_newsletter", "--no-progress")
    assert len(welcomes(smtp, FREE_SUBJECT)) == 1
    assert Delivery.objects.filter(send__key="welcome:free").count() == 1


def test_an_account_older_than_the_welcome_is_not_welcomed_when_it_confirms_a_new_address(smtp) -> None:
    welcome("free")
    old = make_user("old.reader@example.com")
    get_user_model().objects.filter(pk=old.pk).update(date_joined=timezone.now() - timedelta(days=30))
    old.refresh_from_db()

    email_confirmed.send(sender=EmailAddress, request=None, email_address=EmailAddress.objects.get(user=old))

    assert welcomes(smtp, FREE_SUBJECT) == []


def test_a_new_subscriber_is_welcomed_once_however_often_stripe_sends_the_events(smtp, stripe_env, client) -> None:
    welcome("subscriber")
    user = make_user("new.subscriber@example.com")

    sub = subscribe_by_webhook(stripe_env, client, user, event_id="evt_welcome_created")
    deliver(client, "customer.subscription.created", sub, "evt_welcome_created")  # redelivered
    deliver(client, "customer.subscription.updated", sub)  # another event, the same subscription
    billing.sync_subscription(sub)  # the success page or reconcile

    [message] = welcomes(smtp, SUBSCRIBER_SUBJECT)
    assert message["To"] == "new.subscriber@example.com"
    row = Delivery.objects.get(send__key="welcome:subscriber")
    assert (row.user, row.status) == (user, Delivery.Status.SENT)
    # The billing confirmation (the reader's terms) still goes out, once, beside it.
    assert len(smtp.to("new.subscriber@example.com")) == 2

    # They leave, and come back a month later with a new subscription: welcomed once per reader.
    stripe_env.subscriptions[sub["id"]].update(status="canceled", canceled_at=stripe_env.now(),
                                               ended_at=stripe_env.now())
    deliver(client, "customer.subscription.deleted", sub)
    subscribe_by_webhook(stripe_env, client, user)
    assert Subscription.objects.filter(user=user, status=Subscription.Status.ACTIVE).count() == 1
    assert len(welcomes(smtp, SUBSCRIBER_SUBJECT)) == 1


def test_no_welcome_goes_out_when_the_webhooks_transaction_rolls_back(smtp, stripe_env, client, monkeypatch) -> None:
    welcome("subscriber")
    user = make_user("unlucky@example.com")

    def fail(sub) -> None:  # runs after the subscription is synced, inside the same transaction
        raise RuntimeError("the database went away")

    monkeypatch.setattr(experiments, "count_success", fail)
    customer = billing.customer_for(user)
    sub = stripe_env.make_subscription(customer, Plan.objects.get(code="weekly").stripe_price_id)
    assert deliver(client, "customer.subscription.created", sub, "evt_rolled_back").status_code == 500

    assert welcomes(smtp, SUBSCRIBER_SUBJECT) == []
    assert not Subscription.objects.exists() and not Delivery.objects.exists()

    monkeypatch.undo()  # Stripe retries, and this time it commits
    assert deliver(client, "customer.subscription.created", sub, "evt_rolled_back").status_code == 200
    assert len(welcomes(smtp, SUBSCRIBER_SUBJECT)) == 1


def test_a_welcome_the_mail_server_could_not_take_is_sent_by_the_next_run(stripe_env, client, settings) -> None:
    welcome("subscriber")
    use_smtp(settings, free_port())  # nothing listens there
    user = make_user("patient@example.com")

    subscribe_by_webhook(stripe_env, client, user)  # the webhook still answers 200

    row = Delivery.objects.get(send__key="welcome:subscriber")
    assert row.status == Delivery.Status.PENDING
    with smtp_server() as (recorder, port):
        use_smtp(settings, port)
        call_command("send_newsletter", "--no-progress")
        call_command("send_newsletter", "--no-progress")
        assert [m["To"] for m in recorder.messages if m["Subject"] == SUBSCRIBER_SUBJECT] == [user.email]
    row.refresh_from_db()
    assert row.status == Delivery.Status.SENT


HOSTILE_BODY = """Hello **reader**.

<script>alert("body")</script>
<img src=x onerror="alert('img')">
[click me](javascript:alert('link'))
<a href="https://example.org/" onclick="alert('click')">a plain link</a>
"""


def test_the_preview_shows_the_email_and_what_staff_write_is_cleaned(smtp, client) -> None:
    text = welcome("free", subject="Hi <b>there</b> & welcome", body=HOSTILE_BODY)
    staff = make_user(is_staff=True, is_superuser=True)
    client.force_login(staff)

    change = client.get(f"/admin/newsletter/welcomeemail/{text.pk}/change/")
    assert change.status_code == 200
    preview_url = f"/admin/newsletter/welcomeemail/{text.pk}/preview/"
    assert preview_url in change.text
    preview = client.get(preview_url)
    assert preview.status_code == 200
    assert preview["Content-Security-Policy"].startswith("sandbox")
    sign_up_and_confirm(smtp, "careful.reader@example.com")
    [message] = welcomes(smtp, "Hi <b>there</b> & welcome")  # the subject is text, as written

    for html in (preview.text, message.get_body(("html",)).get_content()):
        assert "<strong" in html and "reader" in html
        assert "<script" not in html and "onerror" not in html and "onclick" not in html
        assert "javascript:" not in html and "<img" not in html
        assert 'href="https://example.org/"' in html
        assert "Hi &lt;b&gt;there&lt;/b&gt; &amp; welcome" in html  # the <title>, escaped
    assert "<script" not in message.get_body(("plain",)).get_content()

    other = make_user("plain.staff@example.com", is_staff=True)  # staff without the welcome emails' rights
    client.force_login(other)
    assert client.get(preview_url).status_code == 403


def test_a_subject_on_two_lines_is_refused_in_the_admin(client) -> None:
    client.force_login(make_user(is_staff=True, is_superuser=True))
    response = client.post("/admin/newsletter/welcomeemail/add/", {
        "audience": "free", "subject": "Welcome\r\nBcc: everyone@example.com", "body": "Hello", "enabled": "on"})
    assert response.status_code == 200 and "A subject is one line." in response.text
    assert not WelcomeEmail.objects.exists()
