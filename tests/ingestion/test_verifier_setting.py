"""OPERATIONAL_INFO_VERIFIER after the move from authority.dashboard to authority.ingestion: the
development verifier's old path still works, any other old path stops the start with a
message that says where the verifiers went."""

from __future__ import annotations

from tests.settings.test_settings import PRODUCTION_ENV, run_manage

OLD_MODULE = "authority.dashboard.attestation"


def test_the_development_verifiers_old_path_still_works():
    env = {**PRODUCTION_ENV, "OPERATIONAL_INFO_VERIFIER": f"{OLD_MODULE}.DevelopmentVerifier"}
    result = run_manage("check", **env)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_another_old_path_stops_the_start_with_the_new_one():
    env = {**PRODUCTION_ENV, "OPERATIONAL_INFO_VERIFIER": f"{OLD_MODULE}.AttestationVerifier"}
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert "authority.ingestion.analytics.attestation" in result.stderr
