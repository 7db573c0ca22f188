"""/health for load balancers and /metrics for Prometheus."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from authority.accounts.access import public
from authority.operations.health import is_healthy, run_checks, run_warnings
from authority.operations.prometheus import AuthorityCollector


@public
@never_cache
def health_view(request: HttpRequest) -> JsonResponse:
    """200 when every dependency answers, 503 otherwise; says which, never why (that is logged).
    Warnings (a Redis that may evict keys) leave the status alone: nothing is down yet."""
    results = run_checks()
    healthy = is_healthy(results)
    return JsonResponse(
        {"status": "ok" if healthy else "down", "checks": results, "warnings": run_warnings()},
        status=200 if healthy else 503,
    )


_registry = CollectorRegistry(
    auto_describe=False
)  # collect() reads the database: only at scrape time
_registry.register(AuthorityCollector())


@public
@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Aggregate figures only. Needs `Authorization: Bearer METRICS_TOKEN` when one is set; in
    production without a token the endpoint does not exist."""
    token = settings.METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(sent.encode(), token.encode()):
            return HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
    elif settings.PRODUCTION:
        raise Http404
    return HttpResponse(generate_latest(_registry), content_type=CONTENT_TYPE_LATEST)
