"""Browser fixtures: one Debian chromium per session, a fresh context per test, against live_server.

Playwright's sync API runs an event loop in the test thread, so Django's async-safety check must be
relaxed for tests (never in production).
"""

import os

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import re  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

from tests.conftest import PASSWORD, totp_code  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 768, "height": 1024}
RESULTS_DIR = Path(__file__).resolve().parents[2] / "test-results"
# Review screenshots of finished pages are opt-in: HAVEN_SCREENSHOTS=1 writes them to
# /tmp/haven-shots, HAVEN_SCREENSHOTS=<dir> to that directory. A normal run writes none.
_SHOTS_ENV = os.environ.get("HAVEN_SCREENSHOTS", "")
SHOTS_DIR = (
    None
    if _SHOTS_ENV in ("", "0")
    else Path("/tmp/haven-shots" if _SHOTS_ENV == "1" else _SHOTS_ENV)
)
_REPORTS = pytest.StashKey[dict]()

expect.set_options(timeout=5_000)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so fixtures can tell in teardown if the test failed."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


def _failed(item) -> bool:
    reports = item.stash.get(_REPORTS, {})
    return any(r.failed for r in reports.values())


def _screenshot_name(item) -> str:
    # pytest-playwright parametrizes tests using `browser`/`page` by browser_name; leave it out.
    callspec = getattr(item, "callspec", None)
    ids = [p for p in (callspec.id.split("-") if callspec else []) if p != "chromium"]
    name = item.originalname + (f"[{'-'.join(ids)}]" if ids else "")
    return re.sub(r"[^\w.\[\]-]+", "_", name)


def shoot(page: Page, name: str) -> None:
    """A full-page review screenshot from the top, only when HAVEN_SCREENSHOTS asks for one."""
    if SHOTS_DIR is None:
        return
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS_DIR / name), full_page=True)


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium, one for the whole session (never `playwright install`)."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_page(request, browser: Browser, live_server):
    """Open a page in a fresh browser context (own cookies) on the live server.

    On failure every page the test opened is saved to test-results/<test name>[-n].png.
    """
    opened: list = []

    def make(**context_args) -> Page:
        context_args.setdefault("viewport", VIEWPORT)
        context = browser.new_context(base_url=live_server.url, **context_args)
        context.set_default_timeout(10_000)
        page = context.new_page()
        opened.append((context, page))
        return page

    yield make

    failed = _failed(request.node)
    for n, (context, page) in enumerate(opened, start=1):
        if failed and not page.is_closed():
            RESULTS_DIR.mkdir(exist_ok=True)
            suffix = "" if n == 1 else f"-{n}"
            try:
                page.screenshot(
                    path=str(RESULTS_DIR / f"{_screenshot_name(request.node)}{suffix}.png"),
                    full_page=True,
                )
            except Exception as exc:  # a screenshot must never hide the real failure
                print(f"screenshot failed: {exc}")
        context.close()


@pytest.fixture
def page(new_page) -> Page:
    """A 768x1024 page (a tablet in portrait) on the live server."""
    return new_page()


def login(page: Page, user, password: str = PASSWORD) -> None:
    """Sign in through the login form, and the authenticator step if the user has TOTP."""
    from allauth.mfa.models import Authenticator

    page.goto("/accounts/login/")
    page.get_by_label("Login").fill(user.username)
    page.get_by_label("Password", exact=False).fill(password)
    page.get_by_role("button", name="Sign in").click()
    if Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
        page.get_by_label("Code").fill(totp_code(user))
        page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/(login|2fa/authenticate)/"))


@pytest.fixture
def signed_in(live_server):
    """Put a signed-in session for `user` into the page's context, skipping the login form.

    For tests whose subject is a page, not signing in. MFA-enrolled users pass the middleware as
    after a real second-factor login.
    """

    def sign_in(page: Page, user) -> Page:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": cookie.key, "value": cookie.value, "url": live_server.url}]
        )
        return page

    return sign_in
