"""URL map of the whole site."""

from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from authority.accounts.access import public
from authority.views import favicon_view, home_view

urlpatterns = [
    path("", home_view, name="home"),
    path("accounts/", include("authority.accounts.urls")),
    path("audit/", include("authority.accounts.audit_urls")),
    path("codes/", include("authority.otps.urls")),
    path("v1/", include("authority.otps.api_urls")),
    path("v1/", include("authority.api.urls")),
    path("publishing/", include("authority.keys.urls")),
    path("federation/", include("authority.federation.urls")),
    path("v1/keys/", include("authority.keys.api_urls")),
    path("v1/federation/", include("authority.federation.api_urls")),
    path("v1/", include("authority.appconfig.api_urls")),
    path("app-settings/", include("authority.appconfig.urls")),
    path("i18n/setlang/", public(set_language), name="set_language"),
    # Pages without our <link rel="icon"> (the admin's) make browsers ask for this.
    path("favicon.ico", public(favicon_view)),
    path("admin/", admin.site.urls),
    path("v1/ingestion/", include("authority.ingestion.urls")),
    path("", include("authority.operations.urls")),
    path("", include("authority.dashboard.urls")),
    path("v1/analytics/", include("authority.ingestion.analytics.urls")),
]

# Pages that explain themselves; under /v1/ even the errors Django raises itself are JSON error
# bodies (DESIGN.md 7). The refused-form page is settings.CSRF_FAILURE_VIEW.
handler400 = "authority.errors.bad_request"
handler403 = "authority.errors.permission_denied"
handler404 = "authority.errors.page_not_found"
handler500 = "authority.errors.server_error"
