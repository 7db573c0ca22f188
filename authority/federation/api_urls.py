"""The gateway's notifications, under /v1/federation/."""

from django.urls import path

from authority.federation import api

app_name = "federation_api"

urlpatterns = [
    path("callback", api.GatewayCallbackView.as_view(), name="callback"),
]
