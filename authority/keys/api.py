"""The download API for phones: the batch index, batch files, index.txt and the public keys."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from authority.api.errors import BatchNotFound, NoBatches, NotFound, SchemaError
from authority.api.schema import error_response
from authority.api.views import MachineApiView
from authority.keys import selectors
from authority.keys.services.batch_files import batch_storage


class KeysIndexSerializer(serializers.Serializer[dict[str, int]]):
    oldest = serializers.IntegerField(help_text="Number of the oldest batch still published.")
    newest = serializers.IntegerField(help_text="Number of the newest batch.")


class PublicKeySerializer(serializers.Serializer[dict[str, str]]):
    verification_key_id = serializers.CharField()
    verification_key_version = serializers.CharField()
    signature_algorithm = serializers.CharField()
    public_key = serializers.CharField(help_text="SubjectPublicKeyInfo PEM")


class PublicKeysSerializer(serializers.Serializer[dict[str, list[dict[str, str]]]]):
    keys = PublicKeySerializer(many=True)


# Batch files never change once published: caches (the CDN, the phone) may keep them for good.
IMMUTABLE = {"public": True, "max_age": 31536000, "immutable": True}

# Batch.index is a PositiveIntegerField, which every database Django supports holds up to
# 2**31 - 1: a larger number names no batch (and in a query would be a database error).
LARGEST_BATCH_NUMBER = 2**31 - 1
# Immuni read /v1/keys/{n} with Python's int() and took 1 <= n <= sys.maxsize (2**63 - 1):
# anything else, "index.txt" aside, was a schema error. The same text reads the same here.
LARGEST_NUMBER = 2**63 - 1
_INTEGER = re.compile(r"^\s*[+-]?\d+(?:_\d+)*\s*$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")

# Marks a response whose body is the same in every language (see LanguageIndependentMiddleware).
_LANGUAGE_INDEPENDENT = "language_independent"


class DownloadView(MachineApiView):
    """Base of the download API's views: their successful answers are marked
    language-independent, to be cached once for every language. Their errors are not cached
    (authority.api.views): a batch or an index missing now may be there in a minute."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = super().dispatch(request, *args, **kwargs)
        # Error bodies carry a translated message: those keep LocaleMiddleware's headers.
        if status.is_success(response.status_code) or (
            response.status_code == status.HTTP_304_NOT_MODIFIED
        ):
            setattr(response, _LANGUAGE_INDEPENDENT, True)
        return response


class LanguageIndependentMiddleware:
    """Takes `Accept-Language` out of Vary, and drops Content-Language, on the responses a
    DownloadView marked: batch files, the index and the public keys are the same in every
    language, and with `Vary: Accept-Language` a CDN would keep one copy of each immutable
    file per language.

    LocaleMiddleware adds both headers to every response on its way out, after the view has
    returned, so this must come before it in settings.MIDDLEWARE (and so run after it).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if getattr(response, _LANGUAGE_INDEPENDENT, False):
            if response.has_header("Vary"):
                headers = (header.strip() for header in response.headers["Vary"].split(","))
                vary = [h for h in headers if h and h.lower() != "accept-language"]
                if vary:
                    response.headers["Vary"] = ", ".join(vary)
                else:
                    del response.headers["Vary"]
            # Set from the client's Accept-Language: a shared cache would serve it to everyone.
            if response.has_header("Content-Language"):
                del response.headers["Content-Language"]
        return response


def _batch_number(text: str) -> int | None:
    """The number in /v1/keys/{text}, read as Immuni read it (Python's int(): signs, "_"
    between digits, any script's digits); None when it is too large to be a batch's. Anything
    that is not a number from 1 to 2**63 - 1 is a schema error (400, 1001)."""
    if not _INTEGER.match(text):
        raise SchemaError(_("Not a batch number."))
    text = text.strip()
    digits = "".join(str(unicodedata.decimal(char)) for char in text.lstrip("+-") if char != "_")
    significant = digits.lstrip("0")
    if text.startswith("-") or not significant:
        raise SchemaError(_("Batch numbers start at 1."))
    # Length first: int() refuses more than 4,300 digits, and a URL can hold more.
    if len(significant) > len(str(LARGEST_NUMBER)) or int(significant) > LARGEST_NUMBER:
        raise SchemaError(_("Not a batch number."))
    number = int(significant)
    return number if number <= LARGEST_BATCH_NUMBER else None


def _country(text: str) -> str:
    if not _COUNTRY.match(text):
        raise SchemaError(_("A country is two capital letters."))
    return text


class KeysIndexView(DownloadView):
    """GET /v1/keys/index -> {"oldest": n, "newest": m} (404 error 1301 when none)."""

    @extend_schema(
        tags=["Batch downloads (phones)"],
        summary="Range of published batch numbers",
        responses={
            200: KeysIndexSerializer,
            404: error_response(
                "Nothing published yet", ("No batches", 1301, "No batches have been published yet.")
            ),
        },
    )
    def get(self, request: Request) -> Response:
        bounds = selectors.index_range()
        if bounds is None:
            raise NoBatches()
        response = Response({"oldest": bounds[0], "newest": bounds[1]})
        patch_cache_control(response, public=True, max_age=settings.KEYS_INDEX_MAX_AGE)
        return response


class KeysIndexTextView(DownloadView):
    """GET /v1/keys/index.txt -> one line per published file, like Google's export index."""

    @extend_schema(
        tags=["Batch downloads (phones)"],
        summary="Published batch files, one path a line",
        responses={200: OpenApiResponse(OpenApiTypes.STR, description="text/plain")},
    )
    def get(self, request: Request) -> HttpResponse:
        lines = [
            f"v1/keys/{index}"
            for index in selectors.published_batches().values_list("index", flat=True)
        ]
        response = HttpResponse(
            "".join(f"{line}\n" for line in lines), content_type="text/plain; charset=utf-8"
        )
        patch_cache_control(response, public=True, max_age=settings.KEYS_INDEX_MAX_AGE)
        return response


class BatchFileView(DownloadView):
    """GET /v1/keys/{n} -> the signed export zip (404 error 1300; not a number from 1 up: 400
    error 1001)."""

    @extend_schema(
        tags=["Batch downloads (phones)"],
        summary="One signed batch file (GAEN export zip)",
        responses={
            200: OpenApiResponse(OpenApiTypes.BINARY, description="application/zip"),
            400: error_response(
                "Not a number from 1 to 2**63 - 1",
                ("Below 1", 1001, "Batch numbers start at 1."),
                ("Not a number", 1001, "Not a batch number."),
            ),
            404: error_response("Unknown batch", ("Not found", 1300, "Batch not found.")),
        },
    )
    def get(self, request: Request, index: str) -> HttpResponseBase:
        return _batch_file(_batch_number(index), country="")


def _batch_file(number: int | None, *, country: str) -> HttpResponseBase:
    """A series' batch file, as phones download it (404 error 1300 when there is none)."""
    batch = None if number is None else selectors.downloadable_batch(number, country=country)
    storage = batch_storage()
    if batch is None or not storage.exists(batch.file_name):
        raise BatchNotFound()
    response = FileResponse(storage.open(batch.file_name, "rb"), content_type="application/zip")
    response["Content-Length"] = str(batch.size)
    name = f"batch-{country}-{batch.index}" if country else f"batch-{batch.index}"
    response["Content-Disposition"] = f'attachment; filename="{name}.zip"'
    response["ETag"] = f'"{batch.sha256}"'
    patch_cache_control(response, **IMMUTABLE)
    return response


class PublicKeysView(DownloadView):
    """GET /v1/keys/public-keys -> the keys that verify current files, to register with Apple/Google."""

    @extend_schema(
        tags=["Batch downloads (phones)"],
        summary="Public keys that verify the batch files",
        responses={200: PublicKeysSerializer},
    )
    def get(self, request: Request) -> Response:
        keys = [
            {
                "verification_key_id": key.key_id,
                "verification_key_version": key.version,
                "signature_algorithm": key.algorithm,
                "public_key": key.public_key_pem,
            }
            for key in selectors.verifying_signing_keys()
        ]
        response = Response({"keys": keys})
        patch_cache_control(response, public=True, max_age=settings.KEYS_INDEX_MAX_AGE)
        return response


class PublicKeyPemView(DownloadView):
    """GET /v1/keys/public-key.pem -> the newest signing key's public key, as PEM."""

    @extend_schema(
        tags=["Batch downloads (phones)"],
        summary="The newest public key, PEM",
        responses={
            200: OpenApiResponse(OpenApiTypes.STR, description="application/x-pem-file"),
            404: error_response(
                "No key yet", ("Not found", 1002, "No signing key has been created yet.")
            ),
        },
    )
    def get(self, request: Request) -> HttpResponse:
        key = selectors.active_signing_keys().first()
        if key is None:
            raise NotFound(_("No signing key has been created yet."))
        response = HttpResponse(key.public_key_pem, content_type="application/x-pem-file")
        response["Content-Disposition"] = f'attachment; filename="{key.key_id}-{key.version}.pem"'
        patch_cache_control(response, public=True, max_age=settings.KEYS_INDEX_MAX_AGE)
        return response


class EuKeysIndexView(DownloadView):
    """GET /v1/keys/eu/{country}/index -> {"oldest": n, "newest": m} of the keys received from
    the European gateway for our users who visited `country` (as Immuni's exposure-reporting
    service served them); 404 error 1301 while that country has none; a country that is not
    two capital letters is 400 error 1001."""

    @extend_schema(
        tags=["Batch downloads (phones)"],
        summary="Range of published batch numbers of another country's keys",
        parameters=[OpenApiParameter("country", str, OpenApiParameter.PATH)],
        responses={
            200: KeysIndexSerializer,
            400: error_response(
                "Bad country", ("Bad country", 1001, "A country is two capital letters.")
            ),
            404: error_response(
                "Nothing published", ("No batches", 1301, "No batches have been published yet.")
            ),
        },
    )
    def get(self, request: Request, country: str) -> Response:
        bounds = selectors.index_range(_country(country))
        if bounds is None:
            raise NoBatches()
        response = Response({"oldest": bounds[0], "newest": bounds[1]})
        patch_cache_control(response, public=True, max_age=settings.KEYS_INDEX_MAX_AGE)
        return response


class EuBatchFileView(DownloadView):
    """GET /v1/keys/eu/{country}/{n} -> that country's signed export zip (404 error 1300); a
    bad country or number is 400 error 1001."""

    @extend_schema(
        tags=["Batch downloads (phones)"],
        summary="One batch file of another country's keys",
        parameters=[
            OpenApiParameter("country", str, OpenApiParameter.PATH),
            OpenApiParameter("index", str, OpenApiParameter.PATH),
        ],
        responses={
            200: OpenApiResponse(OpenApiTypes.BINARY, description="application/zip"),
            400: error_response(
                "Bad country or number",
                ("Bad country", 1001, "A country is two capital letters."),
                ("Below 1", 1001, "Batch numbers start at 1."),
            ),
            404: error_response("Unknown batch", ("Not found", 1300, "Batch not found.")),
        },
    )
    def get(self, request: Request, country: str, index: str) -> HttpResponseBase:
        code = _country(country)
        return _batch_file(_batch_number(index), country=code)
