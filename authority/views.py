"""Pages of the site as a whole: the home page and the favicon."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.templatetags.static import static

from authority import selectors
from authority.accounts.access import staff_member


def home_view(request: HttpRequest) -> HttpResponse:
    """Each role's day at a glance: codes for operators, the region for supervisors, the
    system's health for administrators."""
    return render(request, "home.html", {"home": selectors.home_page(staff_member(request))})


def favicon_view(request: HttpRequest) -> HttpResponse:
    # Resolved per request: the hashed static name exists only after collectstatic.
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))
