"""The apps' operational info, under /v1/analytics/ (DESIGN.md 7)."""

from django.urls import path

from authority.dashboard import api

app_name = "analytics"

urlpatterns = [
    path(
        "google/operational-info",
        api.GoogleOperationalInfoView.as_view(),
        name="google_operational_info",
    ),
    path(
        "apple/operational-info",
        api.AppleOperationalInfoView.as_view(),
        name="apple_operational_info",
    ),
]
