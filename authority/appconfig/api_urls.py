"""The phones' settings download, under /v1/ (DESIGN.md 7)."""

from django.urls import path

from authority.appconfig import api

app_name = "appconfig_api"

urlpatterns = [path("settings", api.SettingsView.as_view(), name="settings")]
