from django.urls import path

from authority.accounts.views import invitations, password_reset, people, sign_in

app_name = "accounts"

urlpatterns = [
    path("login/", sign_in.login_view, name="login"),
    path("verify/", sign_in.verify_view, name="verify"),
    path("enroll/", sign_in.enroll_view, name="enroll"),
    path("backup-codes/", sign_in.backup_codes_view, name="backup_codes"),
    path("logout/", sign_in.logout_view, name="logout"),
    path("keepalive/", sign_in.keepalive_view, name="keepalive"),
    # Before the link's own pattern, which would otherwise take "set-password" for a token.
    path(
        "invitation/<str:uidb64>/set-password/",
        invitations.choose_password_view,
        name="choose_password",
    ),
    path(
        "invitation/<str:uidb64>/<str:token>/",
        invitations.open_invitation_view,
        name="accept_invitation",
    ),
    path("password-reset/", password_reset.ForgottenPasswordView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        password_reset.ResetLinkSentView.as_view(),
        name="password_reset_sent",
    ),
    # The e-mailed link; Django's view moves to ".../<uidb64>/set-password/" (the same route).
    path(
        "password-reset/<str:uidb64>/<str:token>/",
        password_reset.NewPasswordView.as_view(),
        name="password_reset_confirm",
    ),
    path("people/", people.people_view, name="people"),
    path("people/invite/", people.invite_view, name="invite"),
    path("people/<int:pk>/", people.person_view, name="person"),
    path("people/<int:pk>/deactivate/", people.deactivate_view, name="deactivate"),
    path("people/<int:pk>/reactivate/", people.reactivate_view, name="reactivate"),
    path(
        "people/<int:pk>/reset-second-factor/",
        people.reset_second_factor_view,
        name="reset_second_factor",
    ),
    path("people/<int:pk>/lift-lockout/", people.lift_lockout_view, name="lift_lockout"),
    path(
        "people/<int:pk>/renew-invitation/", people.renew_invitation_view, name="renew_invitation"
    ),
]
