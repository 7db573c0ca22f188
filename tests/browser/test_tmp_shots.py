import os
from pathlib import Path

import pytest

from authority.appconfig import services, serving
from tests.appconfig.conftest import initial_versions  # noqa
from tests.browser.test_dashboard import sign_in

pytestmark = pytest.mark.django_db(transaction=True)
OUT = Path("/tmp/shots")

def test_tmp(page, live_server, initial_versions, administrator):
    serving.cache.forget()
    OUT.mkdir(exist_ok=True)
    content, rev = services.draft_content("android")
    doc = dict(content.document); doc["teks_packet_size"] = 100000; doc["exposure_info_minimum_risk_score"] = 30
    services.save_draft(platform="android", actor=administrator, content=services.Content(doc, [{"from_build": 100, "to_build": None, "values": {"teks_max_info_count": 500}}]), revision=0)
    sign_in(page, live_server, administrator)
    if os.environ.get("SHOT_LANG"):
        page.context.add_cookies([{"name": "django_language", "value": os.environ["SHOT_LANG"], "url": live_server.url}])
    path = os.environ.get("SHOT_PATH", "/app-settings/android/draft/review/")
    width = int(os.environ.get("SHOT_WIDTH", "1280"))
    page.set_viewport_size({"width": width, "height": 1000})
    page.goto(path)
    if page.locator("#risk-chart").count():
        page.wait_for_function("() => document.querySelector('#risk-chart').dataset.drawn")
    height = page.evaluate("document.body.scrollHeight")
    for i, y in enumerate(range(0, height, 1000)):
        page.screenshot(path=str(OUT / f"shot-{i:02d}.png"), clip={"x": 0, "y": y, "width": width, "height": min(1000, height - y)}, full_page=True)
