from django.urls import path

from authority.otps import views

app_name = "otps"

urlpatterns = [
    path("", views.codes_view, name="list"),
    path("issue/", views.issue_view, name="issue"),
    path("authorize/", views.authorize_view, name="authorize"),
    path("<int:pk>/revoke/", views.revoke_view, name="revoke"),
    path("api-keys/", views.api_keys_view, name="api_keys"),
    path("api-keys/<int:pk>/revoke/", views.revoke_api_key_view, name="revoke_api_key"),
]
