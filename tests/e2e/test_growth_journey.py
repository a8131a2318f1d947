"""A publisher grows the readership (issue 28), in a browser, at a phone's and a desktop's width:

* staff create a 50%-off-for-3-months offer in the admin, and a new reader opens its page and
  reaches Checkout with the discount (the strict Stripe fake checks the promotion code and its
  coupon, and charges the first payment at half price);
* someone buys a gift subscription for a friend, who makes an account from the emailed link,
  redeems it and reads a subscribers-only story;
* staff write and turn on the welcome email for new accounts; a reader signs up from a story's
  paywall, is welcomed once, and the story is credited on the growth dashboard and on its own
  admin page.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from articles.models import Article
from growth.models import Conversion, GiftSubscription, Offer, OfferRedemption
from newsletter.models import Delivery
from subscriptions.models import Plan
from tests.conftest import MARKER, PASSWORD, make_article, make_user
from tests.conftest_billing import WEBHOOK_SECRET
from tests.e2e.conftest import ARTIFACTS, Screenshot, audit_email, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONFIRM_LINK = re.compile(r"https?://\S+/accounts/confirm-email/\S+/")
GIFT_LINK = re.compile(r"https?://\S+(/gift/redeem/\S+/)")


@pytest.fixture
def journey(request: pytest.FixtureRequest) -> str:
    """One set of screenshots per journey of this module (the shared fixture names them by module,
    and each test would remove the previous one's)."""
    return {
        "test_staff_make_a_half_price_offer_and_a_new_reader_reaches_checkout_with_it": "growth-offer",
        "test_a_gift_bought_for_a_friend_is_redeemed_and_opens_a_subscribers_only_story": "growth-gift",
        "test_a_sign_up_from_a_storys_paywall_is_credited_to_that_story": "growth-paywall-credit",
    }[request.node.originalname]


def _webhooks_to(stripe_env, live_server) -> None:
    stripe_env.webhook_url = live_server.url + "/stripe/webhook/"
    stripe_env.webhook_secret = WEBHOOK_SECRET


def _sign_up_and_confirm(page: Page, screenshot: Screenshot, email: str, step: str) -> None:
    """Fill allauth's sign-up form, then open the confirmation link the site emailed."""
    page.wait_for_url(lambda url: urlsplit(url).path == "/accounts/signup/")
    screenshot(page, f"{step}-signup")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    page.locator("input[name=password2]").press("Enter")
    page.wait_for_url(lambda url: urlsplit(url).path == "/accounts/confirm-email/")
    screenshot(page, f"{step}-check-your-email")
    link = [link for m in mail.outbox if m.to == [email] for link in CONFIRM_LINK.findall(m.body)][-1]
    page.goto(link)
    screenshot(page, f"{step}-confirm")
    page.get_by_role("button", name=re.compile(r"^\s*confirm", re.IGNORECASE)).click()


def test_staff_make_a_half_price_offer_and_a_new_reader_reaches_checkout_with_it(
    new_page, screenshot: Screenshot, stripe_env, live_server, viewport: str
) -> None:
    _webhooks_to(stripe_env, live_server)
    staff = make_user(f"publisher.{viewport}@example.com", is_staff=True, is_superuser=True)
    weekly = Plan.objects.get(code="weekly")

    desk = new_page()
    desk.goto("/admin/growth/offer/add/")
    screenshot(desk, "staff-log-in")
    log_in(desk, staff.email)
    desk.wait_for_url("**/admin/growth/offer/add/")
    desk.locator("#id_name").fill("Spring: half price")
    desk.locator("#id_code").fill("spring-half")
    desk.locator("#id_kind").select_option("percent")
    desk.locator("#id_percent_off").fill("50")
    desk.locator("#id_duration").select_option("repeating")
    desk.locator("#id_duration_in_months").fill("3")
    desk.locator("#id_plan").select_option(str(weekly.pk))
    screenshot(desk, "staff-fill-the-offer")
    desk.locator("input[name=_save]").click()
    desk.wait_for_url("**/admin/growth/offer/")
    expect(desk.get_by_text("$1.00 every 4 weeks for your first 3 months, then $2.00 every 4 weeks")).to_be_visible()
    screenshot(desk, "staff-offer-saved")
    offer = Offer.objects.get(code="spring-half")
    coupon = stripe_env.coupons[offer.stripe_coupon_id]
    assert (coupon["percent_off"], coupon["duration"], coupon["duration_in_months"]) == (50, "repeating", 3)

    reader = make_user(f"new.reader.{viewport}@example.com")
    page = new_page()
    page.goto("/offer/spring-half/")
    card = page.locator(f"#offer-plan-{weekly.code}")
    expect(card).to_contain_text("$1.00 every 4 weeks for your first 3 months, then $2.00 every 4 weeks")
    screenshot(page, "offer-page")
    page.get_by_role("link", name="Log in").last.click()
    screenshot(page, "reader-log-in")
    log_in(page, reader.email)
    page.wait_for_url("**/offer/spring-half/")
    screenshot(page, "offer-page-logged-in")
    page.get_by_role("button", name="Take the offer").click()
    page.wait_for_url(stripe_env.base + "/pay/**")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("$2.00 every 4 week(s)")
    expect(heading).to_contain_text("spring-half: 50% off for 3 months")
    screenshot(page, "checkout-with-the-discount")
    page.get_by_role("button", name="Pay with 4242 4242 4242 4242").click()
    page.wait_for_url("**/subscribe/success/**")
    screenshot(page, "subscribed")
    sub = next(s for s in stripe_env.subscriptions.values())
    assert stripe_env.invoices[sub["latest_invoice"]]["amount_paid"] == 100  # half of $2.00
    redemption = OfferRedemption.objects.get()
    assert redemption.offer == offer and redemption.user == reader


def test_a_gift_bought_for_a_friend_is_redeemed_and_opens_a_subscribers_only_story(
    new_page, screenshot: Screenshot, stripe_env, live_server, viewport: str
) -> None:
    _webhooks_to(stripe_env, live_server)
    story = make_article(access=Article.Access.SUBSCRIBERS, title="What the port authority kept quiet")
    friend_email = f"friend.{viewport}@example.com"

    buyer = new_page()
    buyer.goto("/gift/")
    expect(buyer.get_by_role("heading", level=1)).to_contain_text("Give")
    screenshot(buyer, "gift-form")
    buyer.get_by_label("12 months: $50.00").check()
    buyer.get_by_label("Their name").fill("Sam")
    buyer.get_by_label("Their email address").fill(friend_email)
    buyer.get_by_label("Your message (optional)").fill("Happy birthday, Sam! <b>Read everything.</b>")
    buyer.get_by_label("Your name (shown to them)").fill("Ada")
    buyer.get_by_label("Your email address (for the receipt)").fill(f"ada.{viewport}@example.com")
    screenshot(buyer, "gift-form-filled")
    buyer.get_by_role("button", name="Continue to payment").click()
    buyer.wait_for_url(stripe_env.base + "/pay/**")
    expect(buyer.get_by_role("heading", level=1)).to_contain_text("$50.00 once")
    screenshot(buyer, "gift-checkout")
    buyer.get_by_role("button", name="Pay with 4242 4242 4242 4242").click()
    buyer.wait_for_url("**/gift/thanks/**")
    expect(buyer.get_by_role("heading", level=1)).to_have_text("Thank you for your gift")
    screenshot(buyer, "gift-thanks")
    assert any("receipt" in m.subject.lower() for m in mail.outbox if m.to == [f"ada.{viewport}@example.com"])

    path = GIFT_LINK.search(next(m for m in mail.outbox if m.to == [friend_email]).body)[1]
    friend = new_page()
    friend.goto(path)
    expect(friend.get_by_role("heading", level=1)).to_contain_text("Ada gave you 12 months")
    expect(friend.get_by_text("Happy birthday, Sam! <b>Read everything.</b>")).to_be_visible()  # shown as text
    screenshot(friend, "redeem-page")
    friend.get_by_role("link", name="Create your account").click()
    _sign_up_and_confirm(friend, screenshot, friend_email, "friend")
    friend.wait_for_url(f"**{path}")
    screenshot(friend, "redeem-page-with-an-account")
    friend.get_by_role("button", name="Start my 12 months").click()
    friend.wait_for_url(lambda url: urlsplit(url).path == "/")
    expect(friend.get_by_role("status")).to_contain_text("Your 12 months have started")
    screenshot(friend, "gift-started")
    friend.goto(story.get_absolute_url())
    expect(friend.get_by_text(MARKER)).to_be_visible()
    screenshot(friend, "reads-a-subscribers-only-story")
    gift = GiftSubscription.objects.get()
    assert gift.status == "redeemed" and gift.redeemed_by.email == friend_email
    assert any("has been opened" in m.subject for m in mail.outbox if m.to == [f"ada.{viewport}@example.com"])


def test_a_sign_up_from_a_storys_paywall_is_credited_to_that_story(
    new_page, screenshot: Screenshot, stripe_env, live_server, viewport: str
) -> None:
    story = make_article(access=Article.Access.SUBSCRIBERS, title="The dredging contract, line by line")
    email = f"paywall.reader.{viewport}@example.com"

    # Staff write the welcome email for new accounts, see it as readers will, and turn it on.
    staff = make_user(f"editor.{viewport}@example.com", is_staff=True, is_superuser=True)
    desk = new_page()
    desk.goto("/admin/newsletter/welcomeemail/add/?audience=free")
    screenshot(desk, "staff-log-in")
    log_in(desk, staff.email)
    desk.wait_for_url("**/admin/newsletter/welcomeemail/add/**")
    desk.locator("#id_subject").fill("Welcome to The Ledger")
    desk.locator("#id_body").fill("Thank you for joining us.\n\nYour free account reads **a few stories a day**. "
                                  "<script>alert('no')</script>")
    screenshot(desk, "staff-write-the-welcome-email")
    desk.locator("input[name=_continue]").click()
    desk.wait_for_url(lambda url: urlsplit(url).path.endswith("/change/"))
    screenshot(desk, "welcome-email-saved-off")
    with desk.context.expect_page() as opened:
        desk.get_by_role("link", name="See the email as readers get it").click()
    preview = opened.value
    preview.wait_for_load_state()
    expect(preview.locator("strong")).to_have_text("a few stories a day")
    assert preview.locator("script").count() == 0
    # A plain picture: the preview's sandbox runs no script, so axe (the screenshot fixture's check)
    # cannot run in it; the same email is checked with axe once it is sent (below).
    preview.screenshot(path=ARTIFACTS / f"growth-paywall-credit-{viewport}-03b-welcome-email-preview.png",
                       full_page=True)
    preview.close()
    desk.get_by_label("Send it").check()
    desk.locator("input[name=_continue]").click()
    desk.wait_for_url(lambda url: urlsplit(url).path.endswith("/change/"))
    expect(desk.get_by_label("Send it")).to_be_checked()
    screenshot(desk, "welcome-email-on")

    page = new_page()
    page.goto(story.get_absolute_url())
    paywall = page.get_by_role("region", name="This story is for subscribers.")
    screenshot(page, "paywall")
    paywall.get_by_role("link", name="Start your 14-day free trial").click()
    page.wait_for_url("**/subscribe/?plan=weekly**")
    screenshot(page, "subscribe-page")
    page.locator("#plan-weekly").get_by_role("link", name="Start free trial").click()
    _sign_up_and_confirm(page, screenshot, email, "reader")
    page.wait_for_url("**/subscribe/?plan=weekly**")
    screenshot(page, "signed-up")
    assert Conversion.objects.get(kind="signup").article == story
    [welcome] = [m for m in mail.outbox if m.to == [email] and m.subject == "Welcome to The Ledger"]
    html = welcome.alternatives[0][0]
    assert "Thank you for joining us." in welcome.body and "<strong" in html and "<script" not in html
    letter = new_page()  # the email as the reader's mail client shows it, checked with axe
    letter.set_content(html, wait_until="load")
    assert not (problems := audit_email(letter)), "axe-core on the welcome email:\n" + "\n".join(problems)
    assert Delivery.objects.get(send__key="welcome:free").user.email == email  # in the delivery log

    desk.goto("/admin/growth/offer/dashboard/")
    row = desk.locator("#growth-stories tbody tr").first
    expect(row).to_contain_text("The dredging contract, line by line")
    expect(row.locator("td").first).to_have_text("1")
    assert email not in desk.content()  # counts, not people
    screenshot(desk, "dashboard-credits-the-story")
    desk.goto(f"/admin/articles/article/{story.pk}/change/")
    figures = desk.locator("#growth-figures")
    expect(figures).to_contain_text("Free sign-ups")
    expect(figures.locator("dd").first).to_have_text("1")
    figures.scroll_into_view_if_needed()
    screenshot(desk, "the-storys-own-figures")
