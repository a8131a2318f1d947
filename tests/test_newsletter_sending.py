"""Newsletters through a real SMTP server on loopback: who gets what, once each,
through dropped connections, rejections, a killed sender and senders in parallel."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from articles.models import Article
from newsletter import sending
from newsletter.models import Delivery, Preference, Send

from .conftest import MARKER, make_article, make_subscription, make_user
from .smtp_server import use_smtp

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def digest_now(settings):
    """Make the digest due now: today's cutoff is the start of the current hour."""
    settings.NEWSLETTER_DAILY_HOUR = timezone.localtime().hour
    return timezone.now()


def opted_in(email: str, **choices):
    """A verified reader who chose the emails (no password: hashing one costs more than the whole send)."""
    user = get_user_model().objects.create(username=email, email=email)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    Preference.objects.create(user=user, **{"digest": True, "breaking": True, **choices})
    return user


def body(message, kind: str) -> str:
    return message.get_body((kind,)).get_content()


@pytest.mark.django_db
def test_digest_and_breaking_give_subscribers_the_full_text_and_free_readers_the_teaser(
    smtp, digest_now, settings
) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_newsletter"  # payments open: the free edition may invite to subscribe
    subscriber = make_user("sub@example.com")
    make_subscription(subscriber)
    Preference.objects.create(user=subscriber, breaking=True)  # the digest by default, as a subscriber
    opted_in("free@example.com")
    make_user("silent@example.com")  # a free reader who never asked: gets nothing
    lead = make_article(access=Article.Access.METERED, publish_at=digest_now - timedelta(hours=2), title="Lead story")
    make_article(access=Article.Access.SUBSCRIBERS, publish_at=digest_now - timedelta(hours=3), title="Second story")
    Article.objects.filter(pk=lead.pk).update(send_as_email=True)

    call_command("send_newsletter", "--no-progress")

    assert smtp.recipients() == Counter({"sub@example.com": 2, "free@example.com": 2})
    for message in smtp.to("sub@example.com"):
        assert MARKER in body(message, "html") and MARKER in body(message, "plain")
    for message in smtp.to("free@example.com"):
        html, text = body(message, "html"), body(message, "plain")
        assert MARKER not in html and MARKER not in text
        assert "Opening paragraph number one" in html  # the public teaser is there
        assert "/subscribe/" in html and "Subscribe" in html
    digest = next(m for m in smtp.to("sub@example.com") if "digest" in m["Subject"])
    assert "Second story" in body(digest, "html") and "Summary of story" in body(digest, "plain")
    for message in smtp.messages:
        html = body(message, "html")
        assert message["List-Unsubscribe"].strip().startswith("<http://127.0.0.1:8000/newsletter/unsubscribe/")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "<style" not in html and 'style="' in html  # CSS inlined for mail clients
        assert "unsubscribe.invalid" not in html
    assert set(Send.objects.values_list("status", flat=True)) == {Send.Status.DONE}

    call_command("send_newsletter", "--no-progress")  # cron runs again: nothing twice
    assert len(smtp.messages) == 4


@pytest.mark.django_db
def test_a_connection_dropped_mid_message_is_resent_once_on_a_new_connection(smtp) -> None:
    readers = [opted_in(f"r{i}@example.com") for i in range(5)]
    article = make_article()
    Article.objects.filter(pk=article.pk).update(send_as_email=True)
    smtp.drop_at = {3}  # the server hangs up while the third message is arriving

    sending.schedule()
    counts = sending.Sender().run()

    assert smtp.data_seen == 6
    assert smtp.recipients() == Counter({r.email: 1 for r in readers})
    assert counts["sent"] == 5 and counts["retried"] == 1
    retried = Delivery.objects.get(attempts=2)
    assert retried.status == Delivery.Status.SENT


@pytest.mark.django_db
def test_a_hard_rejection_marks_the_address_and_repeated_ones_stop_mail_to_it(smtp, settings) -> None:
    settings.NEWSLETTER_BOUNCE_LIMIT = 2
    gone = opted_in("gone@example.com")
    opted_in("fine@example.com")
    smtp.reject = {"gone@example.com"}
    for n in range(3):
        article = make_article()
        Article.objects.filter(pk=article.pk).update(send_as_email=True)
        sending.schedule()
        sending.Sender().run()
        if n < 2:
            assert Delivery.objects.get(send__article=article, user=gone).status == Delivery.Status.BOUNCED
    pref = Preference.objects.get(user=gone)
    assert pref.hard_bounces == 2 and "550" in pref.last_bounce and pref.undeliverable(gone.email)
    assert not Delivery.objects.filter(send__article=article, user=gone).exists()  # the third send left it out
    assert len(smtp.to("fine@example.com")) == 3 and not smtp.to("gone@example.com")

    gone.email = "new@example.com"  # a new (verified) address starts clean
    gone.save()
    gone.emailaddress_set.update(email="new@example.com")
    assert not Preference.objects.get(user=gone).undeliverable(gone.email)


@pytest.mark.django_db
def test_dry_run_lists_who_gets_what_and_sends_and_writes_nothing(smtp, capsys) -> None:
    subscriber = opted_in("sub@example.com")
    make_subscription(subscriber)
    opted_in("free@example.com")
    article = make_article()
    Article.objects.filter(pk=article.pk).update(send_as_email=True)

    call_command("send_newsletter", "--dry-run")

    out = capsys.readouterr().out
    assert f"breaking:{article.pk}" in out
    assert "sub@example.com: full text" in out and "free@example.com: teaser" in out
    assert not Send.objects.exists() and not smtp.messages


def _seed_breaking(n: int) -> list[str]:
    emails = [f"reader{i}@example.com" for i in range(n)]
    for address in emails:
        opted_in(address)
    article = make_article()
    Article.objects.filter(pk=article.pk).update(send_as_email=True)
    sending.schedule()
    return emails


def _send_until_done(deadline: float = 10) -> None:
    """A killed sender's row is free again once PostgreSQL has seen its connection close."""
    end = time.monotonic() + deadline
    while Delivery.objects.filter(status=Delivery.Status.PENDING).exists() and time.monotonic() < end:
        sending.Sender().run()
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
def test_a_sender_killed_mid_send_is_resumed_without_duplicates_or_gaps(smtp, tmp_path) -> None:
    emails = _seed_breaking(12)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp.port),
        "EMAIL_USE_TLS": "0",
        "CACHE_DIR": str(tmp_path / "cache"),
        "REDIS_URL": "",
        "NEWSLETTER_DAILY_HOUR": "24",  # no digest in this run
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "send_newsletter", "--no-progress"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip

    def kill_on_the_fifth(number: int) -> bool:
        if number == 5:
            os.kill(process.pid, signal.SIGKILL)  # killed while the fifth email is on the wire
            return False
        return True

    smtp.on_data = kill_on_the_fifth
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert smtp.count == 4
    assert Delivery.objects.filter(status=Delivery.Status.SENT).count() == 4

    smtp.on_data = None
    _send_until_done()

    assert smtp.recipients() == Counter({address: 1 for address in emails})
    assert Send.objects.get().status == Send.Status.DONE


@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_split_the_work_and_send_each_email_once(smtp) -> None:
    emails = _seed_breaking(30)
    smtp.delay = 0.02
    results: list[Counter] = []
    both_connected = threading.Barrier(2, timeout=30)

    def sender() -> None:
        try:
            connection.ensure_connection()
            both_connected.wait()  # start together, however slow the machine is to open connections
            results.append(sending.Sender().run())
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert smtp.recipients() == Counter({address: 1 for address in emails})
    assert all(result["sent"] > 0 for result in results) and sum(r["sent"] for r in results) == 30


@pytest.mark.django_db
def test_an_unreachable_mail_server_stops_the_run_and_loses_nothing(settings) -> None:
    from .smtp_server import free_port

    use_smtp(settings, free_port())  # nothing listens there
    _seed_breaking(2)
    with pytest.raises(CommandError, match="Mail server unavailable"):
        call_command("send_newsletter", "--no-progress")
    assert set(Delivery.objects.values_list("status", "attempts")) == {(Delivery.Status.PENDING, 0)}


@pytest.mark.django_db
def test_run_by_hand_it_shows_a_progress_bar(smtp, monkeypatch, capsys) -> None:
    _seed_breaking(3)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    call_command("send_newsletter")
    err = capsys.readouterr().err
    assert "[" + "#" * 30 + "] 3/3 · 3 sent" in err


@pytest.mark.django_db
@pytest.mark.parametrize("digest", [True, False], ids=["digest ticked", "digest unticked"])
@pytest.mark.parametrize("breaking", [True, False], ids=["breaking ticked", "breaking unticked"])
def test_the_sign_up_boxes_are_the_readers_answer_through_subscribing_and_every_send(
    smtp, stripe_env, digest_now, django_capture_on_commit_callbacks, digest: bool, breaking: bool
) -> None:
    """Opt-in is exact: each box is stored as the reader ticked it — an unticked box is
    "no", never "not decided" — and subscribing later changes no answer the reader gave."""
    import re

    from django.test import Client

    from .conftest import PASSWORD

    email = "newcomer@example.com"
    form = {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    form |= {"newsletter_digest": "on"} if digest else {}
    form |= {"newsletter_breaking": "on"} if breaking else {}
    reader = Client()
    assert reader.post("/accounts/signup/", form).status_code == 302
    (confirmation,) = smtp.to(email)  # through the loopback SMTP server
    path = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s/]+/)", body(confirmation, "plain"))[1]
    assert reader.post(path).status_code == 302  # confirmed and logged in

    checkout = reader.post("/subscribe/checkout/", {"plan": "weekly"})
    assert checkout.status_code == 303
    (session,) = stripe_env.sessions.values()
    stripe_env.complete_checkout(session["id"])
    with django_capture_on_commit_callbacks(execute=True):
        reader.get(session["success_url"].split("testserver", 1)[1])
    user = get_user_model().objects.get(email=email)
    assert user.subscriptions.get().status == "trialing"
    assert (user.newsletter_preference.digest, user.newsletter_preference.breaking) == (digest, breaking)

    lead = make_article(publish_at=digest_now - timedelta(hours=2), title="The lead")
    Article.objects.filter(pk=lead.pk).update(send_as_email=True)
    smtp.messages.clear()
    call_command("send_newsletter", "--no-progress")
    subjects = [m["Subject"] for m in smtp.to(email)]
    assert any("digest" in s for s in subjects) == digest, subjects
    assert any("The lead" == s.removeprefix("[The Ledger] ") for s in subjects) == breaking, subjects
