"""The administrators' federation page, under /federation/."""

from django.urls import path

from authority.federation import views

app_name = "federation"

urlpatterns = [
    path("", views.federation_view, name="overview"),
    path("sync/", views.sync_now_view, name="sync_now"),
    path("runs/<int:pk>/progress/", views.run_progress_view, name="run_progress"),
    path("chart/", views.exchange_chart_view, name="exchange_chart"),
]
