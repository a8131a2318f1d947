"""The Content-Security-Policy holds in a real browser: the site and the Django
admin's busiest pages (lists with filters and actions, a change form with the
date and time pickers, the two-box author picker, the publisher dashboard)
work under it with no violation, and the watcher that every journey relies on
does report one when a page breaks the policy."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import make_article, make_user
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def viewport() -> str:
    # The policy does not depend on the viewport: one pass is enough.
    return "desktop"


def test_the_admin_works_under_the_policy_without_a_violation(page: Page, csp_violations: list[str]) -> None:
    admin = make_user(is_staff=True, is_superuser=True)
    article = make_article()

    response = page.goto("/")
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy

    page.goto("/admin/")
    page.wait_for_url(lambda url: "login" in urlsplit(url).path)
    log_in(page, admin.email)
    page.wait_for_url(lambda url: urlsplit(url).path == "/admin/")

    page.goto("/admin/articles/article/")
    expect(page.locator("#changelist")).to_be_visible()
    page.locator("#action-toggle").check()  # actions.js: select all, counter updates
    expect(page.locator(".action-counter")).to_contain_text("1 of 1 selected")

    page.goto(f"/admin/articles/article/{article.pk}/change/")
    page.locator(".datetimeshortcuts a", has_text="Today").first.click()  # DateTimeShortcuts.js
    page.locator(".datetimeshortcuts .date-icon").first.click()  # the calendar pop-up
    expect(page.locator(".calendarbox").first).to_be_visible()
    expect(page.locator(".field-authors .select2-container")).to_be_attached()  # autocomplete.js's type-ahead

    page.goto("/admin/subscriptions/plan/")
    page.goto("/admin/subscriptions/plan/dashboard/")
    page.goto("/admin/articles/comment/")
    page.goto(article.get_absolute_url())
    assert csp_violations == []


def test_the_watcher_reports_an_inline_script(new_page: Callable[[], Page], csp_violations: list[str]) -> None:
    page = new_page()
    page.goto("/")
    page.evaluate("() => { const s = document.createElement('script'); s.textContent = '1'; document.body.append(s); }")
    page.wait_for_timeout(200)
    assert any("script-src" in v for v in csp_violations)
    csp_violations.clear()  # seen: do not fail the fixture's check
