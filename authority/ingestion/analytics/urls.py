"""The apps' operational info and the iOS token, under /v1/analytics/ (DESIGN.md 7)."""

from django.urls import path

from authority.ingestion.analytics import views

app_name = "analytics"

urlpatterns = [
    path(
        "google/operational-info",
        views.GoogleOperationalInfoView.as_view(),
        name="google_operational_info",
    ),
    path(
        "apple/operational-info",
        views.AppleOperationalInfoView.as_view(),
        name="apple_operational_info",
    ),
    path("apple/token", views.AppleTokenView.as_view(), name="apple_token"),
]
