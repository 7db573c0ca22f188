"""What keeping addresses and secrets out of the logs costs per line, next to what formatting
the line costs anyway. Prints one JSON line (microseconds per call, medians of 7 runs).

    .venv/bin/python benchmarks/log_redaction.py

- access_path_cached / access_path_uncached: the path the access log shows for one request
  (GunicornLogger.atoms), a path seen before (the phones' few endpoints) and a new one;
- gunicorn_atoms: all the access log's atoms for one request;
- django_line / traceback: RedactSecrets on a django.request warning, and on an error record
  with a 20-frame traceback;
- format_line: logging.Formatter formatting the django.request line, the cost every line pays.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import sys
import timeit
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authority.settings")

import django

django.setup()

from gunicorn.config import Config  # noqa: E402

from authority.operations.gunicorn_logging import GunicornLogger  # noqa: E402
from authority.operations.logging import RedactSecrets, loggable_path  # noqa: E402


def microseconds(call, number: int = 2000) -> float:
    runs = [timeit.timeit(call, number=number) / number * 1e6 for _ in range(7)]
    return round(statistics.median(runs), 2)


def record(message: str, *args: object, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, message, args, exc_info
    )


def deep_traceback(depth: int = 20):
    def dive(level: int) -> None:
        if level == 0:
            raise ConnectionError('connection to server at "10.0.0.5", port 5432 failed')
        dive(level - 1)

    try:
        dive(depth)
    except ConnectionError:
        return sys.exc_info()


def main() -> None:
    redact = RedactSecrets()
    loggable_path("/warm-up")
    counter = iter(range(10**9))
    config = Config()
    config.set("accesslog", "/dev/null")
    gunicorn = GunicornLogger(config)
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": "/v1/ingestion/upload",
        "PATH_INFO": "/v1/ingestion/upload",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.7",
    }
    request = SimpleNamespace(headers=[("USER-AGENT", "Immuni/2.6.0")])
    response = SimpleNamespace(status="204 No Content", sent=0, headers=[])
    exc_info = deep_traceback()
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    figures = {
        "access_path_cached": microseconds(lambda: loggable_path("/v1/ingestion/upload")),
        "access_path_uncached": microseconds(
            lambda: loggable_path(f"/v1/keys/{next(counter)}"), number=500
        ),
        "gunicorn_atoms": microseconds(
            lambda: gunicorn.atoms(response, request, environ, timedelta(milliseconds=170))
        ),
        "django_line": microseconds(
            lambda: redact.filter(record("Not Found: %s", "/accounts/invitation/MQ/abc-123/"))
        ),
        "traceback": microseconds(
            lambda: redact.filter(record("Internal Server Error: %s", "/x", exc_info=exc_info)),
            number=200,
        ),
        "format_line": microseconds(
            lambda: formatter.format(record("Not Found: %s", "/accounts/people/")),
        ),
    }
    print(json.dumps({"benchmark": "log_redaction", "unit": "microseconds", **figures}))


if __name__ == "__main__":
    main()
