"""Expired sessions leave the database every night; live ones stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from authority.accounts.sessions import SessionStore, row_key
from tasks.maintenance import clear_expired_sessions

pytestmark = pytest.mark.django_db


def stored_session(*, expires_in: timedelta) -> str:
    session = SessionStore()
    session["anything"] = 1
    session.set_expiry(timezone.now() + expires_in)
    session.save()
    return row_key(session.session_key)


def test_the_nightly_job_deletes_expired_sessions_and_keeps_live_ones():
    expired = stored_session(expires_in=-timedelta(minutes=1))
    live = stored_session(expires_in=timedelta(minutes=30))
    assert set(Session.objects.values_list("session_key", flat=True)) == {expired, live}
    clear_expired_sessions.delay()
    assert set(Session.objects.values_list("session_key", flat=True)) == {live}
