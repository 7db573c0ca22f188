"""`dev.py run` after the development server was stopped: the pause is recorded in the trail
(acknowledge_development_pause) and the audit page shows no tampering alarm; production
refuses the command."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from authority.audit.models import Action, AuditEntry
from tests.audit.test_checkpoint_series import checkpoint_at

pytestmark = pytest.mark.django_db


def test_a_stopped_development_server_is_a_recorded_pause_not_an_alarm(make_entries, verify):
    start = timezone.now()
    make_entries(2)
    checkpoint_at(0, start)
    overnight = start + timedelta(hours=10)
    with time_machine.travel(overnight, tick=False):
        assert not verify().intact  # what the audit page would show at the next start

        call_command("acknowledge_development_pause", stdout=None)

    with time_machine.travel(overnight + timedelta(minutes=5), tick=False):
        result = verify()
    assert result.intact, result.output
    pause = AuditEntry.objects.get(action=Action.AUDIT_GAP_ACKNOWLEDGED)
    assert pause.actor_username == "dev.py run"


def test_a_first_run_and_a_server_on_time_record_nothing(make_entries):
    start = timezone.now()
    make_entries(2)
    call_command("acknowledge_development_pause", stdout=None)  # no checkpoint yet
    checkpoint_at(0, start)
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        call_command("acknowledge_development_pause", stdout=None)
    assert not AuditEntry.objects.filter(action=Action.AUDIT_GAP_ACKNOWLEDGED).exists()


def test_production_refuses_it(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="Development only"):
        call_command("acknowledge_development_pause")
