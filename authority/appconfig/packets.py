"""The largest request the apps pad to `teks_packet_size`: the packet size may not be smaller.

Both apps pad every request to the ingestion endpoints (check-otp, upload, and their dummies)
so that its path (iOS: its whole URL), method, headers and JSON body add up to
`teks_packet_size` bytes (immuni-app-android `ExposureIngestionNetworkConfiguration.kt`,
immuni-app-ios `FixedSizeJSONRequest.swift`). A request already larger cannot be padded: the
Android app's interceptor throws (`"0".repeat` of a negative count), the iOS app gives up with
`paddingOverflow`. The largest request is a positive user's upload, so a packet size below it
loses exactly the uploads the system exists for.

The largest upload carries as many exposure summaries and details as the settings allow
(`teks_max_summary_count`, `teks_max_info_count`: both apps cut their lists there), each figure
as long as the app can write it:

- keys: iOS sends at most 14 (`DataUploadRequest.cap`); Android what the framework releases,
  14 days and the current day's key: 15. `key_data` is 24 base64 characters, which iOS'
  JSONSerialization may write with each "/" escaped (22 of them at worst);
- an exposure detail: the date, durations in seconds up to 1,800 (the frameworks report 30
  minutes at most per exposure; iOS clamps to it), attenuation up to 255, transmission risk
  level up to 8, score up to 4,096;
- a summary: up to 999,999 matched keys, up to 99 days since the exposure (14 in practice), the
  attenuation durations (iOS clamps them to 1,800 s; Android sends the framework's sums
  unclamped: up to 99,999 s counted here), the maximum score up to 4,096;
- every country an upload may name (the caller's count);
- the request line and headers: REQUEST_OVERHEAD bytes (about 300 with a 30-character host
  name; the rest is room for a longer one).

With Immuni's caps (84 summaries, 600 details) this comes to about 109,000 bytes on both
platforms: Immuni's 110,000 was chosen to just fit it.

Plain code, no Django: the catalogue, the validation and the tests use it.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

REQUEST_OVERHEAD = 600
KEYS = {"android": 15, "ios": 14}
# key_data as long as each app writes it: 24 characters; on iOS with 22 of them "\/".
_KEY_DATA = {"android": "A" * 24, "ios": "A" * (24 + 22)}
_DATE = "2020-10-10"
_DURATION = 1800
_SUMMARY_DURATION = {"android": 99_999, "ios": 1800}
_SCORE = 4096


def _compact(body: dict[str, Any]) -> int:
    """Bytes of `body` written as the apps' encoders write JSON: no spaces, ASCII here."""
    return len(json.dumps(body, separators=(",", ":")).encode())


@cache
def largest_request(platform: str, *, summaries: int, exposure_infos: int, countries: int) -> int:
    """Bytes of the largest request `platform`'s app pads, headers and path included."""
    info = {
        "date": _DATE,
        "duration": _DURATION,
        "attenuation_value": 255,
        "attenuation_durations": [_DURATION] * 3,
        "transmission_risk_level": 8,
        "total_risk_score": _SCORE,
    }
    summary = {
        "date": _DATE,
        "matched_key_count": 999_999,
        "days_since_last_exposure": 99,
        "attenuation_durations": [_SUMMARY_DURATION[platform]] * 3,
        "maximum_risk_score": _SCORE,
        "exposure_info": [],
    }
    listed = [dict(summary) for _ in range(summaries)]
    if listed:
        # Details travel inside summaries: all in one list is the longest (one comma each).
        listed[0]["exposure_info"] = [info] * exposure_infos
    body = {
        "teks": [
            {
                "key_data": _KEY_DATA[platform],
                "rolling_start_number": 9_999_999,
                "rolling_period": 144,
            }
        ]
        * KEYS[platform],
        "province": "RM",
        "exposure_detection_summaries": listed,
        "countries_of_interest": ["AT"] * countries,
        "padding": "",
    }
    return _compact(body) + REQUEST_OVERHEAD
