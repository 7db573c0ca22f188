"""Real Chromium driven by Playwright against the app served by a live server.

Debian's Chromium is used (never a downloaded browser). On failure each test leaves a
screenshot in test-artifacts/screenshots/. Locally the tests skip when Chromium is missing;
in CI (CI=true) a missing browser is an error.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Generator
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page
from pluggy import Result

from tests.conftest import IN_CI, PASSWORD

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# alongside it are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Result[pytest.TestReport], None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and isinstance(item, pytest.Function):
        page = item.funcargs.get("page")
        if isinstance(page, Page):
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", item.nodeid)
            try:
                page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
            except PlaywrightError as error:
                # A page that cannot be drawn any more must not hide the test's own failure
                # (an exception here aborts the whole session as an INTERNALERROR).
                report.sections.append(("screenshot", f"no screenshot: {error}"))


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        if IN_CI:
            pytest.fail(f"Chromium is required in CI ({CHROMIUM} not found)")
        pytest.skip("Chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(int(os.environ.get("BROWSER_TIMEOUT_MS", "15000")))
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.console_errors = errors
    yield page
    context.close()


def totp_now(secret: str) -> str:
    """What the operator's authenticator app would show: computed from the secret on the page."""
    from base64 import b32decode

    from django_otp.oath import totp

    return f"{totp(b32decode(secret.replace(' ', ''))):06d}"


def log_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Continue").click()


def enroll(page) -> list[str]:
    """Scan nothing: read the secret off the page, type the code, return the backup codes."""
    secret = page.get_by_test_id("totp-secret").inner_text()
    page.get_by_label("Code from the app").fill(totp_now(secret))
    page.get_by_role("button", name="Confirm and continue").click()
    return page.get_by_test_id("backup-codes").locator("code").all_inner_texts()


# axe-core is a test tool, not part of the site: it lives in tests/assets/ (outside the static
# files that collectstatic gathers and WhiteNoise serves) and reaches the page through
# Playwright's network layer at a same-origin URL that the server itself would answer with 404.
# Being same-origin, the script tag passes the page's own CSP (script-src 'self'), unweakened.
AXE_SCRIPT = Path(__file__).resolve().parents[1] / "assets" / "axe-core" / "axe.min.js"
AXE_URL_PATH = "/__test-assets__/axe-core/axe.min.js"


def run_axe(page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, object]]:
    """Run axe-core in the page; returns the violations of those impacts (all four: every one)."""
    if not getattr(page, "axe_routed", False):
        page.route(
            f"**{AXE_URL_PATH}",
            lambda route: route.fulfill(path=AXE_SCRIPT, content_type="text/javascript"),
        )
        page.axe_routed = True
    page.add_script_tag(url=AXE_URL_PATH)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "nodes": [node["html"][:120] for node in v["nodes"]]}
        for v in result["violations"]
        if v["impact"] in impacts
    ]


@pytest.fixture
def axe(page):
    return lambda: run_axe(page)


def chromium_version() -> str:
    return subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
