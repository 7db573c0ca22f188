"""The API error handler: every failure becomes {"error_code": int, "message": str}."""

from __future__ import annotations

import pytest
from django.http import Http404
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied, Throttled
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from authority.api.errors import ErrorCode, OtpAlreadyAuthorized, OtpQuotaReached, UnauthorizedOtp
from tests.conftest import log_of

factory = APIRequestFactory()


class Body(serializers.Serializer):
    province = serializers.CharField(max_length=2)
    teks = serializers.ListField(child=serializers.DictField(child=serializers.IntegerField()))


def view_raising(exception: Exception | None = None, **attributes: object):
    class RaisingView(APIView):
        def post(self, request):
            if exception is None:
                Body(data=request.data).is_valid(raise_exception=True)
            raise exception

    for name, value in attributes.items():
        setattr(RaisingView, name, value)
    return RaisingView.as_view()


def post(view, data: object = None, **extra: str):
    return view(factory.post("/v1/test", data if data is not None else {}, format="json", **extra))


def test_it_renders_validation_errors_as_schema_errors():
    response = post(view_raising(), {"province": "ROMA", "teks": [{"a": 1}, {"b": "x"}]})
    assert response.status_code == 400
    assert response.data["error_code"] == 1001
    assert "province:" in response.data["message"]
    assert "teks.1.b:" in response.data["message"]


def test_it_renders_malformed_json_as_a_schema_error():
    request = factory.post("/v1/test", b"{not json", content_type="application/json")
    response = view_raising()(request)
    assert response.status_code == 400
    assert response.data["error_code"] == ErrorCode.SCHEMA


def test_it_renders_api_errors_with_their_own_status_and_code():
    response = post(view_raising(OtpAlreadyAuthorized()))
    assert response.status_code == 409
    assert response.data == {"error_code": 1400, "message": "OTP already authorized."}
    response = post(view_raising(UnauthorizedOtp()))
    assert (response.status_code, response.data["error_code"]) == (401, 1101)


def test_it_keeps_a_more_precise_message():
    response = post(view_raising(OtpQuotaReached("Quota of the region reached.", wait=60)))
    assert response.status_code == 429
    assert response.data == {"error_code": 1401, "message": "Quota of the region reached."}
    assert response["Retry-After"] == "60"


def test_it_answers_401_with_a_scheme_to_failed_authentication():
    class Scheme:
        def authenticate(self, request):
            raise AuthenticationFailed("Invalid key.")

        def authenticate_header(self, request):
            return "ApiKey"

    response = post(view_raising(None, authentication_classes=[Scheme]))
    assert response.status_code == 401
    assert response.data == {"error_code": 1100, "message": "Invalid key."}
    assert response["WWW-Authenticate"] == "ApiKey"


def test_it_says_when_to_retry_after_throttling():
    response = post(view_raising(Throttled(wait=30)))
    assert response.status_code == 429
    assert response.data["error_code"] == ErrorCode.THROTTLED
    assert response["Retry-After"] == "30"


def test_it_maps_django_not_found():
    response = post(view_raising(Http404()))
    assert (response.status_code, response.data["error_code"]) == (404, 1002)


def test_it_hides_unexpected_errors_behind_a_500():
    with log_of("authority.api.handlers") as logged:
        response = post(view_raising(RuntimeError("secret detail")))
    assert response.status_code == 500
    assert response.data == {"error_code": 1000, "message": "An unexpected error occurred."}
    assert any("RaisingView" in message for message in logged), logged


def test_it_answers_wrong_methods_in_the_same_shape():
    response = view_raising(OtpAlreadyAuthorized())(factory.get("/v1/test"))
    assert (response.status_code, response.data["error_code"]) == (405, 1003)


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml"])
def test_it_rejects_other_content_types_as_schema_errors(content_type):
    response = view_raising()(factory.post("/v1/test", b"x", content_type=content_type))
    # A body that is not JSON is a schema error like any other (DESIGN.md 7), not a 415.
    assert response.status_code == 400
    assert response.data["error_code"] == ErrorCode.SCHEMA


# The codes the Immuni apps read (immuni-common core/exceptions.py; immuni-app-ios
# Modules/Networking/Core/NetworkManager.swift): ours must not mean anything else to them.
IMMUNI_CODES = {1000, 1001, 1101, 1102, 1300, 1301, 1400}


def test_immuni_codes_mean_here_what_they_mean_to_the_apps():
    assert int(ErrorCode.UNEXPECTED) == 1000
    assert int(ErrorCode.SCHEMA) == 1001
    assert int(ErrorCode.UNAUTHORIZED_OTP) == 1101
    assert int(ErrorCode.BATCH_NOT_FOUND) == 1300
    assert int(ErrorCode.NO_BATCHES) == 1301
    assert int(ErrorCode.OTP_ALREADY_AUTHORIZED) == 1400
    # 1102 is DgcNotFound to the iOS app (.noDgcFound), a service this product has not.
    assert 1102 not in {int(code) for code in ErrorCode}


def test_a_permission_denied_is_a_403_with_the_forbidden_code():
    response = post(view_raising(PermissionDenied()))
    assert response.status_code == 403
    assert response.data["error_code"] == int(ErrorCode.FORBIDDEN) == 1103
    assert ErrorCode.FORBIDDEN not in IMMUNI_CODES
