"""gunicorn's logger for this project (gunicorn.conf.py `logger_class`): an access log that
cannot show a client address, a user agent, a referrer, a query string or a secret in a path,
whatever `access_log_format` asks for, and an error log that goes through RedactSecrets
("Invalid request from ip=..." with the request line it could not parse)."""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from gunicorn.config import Config
from gunicorn.glogging import Logger

from authority.operations.logging import RedactSecrets, loggable_path

if TYPE_CHECKING:
    # Types of gunicorn's stubs only (types-gunicorn): the atoms dictionary, a request, a response.
    from gunicorn.glogging import _AtomsDict
    from gunicorn.http import Request
    from gunicorn.http.wsgi import Response


class GunicornLogger(Logger):
    def setup(self, cfg: Config) -> None:
        super().setup(cfg)
        # On the logger, not its handlers: every handler gunicorn or a log configuration file
        # gives it (console, file, syslog) sees only rewritten records. The access log needs
        # no filter: its atoms below are safe whatever the format (and it is the busy one).
        if not any(isinstance(existing, RedactSecrets) for existing in self.error_log.filters):
            self.error_log.addFilter(RedactSecrets())

    def atoms(
        self,
        resp: Response,
        req: Request,
        environ: MutableMapping[str, Any],
        request_time: timedelta,
    ) -> _AtomsDict:
        """gunicorn's atoms less everything a request carries that is not the method, the
        route and the protocol: no %(h)s address, %(a)s user agent, %(f)s referrer (it would
        name the invitation page a browser came from), %(u)s user, %(q)s query string, and no
        header or environment atoms ({name}i, {name}o, {name}e), which read "-"."""
        atoms = super().atoms(resp, req, environ, request_time)
        path = loggable_path(environ.get("PATH_INFO") or getattr(req, "path", "") or "")
        method = environ.get("REQUEST_METHOD") or "-"
        protocol = environ.get("SERVER_PROTOCOL") or "-"
        # At run time gunicorn's dictionary also holds the header and environment atoms, which
        # its stubs do not name: what is left once they are dropped is the stubs' dictionary.
        safe = cast(
            "_AtomsDict",
            {name: value for name, value in atoms.items() if not name.startswith("{")},
        )
        safe.update(
            {
                "h": "-",
                "u": "-",
                "f": "-",
                "a": "-",
                "q": "",
                "U": path,
                "r": f"{method} {path} {protocol}",
            }
        )
        return safe
