"""Whether a device request may look a code up, and what the outcome costs its network.

A request names a code; looking it up is a guess. Before the lookup its network is charged
one failed lookup (atomically, so concurrent guesses cannot slip past the budget); when the
code turns out valid the network gets back every lookup this code cost it today, so a patient
who asked too early, or a clean network, pays nothing. Dummy requests are answered from the
same state without changing it (DESIGN.md 3.7).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from rest_framework.request import Request

from authority.ingestion.guessing.ledger import Budget, ledger
from authority.ingestion.guessing.networks import code_token, network_token


@dataclass(frozen=True)
class Guess:
    network: str
    code: str
    dummy: bool
    # Seconds the network must wait before its next lookup; None when this one may go ahead.
    wait: float | None

    def settle(self, *, valid: bool) -> None:
        """What the lookup found: a valid code is given back, a failure counts nationally."""
        if self.dummy or self.wait is not None:
            return
        now = timezone.now().timestamp()
        if valid:
            ledger().refund(
                network=self.network, code=self.code, now=now, budget=Budget.from_settings()
            )
        else:
            ledger().record_failure(now=now, budget=Budget.from_settings())


def admit_guess(*, request: Request, otp_sha256_hex: str, dummy: bool) -> Guess:
    """May this request look its code up now? A dummy gets the answer a real request from its
    network would get, and changes nothing."""
    now = timezone.now().timestamp()
    network = network_token(request, now=now)
    code = code_token(otp_sha256_hex, now=now)
    wait = ledger().admit(
        network=network, code=code, now=now, dry=dummy, budget=Budget.from_settings()
    )
    return Guess(network=network, code=code, dummy=dummy, wait=wait if wait > 0 else None)
