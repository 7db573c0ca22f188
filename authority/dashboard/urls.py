"""The statistics pages under /statistics/, and the open data under /open-data/."""

from django.urls import path, re_path

from authority.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("statistics/", views.overview_view, name="overview"),
    path("statistics/charts/<slug:slug>/", views.chart_view, name="chart"),
    re_path(
        r"^statistics/charts/(?P<slug>[-a-z0-9]+)/data\.(?P<extension>csv|json)$",
        views.chart_export_view,
        name="chart_export",
    ),
    re_path(r"^open-data/daily\.(?P<extension>csv|json)$", views.open_data_view, name="open_data"),
]
