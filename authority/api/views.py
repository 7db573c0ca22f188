"""The base of every machine endpoint (phones, health information systems): what they share.

- Only the methods a view defines: no DRF metadata answer to OPTIONS (it would describe the
  endpoint to anyone asking); other methods get 405 with the error body and an `Allow`,
  before anything else is looked at (a HIS endpoint's key, a throttle).
- JSON whatever the `Accept` header asks for: phones and CDNs send what their HTTP stack
  sends, and the answer never depends on it.
- `Cache-Control: no-store` on every answer that did not set its own (DESIGN.md 7): a code's
  check, an upload, a HIS call or an error must not be kept by a proxy or the phone. Only the
  public downloads set their own caching, on success.
- A body that is a JSON object, or a schema error (400, 1001) like every other: an empty
  body, another content type, a list.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy as _
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from authority.api.errors import SchemaError

NOT_A_JSON_OBJECT = _("The body must be a JSON object.")


class IgnoreAcceptHeader(DefaultContentNegotiation):
    """Always the view's first renderer (JSON, for bodies and error bodies), whatever the
    Accept header or `?format=` ask for.

    Phones and CDNs ask with `Accept: application/zip`, `application/octet-stream`, `*/*` or
    a browser's `text/html, ...`; DRF's default negotiation, knowing only the JSON renderer,
    would answer some of them 406.
    """

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class MachineApiView(APIView):
    """Base of the device API, the HIS API and the downloads (see the module's docstring)."""

    # No "options" (nor "trace"): a method the view does not define gets 405.
    http_method_names = ["get", "post", "head"]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = IgnoreAcceptHeader
    # The largest body this endpoint takes, in bytes (authority.api.parsers); None: the
    # site's DATA_UPLOAD_MAX_MEMORY_SIZE.
    max_body_bytes: int | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # DRF authenticates, checks permissions and throttles before it looks at the method:
        # without this, OPTIONS on a HIS endpoint without a key would be 401, and a GET on a
        # device endpoint would spend the client's allowance.
        method = (request.method or "").lower()
        if method not in self.http_method_names or not hasattr(self, method):
            self.http_method_not_allowed(request, *args, **kwargs)
        super().initial(request, *args, **kwargs)

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True)
        return response

    def json_object(self, request: Request) -> dict[str, Any]:
        """The body, which must be a JSON object (400, 1001 otherwise)."""
        data = request.data  # parses: a malformed or oversized body raises here
        # DRF reads a missing body as {}: the contract wants an object, not nothing.
        if request.stream is None or not isinstance(data, dict):
            raise SchemaError(NOT_A_JSON_OBJECT)
        return data
