"""Deleting an account: the password is asked for, open subscriptions and staff
are refused, and what the reader leaves behind stays consistent (comments
kept as "Deleted reader", billing rows kept without a user, meter rows gone)."""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from articles.models import DELETED_READER_USERNAME, Comment
from newsroom import account_deletion as accounts
from subscriptions.models import StripeCustomer, Subscription

from .conftest import MARKER, PASSWORD, make_article, make_subscription, make_user, meter_reads

pytestmark = pytest.mark.django_db
URL = "/account/delete/"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def exists(user) -> bool:
    return get_user_model().objects.filter(pk=user.pk).exists()


def test_the_account_page_links_to_deleting_the_account(free_reader) -> None:
    page = client_for(free_reader).get("/account/").content.decode()
    assert f'href="{URL}"' in page


def test_deleting_needs_a_login() -> None:
    response = Client().get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_page_asks_for_the_current_password(free_reader) -> None:
    page = client_for(free_reader).get(URL).content.decode()
    assert 'type="password"' in page and 'name="password"' in page
    assert "Delete my account" in page


def test_a_wrong_password_shows_an_error_and_keeps_the_account(free_reader) -> None:
    client = client_for(free_reader)
    response = client.post(URL, {"password": "not-my-password"})
    assert response.status_code == 400
    assert escape("That isn't your current password.") in response.content.decode()
    assert exists(free_reader)
    assert client.get("/account/").status_code == 200  # still logged in


def test_the_right_password_deletes_the_account_logs_out_and_goes_home(free_reader) -> None:
    client = client_for(free_reader)
    response = client.post(URL, {"password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert not exists(free_reader)
    assert not EmailAddress.objects.filter(email=free_reader.email).exists()
    assert client.session.get("_auth_user_id") is None
    home = client.get("/").content.decode()
    assert "Your account is deleted." in home
    # The address is free again, and the old password opens nothing.
    assert Client().post("/accounts/login/", {"login": free_reader.email, "password": PASSWORD}).status_code == 200


def test_password_guesses_on_the_delete_form_are_rate_limited(free_reader, settings) -> None:
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "reauthenticate": "3/m/user"}
    client = client_for(free_reader)
    statuses = [client.post(URL, {"password": "guess"}).status_code for _ in range(3)]
    assert statuses == [400, 400, 400]
    assert client.post(URL, {"password": PASSWORD}).status_code == 429
    assert exists(free_reader)


@pytest.mark.parametrize(
    "status",
    [
        Subscription.Status.ACTIVE,
        Subscription.Status.TRIALING,
        Subscription.Status.PAST_DUE,
        Subscription.Status.UNPAID,
        Subscription.Status.PAUSED,
        Subscription.Status.INCOMPLETE,
    ],
)
def test_a_subscription_still_open_in_stripe_refuses_deletion(status, db) -> None:
    user = make_user()
    make_subscription(user, status)
    client = client_for(user)
    page = client.get(URL).content.decode()
    assert 'name="password"' not in page
    response = client.post(URL, {"password": PASSWORD})
    assert response.status_code == 403
    assert exists(user)
    assert Subscription.objects.filter(user=user).count() == 1


def test_the_refusal_points_to_the_billing_portal(subscriber, settings) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_dummy"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_dummy"
    StripeCustomer.objects.create(user=subscriber, customer_id="cus_portal_1")
    page = client_for(subscriber).get(URL).content.decode()
    assert "Cancel it first with Manage billing" in page
    assert 'action="/account/billing/"' in page


def test_a_cancelled_subscription_that_has_not_ended_yet_says_when_deletion_is_possible(db) -> None:
    user = make_user()
    ends = timezone.now() + timedelta(days=5)
    make_subscription(user, Subscription.Status.ACTIVE, cancel_at_period_end=True, current_period_end=ends)
    page = client_for(user).get(URL).content.decode()
    assert f"ends on {timezone.localtime(ends):%B} {timezone.localtime(ends).day}, {ends.year}" in page
    assert exists(user)


def test_the_service_refuses_too_when_called_directly(subscriber) -> None:
    with pytest.raises(accounts.AccountDeletionRefused):
        accounts.account_delete(user=subscriber)
    assert exists(subscriber)


def test_staff_cannot_delete_themselves_here(editor) -> None:
    client = client_for(editor)
    assert f'href="{URL}"' not in client.get("/account/").content.decode()
    page = client.get(URL).content.decode()
    assert escape("Staff accounts can't be deleted here") in page
    assert client.post(URL, {"password": PASSWORD}).status_code == 403
    assert exists(editor)


def test_an_ended_subscription_is_kept_without_its_reader(lapsed) -> None:
    sub = Subscription.objects.get(user=lapsed)
    StripeCustomer.objects.create(user=lapsed, customer_id=sub.stripe_customer_id)
    assert client_for(lapsed).post(URL, {"password": PASSWORD}).status_code == 302
    assert not exists(lapsed)
    sub.refresh_from_db()
    assert sub.user_id is None
    assert (sub.status, sub.stripe_subscription_id) == (Subscription.Status.CANCELED, sub.stripe_subscription_id)
    assert sub.stripe_subscription_id.startswith("sub_test_")
    assert not StripeCustomer.objects.filter(customer_id=sub.stripe_customer_id).exists()


def test_comments_stay_as_by_a_deleted_reader_and_replies_to_them_survive(lapsed, subscriber, article) -> None:
    mine = Comment.objects.create(article=article, user=lapsed, body="A thought from a reader who leaves.")
    reply = Comment.objects.create(article=article, user=subscriber, parent=mine, body="A reply that must survive.")
    page = client_for(lapsed).get(URL).content.decode()
    assert "Your 1 comment stays" in page

    client_for(lapsed).post(URL, {"password": PASSWORD})

    mine.refresh_from_db()
    reply.refresh_from_db()
    assert reply.parent_id == mine.pk
    stand_in = mine.user
    assert stand_in.username == DELETED_READER_USERNAME
    assert not stand_in.is_active and not stand_in.has_usable_password()
    assert not EmailAddress.objects.filter(user=stand_in).exists()
    thread = client_for(subscriber).get(article.get_absolute_url()).content.decode()
    assert "Deleted reader" in thread
    assert "A thought from a reader who leaves." in thread and "A reply that must survive." in thread
    assert lapsed.username not in thread


@pytest.mark.parametrize("how", ["on the delete page", "by an admin"])
def test_kept_pages_stop_naming_a_reader_who_deleted_their_account(lapsed, subscriber, article, how) -> None:
    """The leaver's comments pass to "Deleted reader" in one UPDATE, which sends no
    comment's save signal: the pages kept with their name are retired all the same."""
    lapsed.first_name, lapsed.last_name = "Lena", "Leaving"
    lapsed.save()
    Comment.objects.create(article=article, user=lapsed, body="A thought from a reader who leaves.")
    reader = client_for(subscriber)
    assert "Lena Leaving" in reader.get(article.get_absolute_url()).content.decode()  # kept with the name
    if how == "by an admin":
        lapsed.delete()
    else:
        assert client_for(lapsed).post(URL, {"password": PASSWORD}).status_code == 302
    thread = reader.get(article.get_absolute_url()).content.decode()
    assert "A thought from a reader who leaves." in thread
    assert "Lena Leaving" not in thread and "Deleted reader" in thread


def test_every_deleted_reader_shares_one_stand_in(article) -> None:
    for _ in range(2):
        user = make_user()
        Comment.objects.create(article=article, user=user, body="Bye.", submit_token="same-form-token")
        assert client_for(user).post(URL, {"password": PASSWORD}).status_code == 302
    assert get_user_model().objects.filter(username=DELETED_READER_USERNAME).count() == 1
    assert Comment.objects.filter(user__username=DELETED_READER_USERNAME).count() == 2


def test_an_admin_deleting_a_user_also_keeps_their_comments(free_reader, article) -> None:
    comment = Comment.objects.create(article=article, user=free_reader, body="Still here.")
    free_reader.delete()
    comment.refresh_from_db()
    assert comment.user.username == DELETED_READER_USERNAME


@pytest.mark.usefixtures("both_meter_stores")
def test_the_readers_meter_records_go_and_others_stay(free_reader, category) -> None:
    other = make_user()
    stories = [make_article(category=category) for _ in range(2)]
    for user in (free_reader, other):
        reader = client_for(user)
        for story in stories:
            assert MARKER in reader.get(story.get_absolute_url()).content.decode()
    assert set(meter_reads()) == {f"u:{free_reader.pk}", f"u:{other.pk}"}
    client_for(free_reader).post(URL, {"password": PASSWORD})
    assert meter_reads() == {f"u:{other.pk}": {s.pk for s in stories}}
