"""The audit trail page, at /audit/ (its view is with the people pages: see views/audit_trail.py)."""

from django.urls import path

from authority.accounts.views import audit_trail

app_name = "audit"

urlpatterns = [
    path("", audit_trail.audit_trail_view, name="list"),
]
