"""Logging filters: the phones' expected refusals are not log lines, and no log line of any
process holds what DESIGN.md 3.3 forbids (addresses, secrets in URLs, tokens, codes, keys).

Django logs every 4xx answer as a WARNING ("Unauthorized: /v1/ingestion/upload"). On the
phones' API those are expected outcomes, counted in the statistics: a code typed wrong, a
client throttled, a batch index not published yet. At a country's scale they would bury the
log lines that matter, and anyone sending bad requests could fill the disk with them. Server
errors (5xx) stay.

`RedactSecrets` is on every handler of every process (Django's LOGGING, gunicorn's loggers
through `gunicorn_logging.GunicornLogger`, Celery's through `celery_logging`). It rewrites
each record before any handler formats it:

- a URL path keeps only the route parameters named in PUBLIC_ROUTE_PARAMETERS (ids, batch
  numbers, page names): any other one, an invitation's uid and token, a reset link's, a
  parameter a new route adds, is logged as `<its name>`. A path that matches no route is cut
  after the fixed part of every route with such a parameter (a link mangled in an e-mail
  still carries its token). Query strings are dropped;
- IPv4 and IPv6 literals become `[address]`;
- what looks like a credential becomes `[redacted]`: an Authorization header's value (colon
  or not), the value after `Bearer`/`Basic`/`ApiKey`/`Token`, a HIS API key's shape, a
  session or CSRF cookie, a hex string of 32 digits or more (a token's hash part, a SHA-256
  such as the phones' OTP bearer), a long mixed run of letters and digits (session ids,
  CSRF tokens), padded base64 (key data), and a string with the shape and check character
  of an OTP.

The first two are the rules; the third catches a secret that reached a message some other
way (an exception's text, a library's debug line). `authority.operations.logscan` checks the
result in CI: see docs/operations-logging.md.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from authority.formats.otp import ALPHABET, OTP_LENGTH, is_valid_otp

DEVICE_API_PREFIXES = ("/v1/ingestion/", "/v1/analytics/", "/v1/keys/")

# Route parameters a log may show: row ids, batch numbers, the names of pages, actions and
# formats. Every other parameter is replaced by its name, so a route that carries a secret is
# safe without anyone remembering to list it; a new public parameter is added here.
PUBLIC_ROUTE_PARAMETERS = frozenset(
    {
        "pk",
        "id",
        "index",
        "slug",
        "extension",
        "action",
        "app_label",
        "object_id",
        "content_type_id",
    }
)

# A Host header may be 8 KiB long: a suspicious request's line shows its beginning.
SUSPICIOUS_MESSAGE_LENGTH = 300

ADDRESS = "[address]"
REDACTED = "[redacted]"


class DeviceApiClientErrors(logging.Filter):
    """Drops django.request's records of 4xx answers on the device API."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        request = getattr(record, "request", None)
        path = getattr(request, "path", "")
        return not (
            status is not None and 400 <= status < 500 and path.startswith(DEVICE_API_PREFIXES)
        )


class SuspiciousRequestsOnOneLine(logging.Filter):
    """django.security's records (a Host header not in ALLOWED_HOSTS, a body too large, too
    many fields): one WARNING line of at most SUSPICIOUS_MESSAGE_LENGTH characters, without
    the traceback Django attaches. The client is at fault, and ~17 lines at ERROR for every
    bad Host header would let anyone flood the log, and bury what matters, for nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("django.security."):
            return True
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        if len(message) > SUSPICIOUS_MESSAGE_LENGTH:
            message = redact(message)[:SUSPICIOUS_MESSAGE_LENGTH] + "..."
        record.msg, record.args = message, ()
        record.exc_info = record.exc_text = record.stack_info = None
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class RedactSecrets(logging.Filter):
    """Rewrites a record's message, traceback and stack so that none holds an address or a
    secret (see the module's docstring). Never drops a record, never raises."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_redacted", False):  # a record goes through several handlers
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format: its arguments are not shown, as logging would
            message = f"{record.msg} [arguments withheld: they do not fit the message]"
        record.msg = redact(message)
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._redacted = True
        return True


def add_redaction(handlers: Iterable[logging.Handler]) -> None:
    """Puts RedactSecrets on handlers made by a library's own logging set-up (Celery's)."""
    for handler in handlers:
        if not any(isinstance(existing, RedactSecrets) for existing in handler.filters):
            handler.addFilter(RedactSecrets())


# --- Text ------------------------------------------------------------------------------------

# A URL (scheme://authority/path?query) or a path standing alone ("Not Found: /a/b", the
# request line in gunicorn's "Invalid request line" message), up to a space or a quote (a
# path already rewritten, with its <name> placeholders, reads the same the second time). A
# path is not preceded by a letter, digit or one of ./~:%- (so "a/b", "1/2" and the middle of
# a file name are not).
_URL_OR_PATH = re.compile(
    r"(?P<url>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"]*)"
    r"|(?<![\w./~:%-])(?P<path>/[^\s'\"]*)"
)
# Runs of hex digits, dots and colons with two colons or more: IPv6 candidates, each checked.
_IPV6_CANDIDATE = re.compile(r"[0-9A-Fa-f.:]*:[0-9A-Fa-f.:]*:[0-9A-Fa-f.:]*")
# Dotted quads (not checked: a version number that looks like one is no loss).
_IPV4 = re.compile(r"(?<![0-9.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9]|\.[0-9])")
# The value of an Authorization header, whatever its scheme, with or without the colon (a
# client that forgot it gets its whole header line in gunicorn's "Invalid HTTP Header: ..."):
# the scheme stays, the credential goes. A credential has a digit or a sign in it, or is long:
# "Authorization header missing" is no credential.
_AUTHORIZATION_HEADER = re.compile(
    r"(?i)(?<![A-Za-z0-9])((?:proxy-)?authorization)([\"']?+\s*+[:=]?+\s*+[\"']?+\s*+)"
    r"(?:([A-Za-z][A-Za-z0-9-]{1,19})\s+)?+(?!\[redacted\])"
    r"(?:(?=[^\s'\",;]*[0-9._~+/=-])[^\s'\",;]{8,}|[^\s'\",;]{20,})"
)
# "Bearer <token>", "ApiKey <key>" anywhere else (a token has a digit or a sign in it, an
# English word after "basic" has not), and the value after a name such as password=,
# csrftoken: or 'token': '.
_AUTHORIZATION = re.compile(
    r"(?i)\b(bearer|basic|apikey|token)\s+(?!\[redacted\])"
    r"(?=[A-Za-z0-9._~+/=-]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{8,}"
)
_NAMED_SECRET = re.compile(
    r"(?i)\b(\w*(?:password|passwd|secret|token|sessionid|uidb64|api_?key)\w*)"
    r"([\"']?\s*[=:]\s*[\"']?)(?!\[redacted\])[^\s,;'\"&<>]+"
)
_LONG_HEX = re.compile(r"(?<![0-9A-Za-z])[0-9A-Fa-f]{32,}(?![0-9A-Za-z])")
_LONG_MIXED = re.compile(
    r"(?<![0-9A-Za-z_-])(?=[0-9A-Za-z]*[0-9])(?=[0-9A-Za-z]*[A-Za-z])[0-9A-Za-z]{32,}"
    r"(?![0-9A-Za-z_-])"
)
# URL-safe base64 of 30 bytes or more, the shape of secrets.token_urlsafe (a HIS API key is
# 43 such characters): both cases of letters, "-" and "_" inside, where _LONG_MIXED, which
# stops at them, sees only short pieces. Python names are lower case, class names shorter.
_URLSAFE_TOKEN = re.compile(
    r"(?<![0-9A-Za-z_-])(?=[0-9A-Za-z_-]*[A-Z])(?=[0-9A-Za-z_-]*[a-z])[0-9A-Za-z_-]{40,}"
    r"(?![0-9A-Za-z_-])"
)
_PADDED_BASE64 = re.compile(r"(?<![0-9A-Za-z+/_-])[0-9A-Za-z+/_-]{14,}={1,2}(?![0-9A-Za-z+/=_-])")
_OTP_SHAPED = re.compile(rf"(?<![0-9A-Za-z])[{ALPHABET}]{{{OTP_LENGTH}}}(?![0-9A-Za-z])")


# Cheap first looks: most lines have no URL and name no credential.
_CREDENTIAL_WORD = re.compile(
    r"(?i)authorization|bearer|basic|password|passwd|secret|token|sessionid|uidb64|api_?key"
)


def _redact_authorization_header(match: re.Match[str]) -> str:
    name, separator, scheme = match.group(1, 2, 3)
    return f"{name}{separator}{scheme} {REDACTED}" if scheme else f"{name}{separator}{REDACTED}"


def redact(text: str) -> str:
    """`text` without addresses or secrets (see the module's docstring)."""
    if "/" in text:
        text = _URL_OR_PATH.sub(_redact_url_or_path, text)
    text = _IPV6_CANDIDATE.sub(_redact_ipv6, text)
    text = _IPV4.sub(ADDRESS, text)
    if _CREDENTIAL_WORD.search(text):
        text = _AUTHORIZATION_HEADER.sub(_redact_authorization_header, text)
        text = _AUTHORIZATION.sub(rf"\1 {REDACTED}", text)
        text = _NAMED_SECRET.sub(rf"\1\2{REDACTED}", text)
    text = _LONG_HEX.sub(REDACTED, text)
    text = _LONG_MIXED.sub(REDACTED, text)
    text = _URLSAFE_TOKEN.sub(REDACTED, text)
    text = _PADDED_BASE64.sub(REDACTED, text)
    return _OTP_SHAPED.sub(_redact_otp, text)


def _redact_url_or_path(match: re.Match[str]) -> str:
    if match["path"] is not None:
        path, question, _query = match["path"].partition("?")
        return loggable_path(path) + (f"?{REDACTED}" if question else "")
    scheme, _, rest = match["url"].partition("://")
    authority, slash, path = rest.partition("/")
    if "@" in authority:  # user:password@host
        authority = f"{REDACTED}@{authority.rpartition('@')[2]}"
    if not slash:
        authority, question, _query = authority.partition("?")
        return f"{scheme}://{authority}" + (f"?{REDACTED}" if question else "")
    path, question, _query = path.partition("?")
    return f"{scheme}://{authority}{loggable_path('/' + path)}" + (
        f"?{REDACTED}" if question else ""
    )


def _redact_ipv6(match: re.Match[str]) -> str:
    candidate = match[0]
    core = candidate.strip(".")
    if not is_ip_literal(core) and core.endswith(":"):
        core = core[:-1]  # "ip=::1: Invalid request"
    if not is_ip_literal(core):
        return candidate
    start = candidate.index(core)
    return candidate[:start] + ADDRESS + candidate[start + len(core) :]


def is_ip_literal(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _redact_otp(match: re.Match[str]) -> str:
    return REDACTED if is_valid_otp(match[0]) else match[0]


# --- URL paths -------------------------------------------------------------------------------

_ROUTE_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_REGEX_SYNTAX = re.compile(r"[\^$()\[\]\\.*+?{}|]")


def loggable_path(path: str) -> str:
    """The path of a request as a log may show it (see the module's docstring)."""
    if not path.startswith("/"):
        return path
    try:
        return _loggable_path(unquote(path))
    except _UrlsUnavailable:
        # Before Django is set up (gunicorn's master process, Celery before its workers
        # start) no request has been read: a path here is a file's.
        return path
    except Exception:
        return f"/{REDACTED}"


class _UrlsUnavailable(Exception):
    pass


def _loggable_path(path: str) -> str:
    from django.apps import apps

    if not apps.ready:
        raise _UrlsUnavailable
    from django.urls import get_resolver, get_urlconf

    return _loggable_path_in(get_resolver(get_urlconf()), path)


# Every access log line asks for one: resolving takes ~0.1 ms, a hit a microsecond. The paths
# stay in this process's memory, which served the requests anyway.
@lru_cache(maxsize=4096)
def _loggable_path_in(resolver: Any, path: str) -> str:
    from django.urls import Resolver404

    for candidate in (path,) if path.endswith("/") else (path, path + "/"):
        try:
            match = resolver.resolve(candidate)
        except Resolver404:
            continue
        return _with_secret_parameters_named(path, match.route, match.kwargs, match.args)
    # No route: cut after the fixed part of any route that carries a secret. Case and
    # repeated slashes are ignored, as a mangled link may have them.
    normalized = re.sub("/{2,}", "/", path).lower()
    for prefix in _secret_route_prefixes(resolver):
        if normalized.startswith(prefix.lower()):
            return prefix + REDACTED
    return path


def _with_secret_parameters_named(
    path: str, route: str, kwargs: dict[str, Any], args: tuple[Any, ...]
) -> str:
    if not args and all(name in PUBLIC_ROUTE_PARAMETERS for name in kwargs):
        return path
    if _REGEX_SYNTAX.search(_ROUTE_PARAMETER.sub("", route)) is None:
        # path() syntax throughout: rebuild the path from the route, parameter by parameter.
        def parameter(match: re.Match[str]) -> str:
            name = match["name"]
            if name in PUBLIC_ROUTE_PARAMETERS and name in kwargs:
                return str(kwargs[name])
            return f"<{name}>"

        return "/" + _ROUTE_PARAMETER.sub(parameter, route)
    # A regular expression somewhere in the route: keep its fixed start only.
    secret = next((name for name in kwargs if name not in PUBLIC_ROUTE_PARAMETERS), "")
    return "/" + _fixed_start(route) + (f"<{secret}>" if secret else REDACTED)


def _fixed_start(route: str) -> str:
    """The part of a route before its first parameter or regular-expression syntax."""
    route = route.replace("^", "")
    cut = len(route)
    for pattern in (_ROUTE_PARAMETER, _REGEX_SYNTAX):
        found = pattern.search(route)
        if found is not None:
            cut = min(cut, found.start())
    return route[:cut]


@lru_cache(maxsize=4)
def _secret_route_prefixes(resolver: Any) -> tuple[str, ...]:
    """The fixed start ("/accounts/invitation/") of every route with a secret parameter,
    shortest first."""
    from django.urls import URLResolver

    prefixes: set[str] = set()

    def walk(patterns: Iterable[Any], route: str, names: set[str]) -> None:
        for entry in patterns:
            regex = entry.pattern.regex
            level_names = set(regex.groupindex) | (
                {""} if regex.groups > len(regex.groupindex) else set()
            )
            full_route = route + str(entry.pattern)
            all_names = names | level_names
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, full_route, all_names)
            elif any(name not in PUBLIC_ROUTE_PARAMETERS for name in all_names):
                prefixes.add("/" + _fixed_start(full_route))

    walk(resolver.url_patterns, "", set())
    return tuple(sorted(prefixes, key=len))
