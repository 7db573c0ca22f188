"""GET /v1/settings?platform=android|ios&build=N: the settings the apps download at start and
periodically (DESIGN.md 7; docs/compatibility.md, "GET /v1/settings").

Validated as Immuni's configuration service did: both parameters, nothing else, once each;
`platform` exactly `android` or `ios`; `build` a number as Python's int() read it there, from 1
to the platform's highest build (iOS 20,000, Immuni's MAX_ALLOWED_BUILD; Android
2,100,000,000, because the Android app sends its versionCode, in the millions: a deliberate
difference, docs/compatibility.md). Anything else is 400 with error 1001. The answer is public
and cacheable (an hour, as Immuni's) and comes from the process's ready-made copy
(authority.appconfig.serving): no database query per request.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request

from authority.api.errors import NotFound, SchemaError
from authority.api.schema import error_response
from authority.appconfig.catalogue import MAX_BUILD, PLATFORMS
from authority.appconfig.serving import cache
from authority.keys.api import DownloadView

PARAMETERS = frozenset({"platform", "build"})
# What Python's int() reads, as Immuni's marshmallow Integer field did: surrounding spaces, a
# sign, "_" between digits, any script's decimal digits. Floats, booleans and words are refused.
_INTEGER = re.compile(r"^\s*[+-]?\d+(?:_\d+)*\s*$")


def parse_build(text: str, highest: int) -> int:
    """The build number in `text`, from 1 to `highest` (the platform's)."""
    refused = SchemaError(_("build: a whole number from 1 to %(max)s.") % {"max": highest})
    if not _INTEGER.match(text):
        raise refused
    stripped = text.strip()
    digits = "".join(
        str(unicodedata.decimal(char)) for char in stripped.lstrip("+-") if char != "_"
    )
    significant = digits.lstrip("0")
    # Length first: a 26-digit number is simply too large (and int() caps at 4,300 digits).
    if (
        stripped.startswith("-")
        or not significant
        or len(significant) > len(str(highest))
        or not 1 <= int(significant) <= highest
    ):
        raise refused
    return int(significant)


def parse_query(query: Any) -> tuple[str, int]:
    """(platform, build) from the query string, or a schema error naming what is wrong."""
    names = set(query.keys())
    if names != PARAMETERS:
        missing = sorted(PARAMETERS - names)
        unknown = sorted(names - PARAMETERS)
        if missing:
            raise SchemaError(
                _("Missing query parameter: %(names)s.") % {"names": ", ".join(missing)}
            )
        raise SchemaError(_("Unknown query parameter: %(names)s.") % {"names": ", ".join(unknown)})
    for name in PARAMETERS:
        if len(query.getlist(name)) != 1:
            raise SchemaError(_("%(name)s: give it once.") % {"name": name})
    platform = query["platform"]
    if platform not in PLATFORMS:
        raise SchemaError(_("platform: android or ios."))
    return platform, parse_build(query["build"], MAX_BUILD[platform])


class SettingsView(DownloadView):
    """GET /v1/settings?platform=android|ios&build=N -> the settings document in force."""

    @extend_schema(
        tags=["Settings (phones)"],
        summary="The apps' settings for a platform and build",
        parameters=[
            OpenApiParameter(
                "platform", str, OpenApiParameter.QUERY, required=True, enum=list(PLATFORMS)
            ),
            OpenApiParameter(
                "build",
                int,
                OpenApiParameter.QUERY,
                required=True,
                description=(
                    f"The app's build number: on iOS its CFBundleVersion, 1 to "
                    f"{MAX_BUILD['ios']:,}; on Android its versionCode, 1 to "
                    f"{MAX_BUILD['android']:,} (2,600,000 and up for version 2.6.0)."
                ),
            ),
        ],
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description=(
                    "The settings document: every field the platform's app requires "
                    "(docs/app-settings.md lists them). `Cache-Control: public, max-age` (an "
                    "hour, less when a scheduled version comes sooner) and an ETag."
                ),
                examples=[
                    OpenApiExample(
                        "Part of an Android document",
                        value={"minimum_build_version": 0, "teks_packet_size": 110000},
                    )
                ],
            ),
            304: OpenApiResponse(description="Unchanged since the ETag sent in If-None-Match."),
            400: error_response(
                "Bad query",
                ("Bad iOS build", 1001, "build: a whole number from 1 to 20000."),
                ("Bad Android build", 1001, "build: a whole number from 1 to 2100000000."),
                ("Bad platform", 1001, "platform: android or ios."),
            ),
        },
    )
    def get(self, request: Request) -> HttpResponse:
        platform, build = parse_query(request.query_params)
        answer = cache.answer(platform, build)
        if answer is None:
            raise NotFound(_("No settings have been published for this platform."))
        tags = _etags(request.headers.get("If-None-Match", ""))
        # "*" matches any current representation (RFC 9110 13.1.2).
        if answer.etag in tags or "*" in tags:
            response: HttpResponse = HttpResponseNotModified()
        else:
            response = HttpResponse(answer.body, content_type="application/json")
        response["ETag"] = answer.etag
        patch_cache_control(response, public=True, max_age=answer.max_age)
        return response


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}
