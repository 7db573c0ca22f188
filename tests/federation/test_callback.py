"""Callback subscriptions: the gateway's URL rules, and a download run that keeps ours registered."""

from __future__ import annotations

from typing import Any

import pytest

from authority.federation import download
from authority.federation.models import FederationRun
from tests.federation.conftest import GatewayHandle

CALLBACK = "https://127.0.0.1:8443/v1/federation/callback"


def _put(gateway: GatewayHandle, url: str | None, callback_id: str = "de-1") -> int:
    params = {} if url is None else {"url": url}
    return gateway.request(
        "PUT", f"/diagnosiskeys/callback/{callback_id}", params=params
    ).status_code


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/callback",  # not https
        "https://127.0.0.1/callback?x=1",  # a query
        "https://no-such-host.invalid/callback",  # not resolvable
        "not a url",
        CALLBACK,  # a private address
    ],
)
def test_the_gateway_refuses_callback_urls_as_its_check_url_does(
    gateway: GatewayHandle, url: str
) -> None:
    # CallbackService.checkUrl: https, no parameters, a resolvable public host.
    assert _put(gateway, url) == 400


def test_subscriptions_are_per_country_and_updated_in_place(gateway: GatewayHandle) -> None:
    gateway.admin("/admin/callback-hosts", {"hosts": ["127.0.0.1"]})
    assert _put(gateway, None) == 400
    assert _put(gateway, CALLBACK) == 200
    assert _put(gateway, CALLBACK + "/v2") == 200
    mine = gateway.request("GET", "/diagnosiskeys/callback").json()
    assert mine == [{"callbackId": "de-1", "url": CALLBACK + "/v2"}]
    assert gateway.request("GET", "/diagnosiskeys/callback", client="fr-tls").json() == []
    assert (
        gateway.request("DELETE", "/diagnosiskeys/callback/de-1", client="fr-tls").status_code
        == 404
    )
    assert gateway.request("DELETE", "/diagnosiskeys/callback/de-1").status_code == 200


def test_a_download_run_registers_our_callback_and_again_after_the_gateway_dropped_it(
    db: None, federation: GatewayHandle, settings: Any
) -> None:
    federation.admin("/admin/callback-hosts", {"hosts": ["127.0.0.1"]})
    settings.FEDERATION_CALLBACK_URL = CALLBACK
    settings.FEDERATION_CALLBACK_ID = "it-authority"

    first = download.run_download()
    assert first is not None and first.status == FederationRun.Status.SUCCEEDED
    assert first.message == "callback subscription it-authority registered"
    listing = federation.request("GET", "/diagnosiskeys/callback", client="it-tls").json()
    assert listing == [{"callbackId": "it-authority", "url": CALLBACK}]

    second = download.run_download()
    assert second is not None and second.message == ""
    puts = [r for r in federation.state()["requests"] if r["method"] == "PUT"]
    assert len(puts) == 1

    federation.admin("/admin/drop-callbacks", {})
    third = download.run_download()
    assert third is not None and third.message == "callback subscription it-authority registered"


def test_a_refused_callback_does_not_stop_the_download(
    db: None, federation: GatewayHandle, settings: Any
) -> None:
    settings.FEDERATION_CALLBACK_URL = "http://127.0.0.1/callback"
    run = download.run_download()
    assert run is not None and run.status == FederationRun.Status.SUCCEEDED
    assert "refused the callback subscription (400)" in run.message


def test_a_subscription_of_ours_under_an_old_id_is_deleted(
    db: None, federation: GatewayHandle, settings: Any
) -> None:
    # FEDERATION_CALLBACK_ID changed: the old subscription, same URL, would announce every
    # batch twice (CallbackAdminController's DELETE ends it).
    federation.admin("/admin/callback-hosts", {"hosts": ["127.0.0.1"]})
    assert _put_as_italy(federation, "authority-old", CALLBACK) == 200
    assert _put_as_italy(federation, "elsewhere", CALLBACK + "/other") == 200
    settings.FEDERATION_CALLBACK_URL = CALLBACK
    settings.FEDERATION_CALLBACK_ID = "authority-new"

    run = download.run_download()

    assert run is not None and run.status == FederationRun.Status.SUCCEEDED
    assert run.message == (
        "old callback subscription authority-old deleted; "
        "callback subscription authority-new registered"
    )
    listing = federation.request("GET", "/diagnosiskeys/callback", client="it-tls").json()
    assert sorted(listing, key=lambda row: row["callbackId"]) == [
        {"callbackId": "authority-new", "url": CALLBACK},
        {"callbackId": "elsewhere", "url": CALLBACK + "/other"},  # not ours to judge
    ]


def _put_as_italy(gateway: GatewayHandle, callback_id: str, url: str) -> int:
    return gateway.request(
        "PUT", f"/diagnosiskeys/callback/{callback_id}", params={"url": url}, client="it-tls"
    ).status_code
