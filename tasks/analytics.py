"""The apps' operational info checked off the request path: Android attestations, and the iOS apps'
analytics tokens after Apple's DeviceCheck (authority.ingestion.analytics).

Each task's argument is a ticket (authority.ingestion.analytics.handoff), never a token or an
attestation: what a device sent waits in the cache, encrypted, not in the broker.
"""

from __future__ import annotations

from authority.ingestion.analytics import services
from tasks.celery import app


# Apple may be slow, and a verifier following Immuni's protocol waits between its calls; the
# app asks again later (202 until then), so a lost task costs one month's report at most.
@app.task(time_limit=120, soft_time_limit=90, ignore_result=True)
def authorize_analytics_token(ticket: str) -> bool:
    return services.authorize_handed_over_apple_token(ticket=ticket)


# Google's verification (or a local check of the attestation) with the verifier's timeout; a
# lost task loses one report, which the app does not send again this month.
@app.task(time_limit=60, soft_time_limit=45, ignore_result=True)
def verify_android_report(ticket: str) -> bool:
    return services.verify_android_report(ticket=ticket)
