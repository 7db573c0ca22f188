"""The site's URLs plus views that fail on purpose, for the error pages' tests."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import OperationalError, connection
from django.http import HttpRequest, HttpResponse
from django.urls import path

from authority.accounts.access import public
from authority.urls import handler400, handler403, handler404, handler500
from authority.urls import urlpatterns as site

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


def crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("something broke")


def refuse_queries(execute, sql, params, many, context):
    raise OperationalError("the database went away")


def database_down(request: HttpRequest) -> HttpResponse:
    """From here on every query of this request fails, as when the database goes away."""
    connection.execute_wrappers.append(refuse_queries)
    raise OperationalError("the database went away")


def forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def form(request: HttpRequest) -> HttpResponse:
    """A plain view, protected against forged forms like every page's."""
    return HttpResponse("sent")


urlpatterns = [
    path("crash/", public(crash)),
    path("database-down/", public(database_down)),
    path("v1/crash/", public(crash)),
    path("v1/forbidden/", public(forbidden)),
    path("v1/form/", public(form)),
    *site,
]
