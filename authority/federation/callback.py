"""The gateway's notifications of new batches: keep our subscription registered (the gateway drops failing ones)."""

from __future__ import annotations

from django.conf import settings

from authority.federation.client import GatewayClient, GatewayUnreachable


def ensure_subscription(*, client: GatewayClient) -> str:
    """Register FEDERATION_CALLBACK_URL when the gateway does not have it; a sentence for the run's record.

    Empty when there is nothing to say (no callback configured, or already registered).
    Never raises for the gateway's answers: a download does not depend on callbacks.
    """
    url = settings.FEDERATION_CALLBACK_URL
    if not url:
        return ""
    callback_id = settings.FEDERATION_CALLBACK_ID
    try:
        listing = client.callbacks()
        if listing.status == 200:
            try:
                rows = listing.json()
            except ValueError:
                rows = []
            if any(
                isinstance(row, dict)
                and row.get("callbackId") == callback_id
                and row.get("url") == url
                for row in rows
            ):
                return ""
        answer = client.register_callback(callback_id=callback_id, url=url)
    except GatewayUnreachable as error:
        return f"callback subscription not checked: {error}"
    if answer.status == 200:
        return f"callback subscription {callback_id} registered"
    return (
        f"the gateway refused the callback subscription ({answer.status}): {answer.message or url}"
    )
