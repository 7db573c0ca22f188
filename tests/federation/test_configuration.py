"""Federation settings: off until configured, and a production start refused on certificates the gateway would refuse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from authority.federation import configuration
from tests.federation.conftest import Pki
from tests.federation.pki import issue


@pytest.fixture
def configured(settings: Any, pki: Pki) -> Any:
    settings.FEDERATION_GATEWAY_URL = "https://efgs.example.test"
    settings.FEDERATION_COUNTRY = "IT"
    settings.FEDERATION_TLS_CERT_FILE, settings.FEDERATION_TLS_KEY_FILE = pki.pair("it-tls")
    settings.FEDERATION_SIGNING_CERT_FILE, settings.FEDERATION_SIGNING_KEY_FILE = pki.pair(
        "it-signing"
    )
    settings.FEDERATION_TRUST_ANCHOR_FILE = pki.cert("trust-anchor")
    settings.FEDERATION_SERVER_CA_FILE = ""
    return settings


def test_federation_is_off_until_a_gateway_is_named(settings: Any) -> None:
    settings.FEDERATION_GATEWAY_URL = ""
    assert not configuration.enabled()
    with pytest.raises(configuration.FederationOff):
        configuration.load()


def test_a_complete_configuration_loads(configured: Any, pki: Pki) -> None:
    federation = configuration.check_at_start_up()
    assert federation.signing_certificate == pki["it-signing"].certificate
    assert federation.server_ca is True
    purposes = [info.purpose for info in configuration.certificates(federation)]
    assert purposes == ["tls", "signing", "trust_anchor"]


@pytest.mark.parametrize(
    ("setting", "value_of", "message"),
    [
        ("FEDERATION_SIGNING_KEY_FILE", lambda pki: pki.key("de-signing"), "is not the key of"),
        (
            "FEDERATION_TLS_KEY_FILE",
            lambda pki: pki.key("it-unregistered-tls"),
            "is not the key of",
        ),
        ("FEDERATION_TLS_CERT_FILE", lambda pki: "/nonexistent/tls.pem", "cannot be read"),
        ("FEDERATION_TRUST_ANCHOR_FILE", lambda pki: pki.key("tls-ca"), "is not a PEM certificate"),
        ("FEDERATION_GATEWAY_URL", lambda pki: "http://efgs.example.test", "https://"),
    ],
)
def test_a_start_with_unusable_files_is_refused(
    configured: Any, pki: Pki, setting: str, value_of, message: str
) -> None:
    setattr(configured, setting, value_of(pki))
    with pytest.raises(ImproperlyConfigured, match=message):
        configuration.check_at_start_up()


def test_certificates_of_another_country_are_refused(configured: Any, pki: Pki) -> None:
    configured.FEDERATION_SIGNING_CERT_FILE, configured.FEDERATION_SIGNING_KEY_FILE = pki.pair(
        "de-signing"
    )
    with pytest.raises(ImproperlyConfigured, match="not a certificate of IT"):
        configuration.check_at_start_up()


def test_an_expired_certificate_is_refused_and_one_near_its_end_flagged(
    configured: Any, pki: Pki
) -> None:
    with pytest.raises(ImproperlyConfigured, match="expired"):
        configuration.check_at_start_up(now=datetime.now(UTC) + timedelta(days=400))
    federation = configuration.load()
    soon = issue(None, common_name="Immuni signing", country="IT", usage="sign",
                 not_after=datetime.now(UTC) + timedelta(days=10))  # fmt: skip
    cert_path, key_path = soon.write(Path(pki.folder), "soon-signing")
    configured.FEDERATION_SIGNING_CERT_FILE, configured.FEDERATION_SIGNING_KEY_FILE = (
        str(cert_path),
        str(key_path),
    )
    federation = configuration.load()
    flags = {info.purpose: info.expires_soon for info in configuration.certificates(federation)}
    assert flags == {"tls": False, "signing": True, "trust_anchor": False}


def test_production_processes_check_at_start_up(configured: Any, pki: Pki) -> None:
    from django.apps import apps

    configured.PRODUCTION = True
    configured.FEDERATION_SIGNING_KEY_FILE = pki.key("de-signing")
    with pytest.raises(ImproperlyConfigured):
        apps.get_app_config("federation").ready()
    configured.FEDERATION_SIGNING_KEY_FILE = pki.key("it-signing")
    apps.get_app_config("federation").ready()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://callback.example.test/v1/federation/callback", "only https://"),
        ("https://callback.example.test/v1/federation/callback?key=1", "query string"),
    ],
)
def test_a_callback_url_the_gateway_would_refuse_is_refused_at_start_up(
    configured: Any, url: str, reason: str
) -> None:
    # CallbackService.checkUrl: https, no query (the gateway adds batchTag and date).
    configured.FEDERATION_CALLBACK_URL = url
    configured.FEDERATION_CALLBACK_VERIFY_HEADER = "X-SSL-Client-Verify"
    with pytest.raises(ImproperlyConfigured, match=reason):
        configuration.check_at_start_up()
