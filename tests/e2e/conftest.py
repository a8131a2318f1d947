"""Shared fixtures for the browser journeys in this package.

One Chromium per test module (Debian's, at /usr/bin/chromium: Playwright's own
download does not work here), a fresh browser context per reader so cookies
never leak between journeys, and every journey at two viewports. Each step is
saved as artifacts/e2e/<journey>-<viewport>-<nn>-<step>.png so a reviewer can
see what the reader saw; a failing test also leaves a "-failed" screenshot.
Each screenshot of a page of the site first runs axe-core on it (see `audit`),
and a journey fails if it loaded a page of the site it never screenshotted, so
every page a journey visits is checked at both widths.

The pages talk to pytest-django's `live_server`, which runs in this process:
the test and the server share settings, the locmem mailbox and the cache, and
the database is the transactional one (rows a test creates are committed, so
the server thread sees them).

Run just these:  DEBUG=1 .venv/bin/pytest -q tests/e2e   (or -m browser; -m "not browser" skips them)
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import Group, Permission
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"
Screenshot = Callable[[Page, str], Path]
VIEWPORTS = {
    "mobile": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 900}},
}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    # Lets the page fixture know, at teardown, whether the test body failed.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="module")
def browser(django_db_setup) -> Iterator[Browser]:
    """One Chromium per test module.

    Playwright's sync API keeps an asyncio loop registered on the main thread
    while it runs. Django then refuses ORM calls from this thread (the test
    database must therefore exist before the browser starts, hence
    django_db_setup), and a second sync_playwright() elsewhere in the suite
    would refuse to start. So the browser lives only as long as a module of
    journeys, and only during that time is Django's async-safety check off:
    nothing here is actually async.
    """
    with pytest.MonkeyPatch.context() as mp, sync_playwright() as p:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def journey(request: pytest.FixtureRequest) -> str:
    """The journey's name in file names: the module name without test_, dashed."""
    return request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_").replace("_", "-")


@pytest.fixture
def dialogs() -> list[str]:
    """Messages of every alert/confirm/prompt any page of the test opened (they are dismissed).

    No page of the site opens one, so a journey can assert this stays empty;
    a script smuggled into a page typically shows itself this way.
    """
    return []


CSP_VIOLATION = "Content Security Policy"


def watch_csp(page: Page, violations: list[str]) -> None:
    """Collect every Content-Security-Policy violation the page reports in its console.

    Chromium logs each blocked inline script, style attribute or foreign source as a
    console error ("Refused to ... because it violates the following Content Security
    Policy directive ..."), so a template that breaks the policy shows up here.
    """
    page.on(
        "console",
        lambda message: violations.append(f"{page.url}: {message.text}") if CSP_VIOLATION in message.text else None,
    )


AXE = Axe()  # axe-core as pinned by axe-playwright-python (requirements-dev.txt)
# A reader's own account pages and the editors' admin: only serious and critical
# problems fail there. Every other page is public: moderate ones fail too.
PRIVATE_PATHS = ("/admin/", "/account/")


def _violations(page: Page, impacts: set[str], where: str) -> list[str]:
    """axe-core's violations of these impacts on `page`, one line each."""
    return [
        f"{where}[{v['impact']}] {v['id']}: {v['help']} at "
        + "; ".join(" ".join(map(str, node["target"])) for node in v["nodes"][:4])
        for v in AXE.run(page).response["violations"]
        if v["impact"] in impacts
    ]


def audit(page: Page) -> list[str]:
    """axe-core's violations on this page that fail a journey, one line each."""
    path = urlsplit(page.url).path
    failing = {"critical", "serious"} if path.startswith(PRIVATE_PATHS) else {"critical", "serious", "moderate"}
    return _violations(page, failing, f"{path} ")


def audit_email(page: Page) -> list[str]:
    """axe-core's serious and critical violations in an email opened with `set_content`: what a
    mail client shows must be readable (contrast, image text, language, link names). Not the
    moderate ones a page of the site must pass too: they are mostly about a page's landmarks,
    and an email has none."""
    return _violations(page, {"critical", "serious"}, "")


@pytest.fixture
def audited() -> set[str]:
    """Paths of the site that a screenshot (and so axe) has covered in this test."""
    return set()


@pytest.fixture
def csp_violations() -> list[str]:
    """Every CSP violation any page of the test reported; the new_page fixture fails the test on any."""
    return []


@pytest.fixture
def new_page(
    browser: Browser,
    viewport: str,
    journey: str,
    live_server,
    dialogs: list[str],
    csp_violations: list[str],
    audited: set[str],
    request: pytest.FixtureRequest,
) -> Iterator[Callable[[], Page]]:
    """Open a page in a fresh context (a separate reader: own cookies) at this test's viewport.

    Every journey fails if any of its pages violated the Content-Security-Policy.
    """
    contexts: list[BrowserContext] = []
    loaded: list[str] = []  # paths of the site the journey's pages loaded

    def open_page() -> Page:
        context = browser.new_context(base_url=live_server.url, **VIEWPORTS[viewport])
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        watch_csp(page, csp_violations)
        page.on(
            "load",
            lambda loaded_page: (
                loaded.append(urlsplit(loaded_page.url).path) if loaded_page.url.startswith(live_server.url) else None
            ),
        )
        return page

    yield open_page

    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for n, context in enumerate(contexts):
        try:
            if failed:
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                for page in context.pages:
                    page.screenshot(path=ARTIFACTS / f"{journey}-{viewport}-failed-{n}.png", full_page=True)
        finally:
            context.close()
    assert not csp_violations, "Content-Security-Policy violations:\n" + "\n".join(csp_violations)
    if not failed and "screenshot" in request.fixturenames:  # a journey: every page it shows is checked
        unchecked = sorted(set(loaded) - audited)
        assert not unchecked, f"pages loaded but never screenshotted (so never checked with axe): {unchecked}"


@pytest.fixture
def page(new_page: Callable[[], Page]) -> Page:
    return new_page()


@pytest.fixture
def screenshot(journey: str, viewport: str, live_server, audited: set[str], csp_violations: list[str]) -> Screenshot:
    """`screenshot(page, "paywall")` -> artifacts/e2e/<journey>-<viewport>-<nn>-paywall.png,
    after checking a page of the site with axe-core (fails on what `audit` reports)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for stale in ARTIFACTS.glob(f"{journey}-{viewport}-*.png"):
        stale.unlink()
    steps = iter(range(1, 100))

    def take(page: Page, step: str) -> Path:
        slug = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
        path = ARTIFACTS / f"{journey}-{viewport}-{next(steps):02d}-{slug}.png"
        page.screenshot(path=path, full_page=True)
        if page.url.startswith(live_server.url):
            before = len(csp_violations)
            problems = audit(page)
            # axe-core, run from the test, sets style attributes while it measures (on the
            # admin's form, for one): the page's policy refuses those, and they are not the page's.
            csp_violations[before:] = [v for v in csp_violations[before:] if "Applying inline style" not in v]
            assert not problems, f"axe-core on {step!r} ({viewport}):\n" + "\n".join(problems)
            audited.add(urlsplit(page.url).path)
        return path

    return take


# Relative luminance (WCAG) of a computed CSS colour "rgb(r, g, b)" or "rgba(...)".
LUMINANCE = """(css) => {
  const [r, g, b] = css.match(/[\\d.]+/g).slice(0, 3).map(Number).map(c => c / 255)
    .map(c => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}"""
PAGE_COLOURS = f"""() => {{
  const luminance = {LUMINANCE};
  const body = getComputedStyle(document.body);
  return [luminance(body.backgroundColor), luminance(body.color)];
}}"""


def screenshot_in_both_schemes(screenshot: Screenshot, page: Page, step: str) -> None:
    """The page as a reader whose system is set to light sees it, then to dark (the site
    follows prefers-color-scheme): a screenshot, and so axe, in each. In dark the page must
    actually be dark, its paper darker than its ink. The page is left in light."""
    screenshot(page, step)
    page.emulate_media(color_scheme="dark")
    try:
        paper, ink = page.evaluate(PAGE_COLOURS)
        assert paper < 0.05 < ink, f"{step}: not dark (paper {paper:.3f}, ink {ink:.3f})"
        screenshot(page, f"{step} dark")
    finally:
        page.emulate_media(color_scheme="light")


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Fill whichever login form the page shows: allauth's (`login`) or the admin's (`username`).

    Fields are found by name and the form is submitted with Enter, so this does
    not depend on how the login template is laid out or what its button says.
    """
    password_field = page.locator("input[name=password]")
    password_field.wait_for()
    page.locator("input[name=login], input[name=username]").first.fill(email)
    password_field.fill(password)
    password_field.press("Enter")


@pytest.fixture
def editors_group(transactional_db) -> Group:
    """The "Editors" group, with "Writers" beside it, as migration articles/0007
    makes them. Transactional tests flush the database afterwards, so a journey
    that runs after one makes them again with the migration's own function."""
    roles = importlib.import_module("articles.migrations.0007_editors_desk")
    roles.set_roles(Group, Permission)
    return Group.objects.get(name="Editors")
