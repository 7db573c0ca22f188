"""The administrators' pages for the apps' settings, under /app-settings/."""

from django.urls import path

from authority.appconfig import views

app_name = "appconfig"

urlpatterns = [
    path("", views.overview_view, name="overview"),
    path("<str:platform>/", views.platform_view, name="platform"),
    path("<str:platform>/draft/", views.edit_view, name="edit"),
    path("<str:platform>/draft/review/", views.review_view, name="review"),
    path("<str:platform>/draft/discard/", views.discard_view, name="discard"),
    path("<str:platform>/draft/overrides/new/", views.override_view, name="override_new"),
    path("<str:platform>/draft/overrides/<int:index>/", views.override_view, name="override"),
    path(
        "<str:platform>/draft/overrides/<int:index>/delete/",
        views.override_delete_view,
        name="override_delete",
    ),
    path("<str:platform>/preview.json", views.preview_view, name="preview"),
    path("<str:platform>/versions/<int:number>/", views.version_view, name="version"),
    path("<str:platform>/versions/<int:number>/rollback/", views.rollback_view, name="rollback"),
    path("<str:platform>/versions/<int:number>/cancel/", views.cancel_view, name="cancel"),
]
