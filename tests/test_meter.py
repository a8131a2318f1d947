"""The daily free-article meter, as readers meet it through the article page."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from articles.models import Article
from subscriptions import meter, stats
from subscriptions.models import MeterDay, MeterRead

from .conftest import MARKER, PASSWORD, make_article, make_category, meter_reads

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("both_meter_stores")]


@pytest.fixture
def stories(category, author) -> list[Article]:
    return [make_article(category=category, authors=[author]) for _ in range(7)]


def is_full(response) -> bool:
    assert response.status_code == 200
    return MARKER in response.content.decode()


def test_it_gives_three_full_articles_then_the_paywall(client, stories) -> None:
    seen = [is_full(client.get(s.get_absolute_url())) for s in stories[:4]]
    assert seen == [True, True, True, False]
    page = client.get(stories[3].get_absolute_url()).content.decode()
    assert "free articles for today" in page or "free article for today" in page
    assert "Already a subscriber?" in page


def test_reopening_an_article_read_today_is_free(client, stories) -> None:
    for s in stories[:3]:
        assert is_full(client.get(s.get_absolute_url()))
    assert is_full(client.get(stories[0].get_absolute_url()))
    assert is_full(client.get(stories[0].get_absolute_url()))
    assert not is_full(client.get(stories[3].get_absolute_url()))
    assert [len(reads) for reads in meter_reads().values()] == [3]


def test_it_tells_readers_how_many_free_articles_are_left(client, stories) -> None:
    page = client.get(stories[0].get_absolute_url()).content.decode()
    assert "2 free articles left today" in page
    page = client.get(stories[1].get_absolute_url()).content.decode()
    assert "1 free article left today" in page


def test_the_limit_is_set_by_the_operator(client, stories, settings) -> None:
    settings.FREE_ARTICLES_PER_DAY = 1
    assert is_full(client.get(stories[0].get_absolute_url()))
    assert not is_full(client.get(stories[1].get_absolute_url()))


def test_free_articles_cost_nothing(client, category, author) -> None:
    free = [make_article(category=category, authors=[author], access=Article.Access.FREE) for _ in range(5)]
    assert all(is_full(client.get(a.get_absolute_url())) for a in free)
    assert not meter_reads()
    assert "left today" not in client.get(free[0].get_absolute_url()).content.decode()


def test_subscriber_only_articles_show_a_teaser_and_use_no_credit(client, category, author) -> None:
    locked = make_article(category=category, authors=[author], access=Article.Access.SUBSCRIBERS)
    page = client.get(locked.get_absolute_url()).content.decode()
    assert MARKER not in page
    assert "Opening paragraph number one" in page
    assert "for subscribers" in page
    assert not meter_reads()


@pytest.mark.parametrize("persona", ["subscriber", "trialing", "complimentary", "editor"])
def test_entitled_readers_read_everything_without_metering_or_ads(persona, request, stories, category) -> None:
    user = request.getfixturevalue(persona)
    client = Client()
    client.force_login(user)
    locked = make_article(category=category, access=Article.Access.SUBSCRIBERS)
    for s in [*stories, locked]:
        response = client.get(s.get_absolute_url())
        assert is_full(response)
        assert 'class="ad-slot' not in response.content.decode()
    assert not meter_reads()


def test_readers_without_a_subscription_see_ad_slots(client, stories) -> None:
    assert 'class="ad-slot' in client.get(stories[0].get_absolute_url()).content.decode()


def test_lapsed_subscribers_are_metered_again_with_an_accounts_allowance(lapsed, stories) -> None:
    client = Client()
    client.force_login(lapsed)
    seen = [is_full(client.get(s.get_absolute_url())) for s in stories[:6]]
    assert seen == [True] * 5 + [False]


def test_a_free_account_reads_the_registered_allowance(free_reader, stories, settings) -> None:
    settings.FREE_ARTICLES_PER_DAY_REGISTERED = 4
    client = Client()
    client.force_login(free_reader)
    seen = [is_full(client.get(s.get_absolute_url())) for s in stories[:5]]
    assert seen == [True] * 4 + [False]
    assert "You've read your 4 free articles" in client.get(stories[5].get_absolute_url()).content.decode()


@pytest.mark.usefixtures("plans")
def test_an_anonymous_paywall_offers_a_free_account_and_a_subscription(client, stories, settings) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_payments_open"  # payments off: no plan sold (test_payments_closed)
    for s in stories[:3]:
        assert is_full(client.get(s.get_absolute_url()))
    body = client.get(stories[3].get_absolute_url()).content.decode()
    assert "Create a free account for 2 more articles today" in body
    assert f"/accounts/signup/?next={stories[3].get_absolute_url()}" in body
    assert 'href="/subscribe/?plan=' in body  # the paywall box's own button, not the header's link


@pytest.mark.parametrize("bad", ["", "short", "a" * 31 + "!", "é" * 32, "x" * 33, "0123456789abcdef:0123456789abcde"])
def test_a_malformed_cookie_is_ignored_and_replaced(client, stories, bad) -> None:
    client.get(stories[0].get_absolute_url())
    good = client.cookies["reader"].value
    client.cookies["reader"] = bad
    response = client.get(stories[1].get_absolute_url())
    assert is_full(response)
    replaced = response.cookies["reader"].value
    assert replaced not in (good, bad)
    assert set(meter_reads()) == {f"a:{good}", f"a:{replaced}"}


def test_a_made_up_id_is_only_a_new_reader(client, stories, settings) -> None:
    """Unsigned on purpose: an id no server minted counts like a cleared cookie —
    a fresh allowance that the address's backstop still bounds."""
    settings.FREE_ARTICLES_PER_IP_PER_DAY = 4
    seen = []
    for n, story in enumerate(stories[:6]):
        client.cookies["reader"] = f"{n:032d}"
        seen.append(is_full(client.get(story.get_absolute_url())))
    assert seen == [True] * 4 + [False] * 2


def test_the_cookie_is_random_http_only_and_long_lived(client, stories) -> None:
    response = client.get(stories[0].get_absolute_url())
    cookie = response.cookies["reader"]
    assert cookie["httponly"]
    assert int(cookie["max-age"]) >= 60 * 60 * 24 * 365
    assert len(cookie.value) == 32 and int(cookie.value, 16) >= 0
    assert Client().get(stories[0].get_absolute_url()).cookies["reader"].value != cookie.value


def test_the_day_is_the_sites_local_day(client, stories, settings, monkeypatch) -> None:
    settings.TIME_ZONE = "America/New_York"
    # 23:30 in New York on Jan 10 is already Jan 11 in UTC.
    late_evening = datetime(2026, 1, 10, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    Article.objects.update(publish_at=late_evening - timedelta(days=30))
    monkeypatch.setattr(timezone, "now", lambda: late_evening)
    for s in stories[:3]:
        assert is_full(client.get(s.get_absolute_url()))
    assert [len(reads) for reads in meter_reads(date(2026, 1, 10)).values()] == [3]
    assert not is_full(client.get(stories[3].get_absolute_url()))
    # Just after local midnight the allowance is back.
    monkeypatch.setattr(timezone, "now", lambda: late_evening + timedelta(minutes=31))
    assert is_full(client.get(stories[3].get_absolute_url()))


def test_logging_in_carries_the_days_reads_to_the_account(client, stories, free_reader) -> None:
    for s in stories[:3]:
        assert is_full(client.get(s.get_absolute_url()))
    response = client.post("/accounts/login/", {"login": free_reader.email, "password": PASSWORD})
    assert response.status_code == 302
    # No fresh allowance by logging in: the account's 5 a day include the 3 read anonymously ...
    assert [is_full(client.get(s.get_absolute_url())) for s in stories[3:6]] == [True, True, False]
    # ... the articles already read stay readable ...
    assert is_full(client.get(stories[0].get_absolute_url()))
    # ... and none by logging out either.
    client.post("/accounts/logout/")
    assert not is_full(client.get(stories[6].get_absolute_url()))
    assert len(meter_reads()[f"u:{free_reader.pk}"]) == 5


def test_the_ip_backstop_stops_cookie_clearing_from_resetting_the_limit(stories, settings) -> None:
    settings.FREE_ARTICLES_PER_IP_PER_DAY = 4
    full = 0
    for s in stories:
        fresh = Client(REMOTE_ADDR="203.0.113.9")  # a browser with cleared cookies every time
        full += is_full(fresh.get(s.get_absolute_url()))
    assert full == 4
    other_ip = Client(REMOTE_ADDR="203.0.113.10")
    assert is_full(other_ip.get(stories[4].get_absolute_url()))


def test_a_read_refused_by_the_ip_backstop_costs_the_reader_nothing(stories, settings) -> None:
    settings.FREE_ARTICLES_PER_IP_PER_DAY = 1
    assert is_full(Client(REMOTE_ADDR="203.0.113.9").get(stories[0].get_absolute_url()))  # the address's one
    reader = Client(REMOTE_ADDR="203.0.113.9")
    assert not is_full(reader.get(stories[1].get_absolute_url()))
    # All or nothing: neither the read nor the reader's credit was kept.
    assert list(meter_reads().values()) == [{stories[0].pk}]
    # The same browser elsewhere still has its whole allowance, and this article is not "already read".
    reader.defaults["REMOTE_ADDR"] = "198.51.100.7"
    response = reader.get(stories[1].get_absolute_url())
    assert is_full(response) and "2 free articles left today" in response.content.decode()


def test_the_ip_backstop_can_be_turned_off(stories, settings) -> None:
    settings.FREE_ARTICLES_PER_IP_PER_DAY = 0
    assert all(is_full(Client(REMOTE_ADDR="203.0.113.9").get(s.get_absolute_url())) for s in stories)


def test_a_client_sent_forwarded_for_header_is_not_believed(stories, settings) -> None:
    settings.FREE_ARTICLES_PER_IP_PER_DAY = 2
    results = [
        is_full(Client(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").get(s.get_absolute_url()))
        for i, s in enumerate(stories[:3])
    ]
    assert results == [True, True, False]


def test_behind_a_configured_proxy_the_forwarded_address_counts(stories, settings) -> None:
    settings.FREE_ARTICLES_PER_IP_PER_DAY = 2
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    results = [
        is_full(
            Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"6.6.6.6, 198.51.100.{i}").get(s.get_absolute_url())
        )
        for i, s in enumerate(stories[:3])
    ]
    assert results == [True, True, True]


def test_prune_meter_removes_old_rows_only(stories) -> None:
    today = meter.today()
    for age in (0, 3, 10, 30):
        day = today - timedelta(days=age)
        MeterDay.objects.create(reader="a:x", day=day, count=1)
        MeterRead.objects.create(reader="a:x", day=day, article=stories[0])
    call_command("prune_meter", keep_days=7)
    assert sorted((today - d).days for d in MeterDay.objects.values_list("day", flat=True)) == [0, 3]
    assert MeterRead.objects.count() == 2


def test_paywall_views_are_counted_for_the_dashboard(client, stories, settings) -> None:
    settings.FREE_ARTICLES_PER_DAY = 0
    client.get(stories[0].get_absolute_url())
    client.get(stories[1].get_absolute_url())
    assert stats.dashboard_numbers()["paywall_views"] == 2


def test_the_meter_counts_the_paywalls_it_refuses_and_each_is_counted_once(
    client, stories, settings, both_meter_stores
) -> None:
    """A refusal counts its paywall view in the meter's own call (no round trip of its
    own); a subscribers-only story, where no meter runs, is counted by the page."""
    from subscriptions import counters

    settings.FREE_ARTICLES_PER_DAY = 0
    for story in stories[:3]:
        assert not is_full(client.get(story.get_absolute_url()))
    if both_meter_stores == "redis":
        assert counters.client().get(stats.page_views_key(meter.PAYWALL_VIEW, meter.today())) == b"3"
    assert stats.dashboard_numbers()["paywall_views"] == 3
    only_for_subscribers = make_article(access=Article.Access.SUBSCRIBERS)
    for reader in (client, Client()):  # the second: a new reader, and a kept page
        assert not is_full(reader.get(only_for_subscribers.get_absolute_url()))
    assert stats.dashboard_numbers()["paywall_views"] == 5


def test_a_paywall_login_link_returns_to_the_article(client, stories, settings) -> None:
    settings.FREE_ARTICLES_PER_DAY = 0
    page = client.get(stories[0].get_absolute_url()).content.decode()
    assert f"/accounts/login/?next={stories[0].get_absolute_url()}" in page.replace("%2F", "/")


def test_other_sections_do_not_share_counters(client) -> None:
    a = make_article(category=make_category())
    b = make_article(category=make_category())
    assert is_full(client.get(a.get_absolute_url()))
    assert is_full(client.get(b.get_absolute_url()))
    assert [len(reads) for reads in meter_reads().values()] == [2]


def test_prune_works_in_batches_until_every_old_row_is_gone(stories) -> None:
    today = meter.today()
    for n in range(7):
        MeterDay.objects.create(reader=f"a:{n}", day=today - timedelta(days=9), count=1)
        MeterRead.objects.create(reader=f"a:{n}", day=today - timedelta(days=9), article=stories[0])
    MeterRead.objects.create(reader="a:today", day=today, article=stories[0])
    assert meter.prune(keep_days=7, batch=3) == 14
    assert list(MeterRead.objects.values_list("reader", flat=True)) == ["a:today"]
    assert not MeterDay.objects.exists()


def test_each_store_forgets_old_days(client, stories, both_meter_stores, monkeypatch) -> None:
    """Redis's keys expire by themselves (a day and an hour); the database's rows go with prune_meter."""
    from subscriptions import counters

    client.get(stories[0].get_absolute_url())
    if both_meter_stores == "redis":
        keys = list(counters.client().scan_iter(counters.key("meter", meter.today().isoformat(), "*")))
        assert len(keys) == 2  # the reader's reads and the address's count
        assert all(0 < counters.client().ttl(k) <= 25 * 60 * 60 for k in keys)
    else:
        later = meter.today() + timedelta(days=8)
        monkeypatch.setattr(meter, "today", lambda: later)
        assert meter.prune(keep_days=7) == 3  # the read, the reader's count, the address's count
    assert not MeterRead.objects.exists() and not MeterDay.objects.exists()
