"""A publisher tests 3 against 5 free articles a day (issue 30).

In the admin they start the experiment; new readers in two browsers land in the two
arms and meet the paywall after 3 and after 5 articles; the reader in the 5-article arm
subscribes through Checkout (the Stripe fake's hosted page); the publisher reads the
results page, where the trial counts for that arm alone, and ends the experiment with the
winner, whose limit becomes the site's."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from articles.models import Article
from subscriptions import experiments
from subscriptions.models import Experiment, PaywallSettings, Subscription
from tests.conftest import MARKER, make_article, make_category, make_user
from tests.conftest_billing import WEBHOOK_SECRET
from tests.e2e.conftest import Screenshot, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _terms_read_afresh():
    experiments.forget()
    yield
    experiments.forget()


def start_in_the_admin(page: Page, screenshot: Screenshot) -> Experiment:
    publisher = make_user(is_staff=True, is_superuser=True)
    page.goto("/admin/subscriptions/experiment/add/")
    log_in(page, publisher.email)
    page.wait_for_url("**/admin/subscriptions/experiment/add/")
    page.get_by_label("Name").fill("Three or five free articles")
    page.get_by_label("Status").select_option("running")
    page.get_by_label("Metric").select_option("trial")
    for n, (label, free) in enumerate((("A", "3"), ("B", "5"))):
        page.locator(f"#id_variants-{n}-label").select_option(label)
        page.locator(f"#id_variants-{n}-free_articles_per_day").fill(free)
    screenshot(page, "publisher starts the experiment")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    screenshot(page, "experiment running")
    return Experiment.objects.get(status=Experiment.Status.RUNNING)


def reader_in(new_page: Callable[[], Page], first: Article, experiment: Experiment) -> dict[str, Page]:
    """New readers, one browser each, until both arms have one (the server assigns them)."""
    running = experiments.state().running
    found: dict[str, Page] = {}
    for _ in range(16):
        page = new_page()
        page.goto(first.get_absolute_url())
        expect(page.locator("article.article")).to_contain_text(MARKER)
        cookie = next(c["value"] for c in page.context.cookies() if c["name"] == settings.METER_COOKIE_NAME)
        label = experiments.assign(f"a:{cookie}", running).label
        found.setdefault(label, page)
        if len(found) == 2:
            return found
    raise AssertionError("16 new readers, all in one arm: assignment is not balanced")


def test_a_publisher_tests_three_against_five_free_articles(
    new_page: Callable[[], Page], screenshot: Screenshot, stripe_env, live_server
) -> None:
    stripe_env.webhook_url = live_server.url + "/stripe/webhook/"
    stripe_env.webhook_secret = WEBHOOK_SECRET
    section = make_category("Politics")
    stories = [make_article(category=section) for _ in range(7)]
    publisher = new_page()
    experiment = start_in_the_admin(publisher, screenshot)

    readers = reader_in(new_page, stories[0], experiment)
    for label, limit in (("A", 3), ("B", 5)):
        page = readers[label]
        screenshot(page, f"arm {label} reader, first story")
        for n, story in enumerate(stories[1:limit], start=2):
            page.goto(story.get_absolute_url())
            expect(page.locator("article.article")).to_contain_text(MARKER)
            screenshot(page, f"arm {label} reader, free story {n}")
        page.goto(stories[limit].get_absolute_url())
        paywall = page.get_by_role("region", name=f"You've read your {limit} free articles for today.")
        expect(paywall).to_be_visible()
        assert MARKER not in page.content()
        screenshot(page, f"arm {label} paywall after {limit}")

    # The arm-B reader subscribes from the paywall: log in, pick the plan, pay at Checkout.
    page = readers["B"]
    subscriber = make_user()
    page.get_by_role("region", name="You've read your 5 free articles for today.").get_by_role(
        "link", name="Start your 14-day free trial"
    ).click()
    page.wait_for_url("**/subscribe/?plan=weekly")
    screenshot(page, "arm B subscribe page")
    page.get_by_role("link", name="Log in").last.click()
    page.wait_for_url("**/accounts/login/**")
    screenshot(page, "arm B login")
    log_in(page, subscriber.email)
    page.wait_for_url("**/subscribe/?plan=weekly")
    page.locator("#plan-weekly").get_by_role("button", name="Start free trial").click()
    page.wait_for_url(stripe_env.base + "/pay/**")
    page.get_by_role("button", name="Pay with 4242 4242 4242 4242").click()
    page.wait_for_url("**/subscribe/success/**")
    expect(page.get_by_text("Welcome aboard")).to_be_visible()
    screenshot(page, "arm B welcome")
    assert Subscription.objects.get(user=subscriber).status == "trialing"

    # The publisher reads the results: B's trial counts for B alone.
    publisher.goto(f"/admin/subscriptions/experiment/{experiment.pk}/results/")
    rows = publisher.locator("table.experiment-results tbody tr")
    expect(rows.nth(0)).to_contain_text("3 free a day")
    expect(rows.nth(1)).to_contain_text("5 free a day")
    cells = [[rows.nth(i).locator("td").nth(n).inner_text() for n in range(5)] for i in range(2)]
    readers_a, readers_b = int(cells[0][1]), int(cells[1][1])
    assert readers_a >= 1 and readers_b >= 1
    assert (cells[0][2], cells[1][2]) == ("1", "1")  # one paywall each
    assert (cells[0][3], cells[1][3]) == ("0", "1")  # the trial, in B
    expect(publisher.locator(".experiment-verdict")).to_have_text(
        "Not enough readers yet: keep the experiment running."
    )
    screenshot(publisher, "results")

    # The publisher ends it with B: five free articles a day become the site's setting.
    publisher.get_by_label("B: 5 free a day").check()
    publisher.get_by_role("button", name="End the experiment").click()
    expect(publisher.locator(".messagelist")).to_contain_text("Arm B’s terms are now the site’s.")
    screenshot(publisher, "ended with B")
    assert PaywallSettings.objects.get().free_articles_per_day == 5
    newcomer = new_page()
    for story in stories[:5]:
        newcomer.goto(story.get_absolute_url())
        expect(newcomer.locator("article.article")).to_contain_text(MARKER)
    newcomer.goto(stories[5].get_absolute_url())
    expect(newcomer.get_by_role("region", name="You've read your 5 free articles for today.")).to_be_visible()
    screenshot(newcomer, "after the experiment, five for everyone")
