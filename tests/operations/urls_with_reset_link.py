"""A URL map with a route added after the redaction was written: a reset link, like the one
the password-reset feature will add, whose parameters no one declared."""

from django.http import HttpRequest, HttpResponse
from django.urls import path


def page(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse()


urlpatterns = [
    path("reset/<uidb64>/<token>/", page),
    path("things/<int:pk>/", page),
]
