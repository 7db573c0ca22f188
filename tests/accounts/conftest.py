"""Fixtures of the accounts tests: a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.smtp_server import Mailbox, serving


@pytest.fixture
def smtp(settings: Any) -> Iterator[Mailbox]:
    with serving(settings) as mailbox:
        yield mailbox
