"""Language switching and the security headers every page carries."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_switching_to_italian_translates_the_page(operator, signed_in):
    client = signed_in(operator)
    response = client.post("/i18n/setlang/", {"language": "it", "next": "/"})
    assert response["Location"] == "/"
    page = client.get("/").content.decode()
    assert '<html lang="it">' in page
    assert "Esci" in page  # "Log out"
    assert "Log out" not in page


def test_the_login_page_follows_the_browser_language(db):
    page = Client(HTTP_ACCEPT_LANGUAGE="it").get("/accounts/login/").content.decode()
    assert "Accedi" in page


@pytest.mark.parametrize("path", ["/accounts/login/", "/"])
def test_pages_carry_a_strict_content_security_policy(operator, signed_in, path):
    response = signed_in(operator).get(path)
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_pages_have_no_inline_scripts_or_styles(operator, signed_in):
    page = signed_in(operator).get("/").content.decode()
    assert "<script>" not in page and "style=" not in page and "<style" not in page
