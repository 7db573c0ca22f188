from django.urls import path

from authority.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("verify/", views.verify_view, name="verify"),
    path("enroll/", views.enroll_view, name="enroll"),
    path("backup-codes/", views.backup_codes_view, name="backup_codes"),
    path("logout/", views.logout_view, name="logout"),
    path("keepalive/", views.keepalive_view, name="keepalive"),
    path(
        "invitation/<str:uidb64>/<str:token>/",
        views.accept_invitation_view,
        name="accept_invitation",
    ),
    path("people/", views.people_view, name="people"),
    path("people/invite/", views.invite_view, name="invite"),
    path("people/<int:pk>/", views.person_view, name="person"),
    path("people/<int:pk>/<slug:action>/", views.person_action_view, name="person_action"),
]
