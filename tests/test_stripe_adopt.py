"""stripe_adopt: a newsroom moves in with its Stripe account, and its paying readers read
at once, without paying again; their later webhooks work like anyone's."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import stripe
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.test import Client

from articles.models import Article
from subscriptions import billing
from subscriptions.models import Plan, StripeCustomer, Subscription
from tests.conftest import MARKER, make_article, make_user
from tests.conftest_billing import deliver

pytestmark = pytest.mark.django_db

User = get_user_model()
GHOST_HEADER = (
    "id,email,name,note,subscribed_to_emails,complimentary_plan,stripe_customer_id,created_at,deleted_at,labels,tiers"
)
FILLERS = 110  # ended subscriptions of customers nobody here knows: the lists take more than one page


def _ghost_csv(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "members.csv"
    path.write_text("\n".join([GHOST_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _run(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out, **({"no_progress": True} if command == "import_members" else {}))
    return out.getvalue()


@pytest.fixture
def moving_newsroom(stripe_env, settings, tmp_path):
    """A Ghost export and the Stripe account that bills its paying members."""
    fake = stripe_env
    settings.ADMINS = [("Ops", "ops@example.com")]
    settings.SITE_URL = "https://ledger.example"
    weekly = Plan.objects.get(code="weekly").stripe_price_id
    legacy = fake.add_price(700, interval="month")  # the old site's price: none of our plans
    subs = {}
    cara = fake.add_customer("cara@moving.example")
    subs["cara"] = fake.make_subscription(cara["id"], weekly)
    eve = fake.add_customer("eve@moving.example")
    subs["eve"] = fake.make_subscription(eve["id"], legacy["id"])
    # Not in the Ghost export's stripe_customer_id: matched by email, in another case.
    finn = fake.add_customer("Finn@Moving.example")
    subs["finn"] = fake.make_subscription(finn["id"], weekly, status="trialing", trial_days=5)
    # Two customers with one email: which one is the reader's is not ours to guess.
    for _ in range(2):
        twin = fake.add_customer("gus@moving.example")
        subs.setdefault("gus", fake.make_subscription(twin["id"], weekly))
    # Another site on the same Stripe account.
    hal = fake.add_customer("hal@moving.example")
    subs["hal"] = fake.make_subscription(hal["id"], weekly, metadata={"site": "other.example"})
    # Pays, but no reader has the address.
    stranger = fake.add_customer("stranger@elsewhere.example")
    subs["stranger"] = fake.make_subscription(stranger["id"], weekly)
    for n in range(FILLERS):
        gone = fake.add_customer(f"gone{n}@elsewhere.example")
        fake.make_subscription(gone["id"], weekly, status="canceled")
    rows = [
        "m1,ann@moving.example,Ann Free,,true,false,,2021-01-01T00:00:00.000Z,,,",
        "m2,bob@moving.example,Bob Free,,false,false,,2021-01-01T00:00:00.000Z,,,",
        f"m3,cara@moving.example,Cara Pays,,true,false,{cara['id']},2021-01-01T00:00:00.000Z,,,Gold",
        f"m4,eve@moving.example,Eve Legacy,,false,false,{eve['id']},2021-01-01T00:00:00.000Z,,,Gold",
        "m5,finn@moving.example,Finn Trial,,true,false,,2021-01-01T00:00:00.000Z,,,",
        "m6,gus@moving.example,Gus Twin,,true,false,,2021-01-01T00:00:00.000Z,,,",
        "m7,hal@moving.example,Hal Other,,true,false,,2021-01-01T00:00:00.000Z,,,",
    ]
    return fake, _ghost_csv(tmp_path, rows), subs


def _reads_in_full(user, article: Article) -> bool:
    client = Client()
    client.force_login(user)
    return MARKER in client.get(article.get_absolute_url()).content.decode()


def test_moving_in_paying_readers_read_at_once_without_paying_again(moving_newsroom, category) -> None:
    fake, members_csv, subs = moving_newsroom
    article = make_article(category=category, access=Article.Access.SUBSCRIBERS)
    stripe_subscriptions = len(fake.subscriptions)

    # Dry runs: nothing written, and the report says what would happen.
    out = _run("import_members", "--from", "ghost", str(members_csv), "--dry-run")
    assert "7 members read: 7 would be created" in out
    assert not User.objects.exists()
    out = _run("stripe_adopt", "--dry-run")
    assert "DRY RUN" in out and not Subscription.objects.exists() and not StripeCustomer.objects.exists()
    assert f"not adopted {subs['cara']['id']}" in out  # no reader yet: the import comes first

    _run("import_members", "--from", "ghost", str(members_csv))
    assert set(User.objects.values_list("email", flat=True)) == {
        f"{name}@moving.example" for name in ("ann", "bob", "cara", "eve", "finn", "gus", "hal")
    }
    cara, eve, finn = (User.objects.get(email=f"{n}@moving.example") for n in ("cara", "eve", "finn"))
    assert not _reads_in_full(cara, article)  # Stripe charges her, yet the webhooks ignored her so far

    before = {key: fake.count("GET", key) for key in ("/v1/customers", "/v1/subscriptions")}
    out = _run("stripe_adopt", "--dry-run")
    assert f"would adopt {subs['cara']['id']} (active) for cara@moving.example, matched by customer id" in out
    assert f"would adopt {subs['eve']['id']} (active, on a price that is not one of our plans)" in out
    assert f"would adopt {subs['finn']['id']} (trialing) for finn@moving.example, matched by email" in out
    assert "2 Stripe customers share the email gus@moving.example: ambiguous, not adopted" in out
    assert f"skipped {subs['hal']['id']}: its metadata says it belongs to 'other.example'" in out
    assert f"no reader has the email stranger@elsewhere.example (customer {subs['stranger']['customer']})" in out
    assert not Subscription.objects.exists()
    # Auto-paging walked every page of both lists (more than 100 of each).
    assert fake.count("GET", "/v1/customers") - before["/v1/customers"] == 2
    assert fake.count("GET", "/v1/subscriptions") - before["/v1/subscriptions"] == 2

    out = _run("stripe_adopt")
    assert "adopted 3 (2 by customer id, 1 by email; 1 on prices that are not one of our plans)" in out
    for user in (cara, eve, finn):
        assert _reads_in_full(user, article), user.email  # their cached account was retired
    for name in ("ann", "bob", "gus", "hal"):
        assert not _reads_in_full(User.objects.get(email=f"{name}@moving.example"), article)

    local = Subscription.objects.get(stripe_subscription_id=subs["eve"]["id"])
    assert local.plan is None and local.stripe_price_id == subs["eve"]["items"]["data"][0]["price"]["id"]
    assert local.amount_cents == 700 and local.price_label() == "$7.00 every month"
    assert Subscription.objects.get(user=finn).status == "trialing"
    assert StripeCustomer.objects.get(user=finn).customer_id == subs["finn"]["customer"]
    # Nobody paid twice, nothing was announced: no Checkout, no new subscription, no welcome or staff mail.
    assert fake.count("POST", "/v1/checkout/sessions") == 0 and fake.count("POST", "/v1/subscriptions") == 0
    assert len(fake.subscriptions) == stripe_subscriptions
    assert mail.outbox == []

    state = sorted(Subscription.objects.values_list("stripe_subscription_id", "user_id", "status", "updated_at"))
    out = _run("stripe_adopt")
    assert "adopted 0" in out and "3 already ours" in out
    out = _run("import_members", "--from", "ghost", str(members_csv))
    assert "0 created, 0 updated, 7 unchanged" in out
    assert (
        sorted(Subscription.objects.values_list("stripe_subscription_id", "user_id", "status", "updated_at")) == state
    )


def test_webhooks_of_an_adopted_subscription_are_no_longer_ignored(moving_newsroom, client) -> None:
    fake, members_csv, subs = moving_newsroom
    _run("import_members", "--from", "ghost", str(members_csv))
    eve = subs["eve"]
    fake.update_subscription(eve["id"], cancel_at_period_end=True)
    assert deliver(client, "customer.subscription.updated", eve).status_code == 200
    assert not Subscription.objects.exists()  # before adoption: a subscription on a price not ours, ignored
    assert [m.subject for m in mail.outbox] == [f"[Django] Stripe subscription {eve['id']} is on an unknown price"]
    mail.outbox.clear()

    _run("stripe_adopt")
    fake.update_subscription(eve["id"], status="past_due")
    assert deliver(client, "customer.subscription.updated", eve).status_code == 200
    local = Subscription.objects.get(stripe_subscription_id=eve["id"])
    assert local.status == "past_due" and local.cancel_at_period_end
    assert local.plan is None and local.amount_cents == 700  # still on the price she chose
    assert mail.outbox == []  # an adopted price is expected: staff are not told on every event


def test_the_admin_shows_a_price_that_is_not_one_of_our_plans(moving_newsroom, client) -> None:
    fake, members_csv, subs = moving_newsroom
    _run("import_members", "--from", "ghost", str(members_csv))
    _run("stripe_adopt")
    client.force_login(make_user("boss@example.com", is_staff=True, is_superuser=True))
    page = client.get("/admin/subscriptions/subscription/").content.decode()
    price = subs["eve"]["items"]["data"][0]["price"]["id"]
    assert f"not one of our plans ({price})" in page and "$7.00 every month" in page
    assert "Weekly" in page


def test_an_unverified_reader_is_not_given_someone_elses_subscription(stripe_env) -> None:
    make_user("ida@moving.example", verified=False)  # anyone may sign up with any address
    customer = stripe_env.add_customer("ida@moving.example")
    sub = stripe_env.make_subscription(customer["id"], Plan.objects.get(code="weekly").stripe_price_id)
    out = _run("stripe_adopt")
    assert f"not adopted {sub['id']} (active): the reader with ida@moving.example has not verified it" in out
    assert not Subscription.objects.exists()


def test_list_pages_are_as_stripe_pages_them(stripe_env) -> None:
    billing._configure()
    for n in range(5):
        stripe_env.add_customer(f"page{n}@paging.example")
    for limit in (0, 101):
        with pytest.raises(stripe.InvalidRequestError, match="limit"):
            stripe.Customer.list(limit=limit)
    first = stripe.Customer.list(limit=2)
    assert len(first.data) == 2 and first.has_more
    rest = stripe.Customer.list(limit=2, starting_after=first.data[-1].id)
    assert rest.data[0].id > first.data[-1].id
    ours = [c.email for c in stripe.Customer.list(limit=2).auto_paging_iter() if c.email.endswith("paging.example")]
    assert sorted(ours) == [f"page{n}@paging.example" for n in range(5)]
    with pytest.raises(stripe.InvalidRequestError, match="No such"):
        stripe.Customer.list(limit=2, starting_after="cus_nobody")
