"""API keys of health information systems: created by supervisors, shown once, revocable."""

from __future__ import annotations

import pytest

from authority.audit.models import Action, AuditEntry
from authority.otps.models import ApiKey
from authority.otps.services import api_key_hash

pytestmark = pytest.mark.django_db


def create(client, **data):
    return client.post("/codes/api-keys/", {"name": "HIS", **data})


def test_a_supervisor_creates_a_key_shown_once(supervisor, signed_in, lazio):
    client = signed_in(supervisor)
    response = create(client)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = response.context["created"].key
    assert key in response.content.decode()
    api_key = ApiKey.objects.get()
    assert api_key.region == lazio
    assert api_key.key_hash == api_key_hash(key)
    assert api_key.prefix == key[:8]
    listing = client.get("/codes/api-keys/").content.decode()
    assert key not in listing
    assert f"{key[:8]}…" in listing
    assert AuditEntry.objects.filter(action=Action.API_KEY_CREATED, actor=supervisor).exists()


def test_a_supervisor_creates_keys_for_their_own_region_only(
    supervisor, signed_in, lazio, lombardia
):
    create(signed_in(supervisor), region=lombardia.pk)
    assert ApiKey.objects.get().region == lazio


def test_an_administrator_chooses_the_region(administrator, signed_in, lombardia):
    create(signed_in(administrator), region=lombardia.pk)
    assert ApiKey.objects.get().region == lombardia


def test_an_administrator_must_choose_a_region(administrator, signed_in):
    response = create(signed_in(administrator))
    assert response.status_code == 200
    assert not ApiKey.objects.exists()


def test_supervisors_see_only_their_regions_keys(supervisor, foreign_supervisor, signed_in):
    create(signed_in(foreign_supervisor), name="Lombardy lab")
    create(signed_in(supervisor), name="Lazio lab")
    page = signed_in(supervisor).get("/codes/api-keys/").content.decode()
    assert "Lazio lab" in page
    assert "Lombardy lab" not in page


def test_revoking_a_key_is_audited_and_shown(supervisor, signed_in, created_api_key):
    client = signed_in(supervisor)
    response = client.post(f"/codes/api-keys/{created_api_key.api_key.pk}/revoke/")
    assert response.status_code == 302
    assert ApiKey.objects.get().revoked_by == supervisor
    assert "no longer works" in client.get(response["Location"]).content.decode()
    assert AuditEntry.objects.filter(action=Action.API_KEY_REVOKED).count() == 1
    client.post(f"/codes/api-keys/{created_api_key.api_key.pk}/revoke/")
    assert AuditEntry.objects.filter(action=Action.API_KEY_REVOKED).count() == 1
