"""Paywall experiments as readers and staff meet them (subscriptions/experiments.py).

Assignment is stable and balanced; crawlers, staff and subscribers never take part; in
every arm the meter grants exactly the arm's limit (under concurrency too), the paid text
never reaches a reader the arm does not let read it, the paywall shows the arm's words,
and the page cache gives each arm its own page; readers, paywall views and successes are
counted per arm; Checkout gives the arm's trial; a winner becomes the site's setting.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Article
from subscriptions import counters, experiments, meter
from subscriptions.models import Experiment, ExperimentReader, ExperimentVariant, PaywallSettings, Plan

from .conftest import MARKER, PASSWORD, TEST_REDIS_URL, make_article, make_subscription, make_user

pytestmark = pytest.mark.django_db

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
# Arm A: 2 free articles and its own words; arm B: 4 free articles, a 30-day trial.
ARMS = {
    "A": {"free_articles_per_day": 2, "headline": "Alpha headline <b>bold</b>", "text": "Alpha text."},
    "B": {"free_articles_per_day": 4, "headline": "Bravo headline", "text": "Bravo text.", "trial_days": 30},
}


@pytest.fixture(autouse=True)
def _terms_read_afresh():
    """The terms are kept in each worker's memory for a few seconds: a test's rolled-back
    experiment must not outlive it."""
    experiments.forget()
    yield
    experiments.forget()


@pytest.fixture
def store(request, settings):
    """The meter and the cache as in production (one Redis), or with the meter in the database."""
    kind = getattr(request, "param", "one Redis")
    if kind == "database":
        settings.METER_STORE = "database"
        yield kind
        return
    prefix = f"test-{uuid.uuid4().hex}"
    settings.REDIS_URL = settings.METER_REDIS_URL = TEST_REDIS_URL
    settings.METER_STORE = "redis"
    settings.REDIS_KEY_PREFIX = prefix
    settings.CACHES = {"default": {"BACKEND": "newsroom.cache.RedisCache", "LOCATION": TEST_REDIS_URL,
                                   "KEY_PREFIX": prefix}}  # fmt: skip
    yield kind
    client = counters.client()
    if keys := list(client.scan_iter(f"{prefix}:*")):
        client.delete(*keys)


STORES = pytest.mark.parametrize("store", ["one Redis", "database"], indirect=True)


def start(arms: dict[str, dict] = ARMS, *, share: int = 100, metric: str = Experiment.Metric.TRIAL) -> Experiment:
    experiment = Experiment.objects.create(name="3 or 5", share=share, metric=metric,
                                           status=Experiment.Status.RUNNING)  # fmt: skip
    for label, terms in arms.items():
        ExperimentVariant.objects.create(experiment=experiment, label=label, **terms)
    return experiment


def browser_in(label: str, experiment: Experiment) -> Client:
    """A new reader's browser whose meter id the experiment puts in arm `label`."""
    running = experiments.state().running
    assert running is not None and running.experiment_id == experiment.pk
    while True:
        reader_id = secrets.token_hex(16)
        arm = experiments.assign(f"a:{reader_id}", running)
        if arm is not None and arm.label == label:
            client = Client()
            client.cookies[settings.METER_COOKIE_NAME] = reader_id
            return client


def read(client: Client, article: Article, **headers) -> str:
    response = client.get(article.get_absolute_url(), **headers)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def stories(category, author) -> list[Article]:
    return [make_article(category=category, authors=[author]) for _ in range(6)]


# -- Assignment ---------------------------------------------------------------------------


def test_assignment_is_stable_and_balanced_over_many_readers(db) -> None:
    start({"A": {}, "B": {"free_articles_per_day": 5}, "C": {"free_articles_per_day": 1}})
    running = experiments.state().running
    readers = [f"a:{secrets.token_hex(16)}" for _ in range(30_000)]
    arms = [experiments.assign(r, running).label for r in readers]
    assert [experiments.assign(r, running).label for r in readers[:1000]] == arms[:1000]  # stable
    for label in "ABC":
        assert abs(arms.count(label) / len(arms) - 1 / 3) < 0.015


def test_only_the_share_takes_part_and_another_experiment_reshuffles(db) -> None:
    experiment = start(share=30)
    running = experiments.state().running
    readers = [f"a:{secrets.token_hex(16)}" for _ in range(30_000)]
    arms = [experiments.assign(r, running) for r in readers]
    inside = [a for a in arms if a is not None]
    assert abs(len(inside) / len(readers) - 0.30) < 0.015
    assert abs(sum(a.label == "A" for a in inside) / len(inside) - 0.5) < 0.02
    # Another experiment's arms are independent of this one's.
    other = experiments.Running(experiment.pk + 1, 100, running.starts_at, None, running.arms)
    same = sum(experiments.assign(r, other).label == (a.label if a else "") for r, a in zip(readers, arms, strict=True))
    assert abs(same / len(readers) - 0.15) < 0.02  # 30% inside x 1/2 same arm, by chance alone


@STORES
def test_a_reader_stays_in_their_arm_across_pages_log_in_and_log_out(stories, store) -> None:
    experiment = start()
    client = browser_in("B", experiment)
    reader = make_user()
    assert "3 free articles left today" in read(client, stories[0])  # B's 4, one used
    assert client.post("/accounts/login/", {"login": reader.email, "password": PASSWORD}).status_code == 302
    row = ExperimentReader.objects.get(user=reader)
    assert row.variant.label == "B" and row.reader == f"account:{reader.pk}"
    # Logged in: arm B's 4 plus the registration wall's 2 extra; 1 already read.
    assert [MARKER in read(client, s) for s in stories[1:6]] == [True] * 5
    assert client.post("/accounts/logout/").status_code == 302
    page = read(client, make_article())
    assert MARKER not in page and "Bravo headline" in page  # still B, and the day's reads came along


@STORES
def test_crawlers_staff_and_subscribers_never_take_part(stories, store, subscriber, editor) -> None:
    start({"A": {"free_articles_per_day": 0}, "B": {"free_articles_per_day": 0}})
    factory = RequestFactory()
    bot = factory.get("/", HTTP_USER_AGENT=GOOGLEBOT)
    bot.COOKIES[settings.METER_COOKIE_NAME] = secrets.token_hex(16)
    assert experiments.terms(bot).variant_id is None
    # A crawler by its claim alone meets the site's terms (3 a day), never an arm's 0.
    client = Client(HTTP_USER_AGENT=GOOGLEBOT)
    assert MARKER in read(client, stories[0]) and "Alpha" not in read(client, stories[1])
    for persona in (subscriber, editor):
        client = Client()
        client.force_login(persona)
        request = factory.get("/")
        request.user = persona
        request.COOKIES[settings.METER_COOKIE_NAME] = secrets.token_hex(16)
        assert experiments.terms(request).variant_id is None
        assert MARKER in read(client, stories[2])
    assert ExperimentReader.objects.count() == 0


def test_no_experiment_runs_before_its_start_or_after_its_end(stories) -> None:
    experiment = start({"A": {"free_articles_per_day": 0}, "B": {"free_articles_per_day": 0}})
    experiment.starts_at = timezone.now() + timezone.timedelta(hours=1)
    experiment.save()
    assert MARKER in read(Client(), stories[0])
    experiment.starts_at, experiment.ends_at = timezone.now() - timezone.timedelta(hours=2), timezone.now()
    experiment.save()
    assert MARKER in read(Client(), stories[0])


# -- The meter and the paywall in every arm -----------------------------------------------


@STORES
@pytest.mark.parametrize("label", list(ARMS))
def test_each_arm_reads_exactly_its_own_limit_then_its_own_paywall(stories, store, label) -> None:
    experiment = start()
    client = browser_in(label, experiment)
    limit = ARMS[label]["free_articles_per_day"]
    pages = [read(client, s) for s in stories[: limit + 1]]
    assert [MARKER in p for p in pages] == [True] * limit + [False]
    paywall = pages[-1]
    assert "Alpha headline &lt;b&gt;bold&lt;/b&gt;" in paywall if label == "A" else "Bravo headline" in paywall
    assert ARMS[label]["text"] in paywall
    assert "<b>bold</b>" not in paywall  # staff's words are escaped like everything else
    # Re-reading is still free, and nothing more opens.
    assert MARKER in read(client, stories[0]) and MARKER not in read(client, stories[limit + 1 :][0])


@pytest.mark.parametrize("label", list(ARMS))
def test_under_concurrency_an_arm_never_grants_past_its_own_limit(stories, store, label) -> None:
    experiment = start()
    reader_id = browser_in(label, experiment).cookies[settings.METER_COOKIE_NAME].value
    articles = [make_article() for _ in range(12)]
    granted: list[bool] = []

    def one(article: Article) -> None:
        request = RequestFactory().get("/")
        request.COOKIES[settings.METER_COOKIE_NAME] = reader_id
        granted.append(meter.consume(request, article.pk).granted)

    threads = [threading.Thread(target=one, args=(a,)) for a in articles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert granted.count(True) == ARMS[label]["free_articles_per_day"]


LEAK_URLS = ["/feed/", "/feed/atom/", "/sitemap.xml", "/search/?q=marker"]


@STORES
@pytest.mark.parametrize("label", list(ARMS))
def test_no_arm_leaks_the_paid_text(stories, store, label) -> None:
    experiment = start()
    client = browser_in(label, experiment)
    for story in stories[: ARMS[label]["free_articles_per_day"]]:
        read(client, story)
    for story in stories[ARMS[label]["free_articles_per_day"] :]:
        for headers in ({}, {"HTTP_REFERER": "https://www.google.com/"}, {"HTTP_X_FORWARDED_FOR": "66.249.66.1"}):
            page = read(client, story, **headers)
            assert MARKER not in page and 'class="paywall"' in page
    subscribers_only = make_article(access=Article.Access.SUBSCRIBERS)
    assert MARKER not in read(browser_in(label, experiment), subscribers_only)
    for url in LEAK_URLS:
        response = client.get(url)
        assert response.status_code in (200, 404) and MARKER not in response.content.decode()


@STORES
def test_the_page_cache_gives_each_arm_its_own_page(stories, store) -> None:
    experiment = start()
    a, b = browser_in("A", experiment), browser_in("B", experiment)
    story = stories[0]
    assert "1 free article left today" in read(a, story)
    assert "3 free articles left today" in read(b, story)
    # Second readers of each arm get the kept pages, each their own arm's.
    a2, b2 = browser_in("A", experiment), browser_in("B", experiment)
    assert "1 free article left today" in read(a2, story) and "3 free articles left today" in read(b2, story)
    for client, n in ((a, 2), (b, 4)):
        for s in stories[1:n]:
            read(client, s)
    teaser_a, teaser_b = read(a, stories[5]), read(b, stories[5])
    assert "Alpha text." in teaser_a and "Bravo" not in teaser_a
    assert "Bravo text." in teaser_b and "Alpha" not in teaser_b
    # A kept page: the next over-the-limit reader of each arm gets their arm's again.
    for label, client, n in (("A", browser_in("A", experiment), 2), ("B", browser_in("B", experiment), 4)):
        for s in stories[:n]:
            read(client, s)
        assert f"{'Alpha' if label == 'A' else 'Bravo'} text." in read(client, stories[5])


@pytest.mark.parametrize("store", ["one Redis"], indirect=True)
def test_a_kept_page_in_an_arm_is_still_one_call_to_redis_and_no_sql(stories, store) -> None:
    experiment = start()
    read(browser_in("B", experiment), stories[0])  # kept, with the article's facts
    reader = browser_in("B", experiment)
    with CaptureQueriesContext(connection) as queries:
        page = read(reader, stories[0])
    assert MARKER in page and "3 free articles left today" in page and len(queries) == 0


# -- Counting -----------------------------------------------------------------------------


@STORES
def test_readers_and_paywall_views_are_counted_per_arm(stories, store) -> None:
    experiment = start()
    for label, readers in (("A", 3), ("B", 2)):
        for _ in range(readers):
            client = browser_in(label, experiment)
            for s in stories[: ARMS[label]["free_articles_per_day"] + 2]:  # two paywalls each
                read(client, s)
            read(client, stories[0])  # a re-read: the same reader, no paywall
    read(Client(HTTP_USER_AGENT=GOOGLEBOT), stories[0])  # a crawler meets the site's terms: not counted
    results = {arm.label: arm for arm in experiments.results(experiment)}
    assert (results["A"].readers, results["A"].paywall_views) == (3, 6)
    assert (results["B"].readers, results["B"].paywall_views) == (2, 4)


def test_a_trial_counts_once_for_the_arm_the_account_was_in(stories, stripe_env) -> None:
    experiment = start()
    client = browser_in("B", experiment)
    pages = [read(client, s) for s in stories[:5]]
    assert "Start your 30-day free trial" in pages[4]  # the paywall offers arm B's trial ...
    reader = make_user()
    assert client.post("/accounts/login/", {"login": reader.email, "password": PASSWORD}).status_code == 302
    assert client.post("/subscribe/checkout/", {"plan": "weekly"}).status_code == 303  # ... and Checkout gives it
    (session,) = stripe_env.sessions.values()
    assert session["_params"]["subscription_data"]["trial_period_days"] == "30"  # arm B's trial, not the plan's 14
    sub = make_subscription(reader, status="trialing", trial_end=timezone.now() + timezone.timedelta(days=30))
    experiments.count_success(sub)
    experiments.count_success(sub)  # a redelivered event counts nothing more
    results = {arm.label: arm for arm in experiments.results(experiment)}
    assert (results["A"].successes, results["B"].successes) == (0, 1)
    # Someone outside the experiment, or a paid metric, counts nothing.
    experiments.count_success(make_subscription(make_user(), status="trialing"))
    assert sum(arm.successes for arm in experiments.results(experiment)) == 1


def test_the_subscribe_page_offers_the_arms_trial_and_checkout_gives_it(stories, stripe_env) -> None:
    experiment = start()
    client = browser_in("B", experiment)  # arm B offers a 30-day trial, the plan 14
    reader = make_user()
    assert client.post("/accounts/login/", {"login": reader.email, "password": PASSWORD}).status_code == 302
    ExperimentReader.objects.filter(user=reader).delete()  # as if logged in before the experiment began
    page = client.get("/subscribe/").content.decode()
    assert "Your first 30 days are free" in page and "30 days free" in page and "14 days" not in page
    assert client.post("/subscribe/checkout/", {"plan": "weekly"}).status_code == 303
    (session,) = stripe_env.sessions.values()
    assert session["_params"]["subscription_data"]["trial_period_days"] == "30"
    assert ExperimentReader.objects.get(user=reader).variant.label == "B"  # a success will count for B
    # Arm A offers the plan's own trial; a new reader in it is told so.
    page = browser_in("A", experiment).get("/subscribe/").content.decode()
    assert "Your first 14 days are free" in page and "30 days" not in page


def test_with_payments_off_the_subscribe_page_says_the_arms_free_limit(stories, settings) -> None:
    settings.STRIPE_SECRET_KEY = ""
    experiment = start()
    assert "read 4 free articles a day" in browser_in("B", experiment).get("/subscribe/").content.decode()
    assert "read 2 free articles a day" in browser_in("A", experiment).get("/subscribe/").content.decode()


def test_a_free_sign_up_counts_for_its_arm(stories, settings) -> None:
    settings.ACCOUNT_EMAIL_VERIFICATION = "none"
    experiment = start(metric=Experiment.Metric.SIGNUP)
    client = browser_in("A", experiment)
    read(client, stories[0])
    response = client.post("/accounts/signup/", {"email": "new@example.com", "password1": PASSWORD,
                                                 "password2": PASSWORD})  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    results = {arm.label: arm for arm in experiments.results(experiment)}
    assert (results["A"].successes, results["B"].successes) == (1, 0)


# -- Staff ---------------------------------------------------------------------------------


def test_one_experiment_runs_at_a_time(db) -> None:
    start()
    second = Experiment(name="another", status=Experiment.Status.RUNNING)
    with pytest.raises(ValidationError, match="one experiment runs at a time"):
        second.full_clean()


def test_ending_with_a_winner_makes_its_terms_the_sites(stories, editor) -> None:
    experiment = start()
    staff = make_user(is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(staff)
    page = admin.get(f"/admin/subscriptions/experiment/{experiment.pk}/results/").content.decode()
    assert "Not enough readers yet" in page and "Paywall views" in page
    response = admin.post(f"/admin/subscriptions/experiment/{experiment.pk}/results/", {"winner": "B"})
    assert response.status_code == 302
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.ENDED and experiment.winner.label == "B"
    site = PaywallSettings.objects.get()
    assert (site.free_articles_per_day, site.headline, site.trial_days) == (4, "Bravo headline", 30)
    # Every reader now meets B's terms: four free articles, B's words.
    client = Client()
    assert [MARKER in read(client, s) for s in stories[:5]] == [True] * 4 + [False]
    assert "Bravo headline" in read(client, stories[4])
    assert experiments.trial_days_for(make_user(), Plan(trial_days=14)) == 30


def test_the_admin_starts_a_test_of_three_against_five(db) -> None:
    staff = make_user(is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(staff)
    now = timezone.localtime()
    form = {
        "name": "Three or five", "share": "100", "starts_at_0": now.strftime("%Y-%m-%d"),
        "starts_at_1": now.strftime("%H:%M:%S"), "ends_at_0": "", "ends_at_1": "", "metric": "trial",
        "status": "running",
        "variants-TOTAL_FORMS": "2", "variants-INITIAL_FORMS": "0", "variants-MIN_NUM_FORMS": "2",
        "variants-MAX_NUM_FORMS": "4",
        "variants-0-label": "A", "variants-0-free_articles_per_day": "3",
        "variants-1-label": "B", "variants-1-free_articles_per_day": "5",
    }  # fmt: skip
    for name in ("headline", "text", "plan_first", "trial_days"):
        form[f"variants-0-{name}"] = form[f"variants-1-{name}"] = ""
    bad = {**form, "variants-1-label": "C"}
    assert "Name the arms A, B" in admin.post("/admin/subscriptions/experiment/add/", bad).content.decode()
    response = admin.post("/admin/subscriptions/experiment/add/", form)
    assert response.status_code == 302, response.content.decode()[-3000:]
    experiment = Experiment.objects.get()
    assert [v.free_articles_per_day for v in experiment.variants.order_by("label")] == [3, 5]
    assert experiments.state().running.experiment_id == experiment.pk


def test_a_save_in_another_worker_reaches_this_one_within_local_seconds(db, monkeypatch) -> None:
    before = experiments.state()
    assert before.running is None
    token = experiments._local[1]
    start()  # saved "elsewhere": this worker still holds its copy, read with the old token
    experiments._local = (time.monotonic(), token, before)
    assert experiments.state().running is None  # within LOCAL_SECONDS: its own copy, no read
    later = time.monotonic() + experiments.LOCAL_SECONDS + 1
    monkeypatch.setattr(experiments.time, "monotonic", lambda: later)
    assert experiments.state().running is not None  # the token changed: read again
    with CaptureQueriesContext(connection) as queries:
        cache.clear()  # the cache lost the token: this worker's copy stays, no query
        monkeypatch.setattr(experiments.time, "monotonic", lambda: later + 2 * experiments.LOCAL_SECONDS)
        assert experiments.state().running is not None
    assert len(queries) == 0
