"""Logging filters.

Django logs every 4xx answer as a WARNING ("Unauthorized: /v1/ingestion/upload"). On the
phones' API those are expected outcomes, counted in the statistics: a code typed wrong, a
client throttled, a batch index not published yet. At a country's scale they would bury the
log lines that matter, and anyone sending bad requests could fill the disk with them. Server
errors (5xx) stay.
"""

from __future__ import annotations

import logging

DEVICE_API_PREFIXES = ("/v1/ingestion/", "/v1/analytics/", "/v1/keys/")


class DeviceApiClientErrors(logging.Filter):
    """Drops django.request's records of 4xx answers on the device API."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        request = getattr(record, "request", None)
        path = getattr(request, "path", "")
        return not (
            status is not None and 400 <= status < 500 and path.startswith(DEVICE_API_PREFIXES)
        )
