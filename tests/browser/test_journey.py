"""The whole journey in a real browser: an operator issues a code and reads it off the page, a
phone uploads its keys with it, an administrator publishes them and downloads a batch that an
independent reader verifies with the published public key. Also: the issue flow by keyboard."""

from __future__ import annotations

import base64
import json
import re
import urllib.request
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from authority.formats.otp import otp_sha256_hex
from authority.keys.services.signing_keys import rotate_signing_key
from authority.statistics.services import local_day
from tests.browser.conftest import enroll, log_in, run_axe
from tests.ingestion.conftest import Tek, make_teks, upload_body
from tests.keys.gaen_reader import read_batch, signature_verifies

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page, user) -> None:
    log_in(page, user.username)
    enroll(page)
    page.get_by_role("link", name="I have saved them, continue").click()


def phone_uploads(base_url: str, code: str, teks: list[Tek]) -> int:
    request = urllib.request.Request(
        f"{base_url}/v1/ingestion/upload",
        data=json.dumps(upload_body(teks)).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {otp_sha256_hex(code)}",
            "Immuni-Dummy-Data": "0",
            "Immuni-Client-Clock": "1700000000",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_a_code_read_off_the_page_unlocks_an_upload_that_gets_published_and_verifies(
    browser, live_server, operator, administrator, settings
):
    settings.KEYS_EMBARGO_MINUTES = 0
    settings.KEYS_MIN_PER_FILE = 20  # small padding, still padded
    rotate_signing_key(actor=None)

    operator_page = browser.new_context(base_url=live_server.url).new_page()
    sign_in(operator_page, operator)
    operator_page.get_by_role("link", name="Issue a code").first.click()
    operator_page.get_by_label("Date").fill((local_day() - timedelta(days=2)).isoformat())
    operator_page.get_by_role("button", name="Issue the code").click()
    code = operator_page.get_by_test_id("otp-code").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z1-9]{10}", code)

    # The keys of past days: their validity has ended, so they are due for publication.
    teks = make_teks(5)[1:]
    assert phone_uploads(live_server.url, code, teks) == 204

    admin_page = browser.new_context(base_url=live_server.url, accept_downloads=True).new_page()
    sign_in(admin_page, administrator)
    assert run_axe(admin_page) == []  # the administrator's home page
    admin_page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Publishing"
    ).click()
    admin_page.get_by_role("button", name="Publish now").click()
    expect(admin_page.locator("[data-field=status_label]").first).to_have_text(
        "Succeeded", timeout=30_000
    )
    assert run_axe(admin_page) == []  # the publication page, with progress and history
    row = admin_page.get_by_role("row").filter(has=admin_page.get_by_role("link", name="Download"))
    expect(row).to_have_count(1)
    with admin_page.expect_download() as download_info:
        row.get_by_role("link", name="Download").click()
    zip_bytes = download_info.value.path().read_bytes()

    public_pem = (
        urllib.request.urlopen(f"{live_server.url}/v1/keys/public-key.pem", timeout=10)
        .read()
        .decode()
    )
    export_bin, export, signatures = read_batch(zip_bytes)
    assert signature_verifies(export_bin, signatures.signatures[0].signature, public_pem)
    published = {key.key_data for key in export.keys}
    assert {base64.b64decode(t["key_data"]) for t in teks} <= published
    assert len(export.keys) == 20  # padded up to the minimum
    assert [k.key_data for k in export.keys] == sorted(k.key_data for k in export.keys)


def test_the_issue_flow_works_with_the_keyboard_alone(page, operator):
    sign_in(page, operator)
    page.goto("/codes/issue/")
    page.keyboard.press("Tab")  # the skip link comes first
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    date_field = page.get_by_label("Date")
    for _ in range(30):
        page.keyboard.press("Tab")
        if date_field.evaluate("element => element === document.activeElement"):
            break
    expect(date_field).to_be_focused()
    page.keyboard.type(local_day().strftime("%m%d%Y"))
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("otp-code")).to_have_text(re.compile(r"^[A-Z1-9 ]{10,12}$"))
