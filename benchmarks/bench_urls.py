"""The product's URLs plus the benchmarks' trivial endpoint (see bench_settings)."""

from typing import Any

from django.urls import path
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from authority.urls import urlpatterns as product_urlpatterns


class TrivialView(APIView):
    """204 and nothing else: no authentication, throttle, database or cache."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    throttle_classes: list[Any] = []

    def post(self, request: Request) -> Response:
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [path("bench/trivial", TrivialView.as_view()), *product_urlpatterns]
