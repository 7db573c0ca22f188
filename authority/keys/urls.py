"""The administrators' publication pages, under /publishing/."""

from django.urls import path

from authority.keys import views

app_name = "keys"

urlpatterns = [
    path("", views.publication_view, name="publication"),
    path("publish/", views.publish_now_view, name="publish_now"),
    path("runs/<int:pk>/progress/", views.run_progress_view, name="run_progress"),
    path("batches/<int:pk>/download/", views.batch_download_view, name="batch_download"),
    path("batches/<int:pk>/verify/", views.batch_verify_view, name="batch_verify"),
    path("signing-keys/", views.signing_keys_view, name="signing_keys"),
]
