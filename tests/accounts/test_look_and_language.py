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


REPRESENTATIVE_PAGES = [
    ("anonymous", "/accounts/login/"),
    ("operator", "/"),
    ("operator", "/codes/issue/"),
    ("operator", "/codes/"),
    ("supervisor", "/statistics/"),
    ("supervisor", "/audit/"),
    ("administrator", "/publishing/"),
    ("administrator", "/admin/"),
    ("administrator", "/v1/docs/"),
]


@pytest.mark.parametrize(("who", "path"), REPRESENTATIVE_PAGES)
def test_pages_carry_a_strict_content_security_policy(request, signed_in, who, path):
    client = Client() if who == "anonymous" else signed_in(request.getfixturevalue(who))
    response = client.get(path)
    assert response.status_code == 200
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


@pytest.mark.parametrize("path", ["/v1/keys/index", "/open-data/daily.json", "/health"])
def test_public_endpoints_carry_the_security_headers_too(db, path):
    response = Client().get(path)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "Content-Security-Policy" in response


def test_cookies_are_http_only_and_same_site(operator, client):
    response = client.post("/accounts/login/", {"username": operator.username, "password": "x"})
    for name in ("csrftoken",):
        cookie = client.cookies[name]
        assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert response.status_code == 200


def test_production_cookies_are_secure_and_hsts_is_on():
    from tests.settings.test_settings import PRODUCTION_ENV, run_manage

    code = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT)"
    )
    result = run_manage("shell", "-c", code, **PRODUCTION_ENV)
    assert result.stdout.split()[-4:] == ["True", "True", "31536000", "True"], result.stderr
