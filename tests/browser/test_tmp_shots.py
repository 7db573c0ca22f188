import pytest
from pathlib import Path
from authority.appconfig import serving
from tests.appconfig.conftest import initial_versions  # noqa
from tests.browser.test_dashboard import sign_in
pytestmark = pytest.mark.django_db(transaction=True)
OUT = Path("/tmp/shots")

def test_tmp(page, live_server, initial_versions, administrator):
    import os
    serving.cache.forget()
    OUT.mkdir(exist_ok=True)
    sign_in(page, live_server, administrator)
    path = os.environ.get("SHOT_PATH", "/app-settings/android/draft/")
    width = int(os.environ.get("SHOT_WIDTH", "1280"))
    page.set_viewport_size({"width": width, "height": 1000})
    page.goto(path)
    if os.environ.get("SHOT_ACTION") == "bad":
        page.fill("#id_teks_packet_size", "200000")
        page.get_by_role("button", name="Save draft").click()
    height = page.evaluate("document.body.scrollHeight")
    for i, y in enumerate(range(0, height, 1000)):
        page.screenshot(path=str(OUT / f"shot-{i:02d}.png"), clip={"x": 0, "y": y, "width": width, "height": min(1000, height - y)}, full_page=True)
