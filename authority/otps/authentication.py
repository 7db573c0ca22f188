"""`Authorization: ApiKey <key>`: how a region's health information system authenticates."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from authority.otps.models import ApiKey
from authority.otps.services import authenticate_api_key


class ApiKeyAuthentication(TokenAuthentication):
    """Token authentication with its own keyword; revoked and unknown keys are refused."""

    keyword = "ApiKey"

    def authenticate_credentials(self, key: str) -> tuple[AnonymousUser, ApiKey]:
        api_key = authenticate_api_key(key)
        if api_key is None:
            raise AuthenticationFailed(_("Unknown or revoked API key."))
        # No staff member is behind a machine: views read the key from request.auth.
        return AnonymousUser(), api_key


class HasApiKey(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, ApiKey)


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`ApiKey <key>`: a key of the region, created by its supervisor.",
        }
