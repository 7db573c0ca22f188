"""Names of the counters the apps' operational info feeds (per region of the province, per day;
`EX`, a user living abroad, in the national row only)."""

from __future__ import annotations

APP_REPORTS = "app_reports"  # active apps reporting, bucket = platform
EXPOSURE_NOTIFICATIONS = "exposure_notifications"  # apps that had notified an exposure
EXPOSURE_PERMISSION_ON = "exposure_permission_on"
BLUETOOTH_ON = "bluetooth_on"
NOTIFICATION_PERMISSION_ON = "notification_permission_on"
# National, bucket = why: the attestation was refused (or an iOS token never authorized), or
# the device already reported this month.
APP_REPORTS_REFUSED = "app_reports_refused"
REFUSED_ATTESTATION = "attestation"
REFUSED_REPEAT = "repeat"

ANDROID = "android"
IOS = "ios"

# Endpoint buckets of the device API's request counters (authority.ingestion.metrics).
OPERATIONAL_INFO_GOOGLE = "analytics-google"
OPERATIONAL_INFO_APPLE = "analytics-apple"

OPERATIONAL_INFO_METRICS = (
    APP_REPORTS,
    EXPOSURE_NOTIFICATIONS,
    EXPOSURE_PERMISSION_ON,
    BLUETOOTH_ON,
    NOTIFICATION_PERMISSION_ON,
)
