"""HIS endpoints, under /v1/."""

from django.urls import path

from authority.otps import api

urlpatterns = [
    path("otp", api.AuthorizeOtpView.as_view(), name="api-authorize-otp"),
    path("otp/issue", api.IssueOtpView.as_view(), name="api-issue-otp"),
]
