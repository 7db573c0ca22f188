"""Pieces of the OpenAPI description that every endpoint shares: the error body."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers


class ErrorBodySerializer(serializers.Serializer[dict[str, object]]):
    error_code = serializers.IntegerField(help_text="Numeric code of the error (DESIGN.md 7).")
    message = serializers.CharField(help_text="What went wrong, for people reading logs.")


def error_response(description: str, *examples: tuple[str, int, str]) -> OpenApiResponse:
    """An error response documented with (summary, error_code, message) examples."""
    return OpenApiResponse(
        response=ErrorBodySerializer,
        description=description,
        examples=[
            OpenApiExample(summary, value={"error_code": code, "message": message})
            for summary, code, message in examples
        ],
    )
