"""The iOS apps' analytics tokens, authorized after Apple's DeviceCheck (authority.ingestion.analytics)."""

from __future__ import annotations

from authority.ingestion.analytics import services
from tasks.celery import app


# Apple may be slow, and a verifier following Immuni's protocol waits between its calls; the
# app asks again later (202 until then), so a lost task costs one month's report at most.
@app.task(time_limit=120, soft_time_limit=90, ignore_result=True)
def authorize_analytics_token(analytics_token: str, device_token: str) -> bool:
    return services.authorize_apple_token(
        analytics_token=analytics_token, device_token=device_token
    )
