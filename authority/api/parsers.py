"""The API's JSON parser: a bound on the body size that holds however the body arrives, and a
schema error (not a crash) for JSON nested deeper than Python's stack."""

from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from authority.api.errors import PayloadTooLarge

TOO_DEEP = _("JSON parse error - the body is nested too deeply.")


class BoundedJSONParser(JSONParser):
    """JSON bodies of at most the view's `max_body_bytes` (or DATA_UPLOAD_MAX_MEMORY_SIZE)
    bytes, else 413 with the error body.

    DRF reads the request stream itself, bypassing Django's own check of that setting, so an
    oversized body would otherwise be read and parsed whole.

    `[[[[...` a few thousand levels deep makes `json` raise RecursionError, which DRF does not
    map (only ValueError): without the catch below any client, unauthenticated, gets a 500
    and writes a traceback to the log with one small request. No body of the apps or of a
    HIS nests more than five levels; a schema error is the answer.
    """

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        context = parser_context or {}
        limit = body_limit(context.get("view"))
        if limit is not None:
            request = context.get("request")
            declared = _content_length(request.META if request is not None else {})
            if declared is not None and declared > limit:
                raise PayloadTooLarge(limit)
            body = stream.read(limit + 1)
            if len(body) > limit:
                raise PayloadTooLarge(limit)
            stream = BytesIO(body)
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(TOO_DEEP) from None


def body_limit(view: object) -> int | None:
    """The largest body `view` takes: its own limit, else the site's."""
    own = getattr(view, "max_body_bytes", None)
    return own if own is not None else settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _content_length(meta: Mapping[str, Any]) -> int | None:
    try:
        return int(meta.get("CONTENT_LENGTH") or 0) or None
    except (TypeError, ValueError):
        return None
