"""Error pages in the site's layout and the person's language, saying what happened, what to do
and whom to ask; under /v1/ the device API's JSON error bodies instead."""

from __future__ import annotations

from wsgiref.types import WSGIEnvironment

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from authority.accounts.models import Role
from tests.pages.urls_with_errors import refuse_queries

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.pages.urls_with_errors")]

BRAND = {"en": "Exposure Notification Authority", "it": "Autorità per le notifiche di esposizione"}
HEADINGS = {
    400: {"en": "The request could not be understood", "it": "La richiesta non è stata compresa"},
    403: {"en": "You cannot open this page", "it": "Non puoi aprire questa pagina"},
    404: {"en": "Page not found", "it": "Pagina non trovata"},
    500: {"en": "Something went wrong on our side", "it": "Si è verificato un errore nel sistema"},
    "csrf": {"en": "The form could not be sent", "it": "Il modulo non è stato inviato"},
}
WHAT_TO_DO = {"en": "What you can do", "it": "Cosa puoi fare"}
WHOM_TO_ASK = {"en": "Whom to ask", "it": "A chi rivolgerti"}
LANGUAGES = ["en", "it"]


def anonymous(language: str, *, enforce_csrf_checks: bool = False, **headers: str) -> Client:
    defaults: WSGIEnvironment = {"HTTP_ACCEPT_LANGUAGE": language, **headers}
    return Client(enforce_csrf_checks, raise_request_exception=False, **defaults)


def in_language(client: Client, language: str) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.raise_request_exception = False
    return client


def assert_explained(response, status: object, language: str) -> str:
    """The page is the site's own, in `language`: its layout, heading, what to do, whom to ask."""
    assert response.status_code == (403 if status == "csrf" else status)
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert f'<html lang="{language}">' in page
    assert BRAND[language] in page
    assert HEADINGS[status][language] in page
    assert WHAT_TO_DO[language] in page and WHOM_TO_ASK[language] in page
    assert "<style" not in page and "<script>" not in page  # CSP: files only
    return page


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_unknown_address_gets_the_not_found_page(language):
    page = assert_explained(anonymous(language).get("/no-such-page/"), 404, language)
    assert 'href="/accounts/login/"' in page  # not logged in: the way in


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_logged_in_person_gets_the_not_found_page_with_the_menu(language, operator, signed_in):
    client = in_language(signed_in(operator), language)
    page = assert_explained(client.get("/codes/999999/nothing/"), 404, language)
    assert 'aria-label="Main navigation"' in page or 'aria-label="Navigazione principale"' in page
    assert operator.display_name in page  # the header names who is logged in


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_page_of_another_role_explains_the_refusal(
    language, operator, signed_in, make_user, lazio, lombardia
):
    make_user("maria", Role.SUPERVISOR, lazio, last_name="Rossi")
    make_user("luca", Role.SUPERVISOR, lombardia, last_name="Bianchi")
    make_user("anna", Role.SUPERVISOR, lazio, last_name="Verdi", is_active=False)
    client = in_language(signed_in(operator), language)
    page = assert_explained(client.get("/accounts/people/"), 403, language)
    assert {"en": "Operator, Lazio", "it": "Operatore, Lazio"}[language] in page
    assert "Maria Rossi" in page  # a supervisor of the operator's region, who can help
    assert "Luca Bianchi" not in page  # another region's
    assert "Anna Verdi" not in page  # no longer active


def test_a_supervisor_is_sent_to_the_administrators(supervisor, signed_in):
    page = signed_in(supervisor).get("/publishing/").content.decode()
    assert "You cannot open this page" in page
    assert "Ask the national administrators." in page


def test_the_help_desk_is_named_when_configured(settings, operator, signed_in):
    settings.SUPPORT_CONTACT = "helpdesk@salute.example, 06 5994 1234"
    page = signed_in(operator).get("/accounts/people/").content.decode()
    assert "Technical help desk: helpdesk@salute.example, 06 5994 1234" in page


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_crash_gets_the_server_error_page(language, caplog):
    page = assert_explained(anonymous(language).get("/crash/"), 500, language)
    assert "something broke" not in page  # nothing of the error itself
    assert "something broke" in caplog.text  # which is logged for the technical team


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_server_error_page_needs_no_database(language, operator, signed_in):
    client = in_language(signed_in(operator), language)
    try:
        response = client.get("/database-down/")
    finally:
        connection.execute_wrappers[:] = [
            wrapper for wrapper in connection.execute_wrappers if wrapper is not refuse_queries
        ]
    page = assert_explained(response, 500, language)
    assert operator.display_name not in page  # drawn without the session's user


def test_the_server_error_page_needs_no_context_processor(settings):
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [
        {
            **engine,
            "OPTIONS": {
                **engine["OPTIONS"],
                "context_processors": [
                    *engine["OPTIONS"]["context_processors"],
                    "tests.pages.test_error_pages.broken_context_processor",
                ],
            },
        }
    ]
    assert_explained(anonymous("en").get("/crash/"), 500, "en")


def broken_context_processor(request):
    raise RuntimeError("a context processor that fails")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_forged_host_gets_the_bad_request_page(language):
    response = anonymous(language, HTTP_HOST="attacker.example").get("/accounts/login/")
    page = assert_explained(response, 400, language)
    assert "attacker.example" not in page


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_form_from_an_out_of_date_page_explains_what_to_do(language, operator):
    client = anonymous(language, enforce_csrf_checks=True)
    client.get("/accounts/login/")  # the page gave a token; another tab then replaced it
    response = client.post(
        "/accounts/login/",
        {"username": operator.username, "password": "x", "csrfmiddlewaretoken": "x" * 64},
    )
    page = assert_explained(response, "csrf", language)
    assert {"en": "Nothing was saved.", "it": "Non è stato salvato nulla."}[language] in page
    assert {"en": "reload the page", "it": "ricarica la pagina"}[language] in page
    # The refusal page gives a fresh token, so the form works again once reloaded.
    assert response.cookies[settings.CSRF_COOKIE_NAME].value


def test_a_form_without_the_cookie_says_to_allow_cookies(operator):
    response = anonymous("en", enforce_csrf_checks=True).post(
        "/accounts/login/", {"username": operator.username, "password": "x"}
    )
    page = assert_explained(response, "csrf", "en")
    assert "did not send this site's security cookie" in page
    assert "accepts cookies from this site" in page


# --- Under /v1/ the device API's contract holds: JSON error bodies, never pages -----------------


def assert_api_error(response, status: int, error_code: int) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["error_code"] == error_code
    assert isinstance(response.json()["message"], str)
    assert "no-store" in response["Cache-Control"]


def test_an_unknown_api_address_is_a_json_404():
    assert_api_error(anonymous("it").get("/v1/no-such-endpoint"), 404, 1002)


def test_a_crash_under_the_api_is_a_json_500():
    assert_api_error(anonymous("it").get("/v1/crash/"), 500, 1000)


def test_a_refusal_under_the_api_is_a_json_403():
    assert_api_error(anonymous("it").get("/v1/forbidden/"), 403, 1103)


def test_a_forged_host_under_the_api_is_a_json_400():
    response = anonymous("it", HTTP_HOST="attacker.example").get("/v1/keys/index")
    assert_api_error(response, 400, 1001)


def test_a_refused_form_under_the_api_is_a_json_403():
    response = anonymous("it", enforce_csrf_checks=True).post("/v1/form/", {"a": "b"})
    assert_api_error(response, 403, 1103)
