"""Readers choose their emails (sign-up, account page) and leave them in one
click; editors preview, test and see the figures in the admin."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from articles.models import Article
from newsletter import sending
from newsletter.models import Delivery, Preference, Send

from .conftest import MARKER, PASSWORD, make_article

pytestmark = pytest.mark.django_db


def breaking_to(*users) -> Send:
    for user in users:
        Preference.objects.update_or_create(user=user, defaults={"breaking": True})
    article = make_article()
    Article.objects.filter(pk=article.pk).update(send_as_email=True)
    [send] = sending.schedule()
    sending.Sender().run()
    return send


def unsubscribe_path(message) -> str:
    url = re.search(r"<([^>]+)>", message.extra_headers["List-Unsubscribe"]).group(1)
    return url.removeprefix("http://127.0.0.1:8000")


def test_one_click_unsubscribe_works_without_login_or_csrf_and_counts_for_the_send(free_reader, editor) -> None:
    send = breaking_to(free_reader)
    [message] = mail.outbox
    path = unsubscribe_path(message)
    assert path in message.body and path in message.alternatives[0][0]
    client = Client(enforce_csrf_checks=True)

    response = client.post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 200
    assert Preference.objects.get(user=free_reader).breaking is False
    assert Delivery.objects.get(send=send, user=free_reader).unsubscribed_at is not None
    client.force_login(editor)
    changelist = client.get("/admin/newsletter/send/").content.decode()
    assert re.search(r'class="field-unsubscribes">1<', changelist)
    assert re.search(r'class="field-sent">1<', changelist)


def test_opening_the_unsubscribe_link_asks_first_and_a_forged_link_is_refused(free_reader) -> None:
    breaking_to(free_reader)
    path = unsubscribe_path(mail.outbox[0])
    page = Client().get(path)
    assert page.status_code == 200 and "Stop sending the breaking news emails" in page.content.decode()
    assert Preference.objects.get(user=free_reader).breaking is True  # a link scanner's GET changes nothing
    forged = path.replace("/unsubscribe/", "/unsubscribe/x")
    assert Client().post(forged).status_code == 400
    assert Preference.objects.get(user=free_reader).breaking is True


def test_the_sign_up_tick_box_opts_a_free_reader_into_the_digest() -> None:
    Client().post(
        "/accounts/signup/",
        {"email": "ticks@example.com", "password1": PASSWORD, "password2": PASSWORD, "newsletter_digest": "on"},
    )
    Client().post("/accounts/signup/", {"email": "skips@example.com", "password1": PASSWORD, "password2": PASSWORD})
    assert Preference.objects.get(user__email="ticks@example.com").digest is True
    assert Preference.objects.get(user__email="skips@example.com").digest is False  # "no", not "not decided"
    page = Client().get("/accounts/signup/").content.decode()
    assert 'name="newsletter_digest"' in page and "morning digest" in page


def test_the_account_page_shows_and_saves_the_email_choices(subscriber) -> None:
    client = Client()
    client.force_login(subscriber)
    page = client.get("/account/").content.decode()
    assert re.search(r'name="digest"[^>]*checked', page)  # subscribers get the digest by default
    assert not re.search(r'name="breaking"[^>]*checked', page)

    response = client.post("/account/emails/", {"breaking": "on", "from": "account"})

    assert response.status_code == 302 and response["Location"] == "/account/"
    pref = Preference.objects.get(user=subscriber)
    assert (pref.digest, pref.breaking) == (False, True)


def test_editors_preview_the_email_as_a_subscriber_and_as_a_free_reader(editor, settings) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_newsletter"  # payments open: the free edition may invite to subscribe
    article = make_article(access=Article.Access.SUBSCRIBERS)
    client = Client()
    client.force_login(editor)
    form = client.get(f"/admin/articles/article/{article.pk}/change/").content.decode()
    assert 'name="send_as_email"' in form and "Preview as a free reader" in form

    as_subscriber = client.get(f"/admin/newsletter/send/preview/breaking/{article.pk}/subscriber/")
    as_free = client.get(f"/admin/newsletter/send/preview/breaking/{article.pk}/free/")

    assert MARKER in as_subscriber.content.decode()
    assert MARKER not in as_free.content.decode() and "Subscribe" in as_free.content.decode()
    assert "sandbox" in as_free["Content-Security-Policy"]
    assert Client().get(f"/admin/newsletter/send/preview/breaking/{article.pk}/subscriber/").status_code == 302


def test_an_editor_sends_a_test_to_themselves_and_no_reader_gets_it(editor, free_reader) -> None:
    Preference.objects.create(user=free_reader, breaking=True)
    article = make_article()
    client = Client()
    client.force_login(editor)
    assert (
        "Send the two test emails" in client.get(f"/admin/newsletter/send/test/breaking/{article.pk}/").content.decode()
    )

    response = client.post(f"/admin/newsletter/send/test/breaking/{article.pk}/")

    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [[editor.email], [editor.email]]
    subscriber_copy, free_copy = mail.outbox
    assert MARKER in subscriber_copy.body and MARKER not in free_copy.body
    assert not Send.objects.exists()


def test_an_article_marked_send_as_email_goes_out_once_it_is_live(free_reader) -> None:
    Preference.objects.create(user=free_reader, breaking=True)
    article = make_article(status=Article.Status.SCHEDULED, publish_at=timezone.now() + timedelta(hours=1))
    Article.objects.filter(pk=article.pk).update(send_as_email=True)
    call_command("send_newsletter", "--no-progress")
    assert mail.outbox == []
    Article.objects.filter(pk=article.pk).update(publish_at=timezone.now() - timedelta(minutes=1))
    call_command("send_newsletter", "--no-progress")
    call_command("send_newsletter", "--no-progress")
    assert [m.to for m in mail.outbox] == [[free_reader.email]]


def test_a_deleted_account_leaves_the_send_figures_but_not_the_person(free_reader) -> None:
    from newsroom.account_deletion import account_delete

    send = breaking_to(free_reader)
    account_delete(user=free_reader)
    assert not Preference.objects.exists()
    assert send.deliveries.get().user is None and send.deliveries.get().status == Delivery.Status.SENT
