"""The statistics pages: the overview, one JSON endpoint per chart, exports, and the open data."""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.utils.html import json_script
from django.utils.http import http_date
from django.utils.translation import get_language
from django.views.decorators.http import require_GET
from plotly.utils import PlotlyJSONEncoder

from authority.accounts import permissions
from authority.accounts.access import public
from authority.api.errors import ErrorCode, error_body
from authority.dashboard import charts, exports, opendata, overview
from authority.dashboard.charts import Audience, Chart, ChartData, figures
from authority.dashboard.forms import scope_from_request
from authority.dashboard.selectors import Scope


def _may_see(user: permissions.Visitor, chart: Chart, scope: Scope) -> bool:
    if chart.audience is Audience.ADMINISTRATORS:
        return permissions.can_view_device_traffic(user)
    if chart.audience is Audience.NATIONAL:
        return scope.region is None and permissions.can_compare_regions(user)
    if chart.audience is Audience.REGIONAL:
        return permissions.can_view_operator_statistics(user, scope.region)
    return True


def _chart_data(chart: Chart, scope: Scope) -> ChartData:
    """Built from the counters, then served from the cache for a while (per language)."""
    key = f"dashboard:{chart.slug}:{get_language()}:{scope.cache_key}"
    data: ChartData | None = cache.get(key)
    if data is None:
        data = chart.build(scope)
        if settings.DASHBOARD_CACHE_SECONDS:
            cache.set(key, data, settings.DASHBOARD_CACHE_SECONDS)
    return data


def _chart_for(
    request: HttpRequest, slug: str, *, extension: str = "json"
) -> tuple[Chart, Scope, ChartData | HttpResponse]:
    """The chart, its scope and its data; instead of the data, a 400 naming what is wrong
    with the filter: a data endpoint never answers for a period other than the one asked."""
    chart = charts.CHARTS_BY_SLUG.get(slug)
    if chart is None:
        raise Http404
    form, scope = scope_from_request(request.GET, request.user)
    if not _may_see(request.user, chart, scope):
        raise PermissionDenied
    if form.is_bound and not form.is_valid():
        errors = {field: [str(m) for m in messages] for field, messages in form.errors.items()}
        return chart, scope, _refusal(errors, as_csv=extension == "csv")
    return chart, scope, _chart_data(chart, scope)


def _refusal(errors: dict[str, list[str]], *, as_csv: bool) -> HttpResponse:
    if as_csv:
        lines = [message for messages in errors.values() for message in messages]
        return HttpResponse(
            "\n".join(lines) + "\n", status=400, content_type="text/plain; charset=utf-8"
        )
    return JsonResponse({"errors": errors}, status=400, json_dumps_params={"ensure_ascii": False})


@require_GET
def overview_view(request: HttpRequest) -> HttpResponse:
    """The headline and every chart the person may see, each chart's figure in the page
    (json_script): drawn as soon as plotly.js has loaded, with no request per chart.

    A filter that does not validate draws the default period's charts (the form says why)."""
    form, scope = scope_from_request(request.GET, request.user)
    query = scope_query(scope)
    visible = []
    for chart in charts.CHARTS:
        if not _may_see(request.user, chart, scope):
            continue
        data = _chart_data(chart, scope)
        figure = json_script(
            _chart_body(chart, data), f"chart-{chart.slug}-figure", encoder=PlotlyJSONEncoder
        )
        notes = [] if data.empty else data.notes
        visible.append({"chart": chart, "query": query, "figure": figure, "notes": notes})
    return render(
        request,
        "dashboard/overview.html",
        {
            "form": form,
            "scope": scope,
            "headline": overview.headline(scope),
            "charts": visible,
            "query": query,
        },
    )


def scope_query(scope: Scope) -> str:
    params = {"since": scope.since.isoformat(), "until": scope.until.isoformat()}
    if scope.region is not None:
        params["region"] = scope.region.code
    return urlencode(params)


def _chart_body(chart: Chart, data: ChartData) -> dict[str, Any]:
    return {
        "slug": chart.slug,
        "title": str(chart.title),
        "empty": data.empty,
        "notes": data.notes,
        "figure": data.figure,
    }


@require_GET
def chart_view(request: HttpRequest, slug: str) -> HttpResponse:
    """What dashboard.js draws: the figure, and whether there is anything to draw."""
    chart, _scope, data = _chart_for(request, slug)
    if isinstance(data, HttpResponse):
        return data
    response = HttpResponse(
        figures.encode(_chart_body(chart, data)), content_type="application/json"
    )
    patch_cache_control(response, private=True, max_age=settings.DASHBOARD_CACHE_SECONDS)
    return response


@require_GET
def chart_export_view(request: HttpRequest, slug: str, extension: str) -> HttpResponse:
    """A chart's table to download, small counts withheld (DESIGN.md 3.6) as in the open data:
    an export, unlike the charts drawn for staff on the page, which stay exact."""
    chart, scope, data = _chart_for(request, slug, extension=extension)
    if isinstance(data, HttpResponse):
        return data
    table = _export_table(chart, scope, data)
    name = f"{chart.slug}_{scope.region_code or 'IT'}_{scope.since}_{scope.until}"
    if extension == "csv":
        response = _csv_response(table.csv_rows(), f"{name}.csv")
    else:
        response = JsonResponse(
            {
                "chart": chart.slug,
                "title": str(chart.title),
                "since": scope.since.isoformat(),
                "until": scope.until.isoformat(),
                "region": scope.region_code or None,
                "suppression_threshold": table.k,
                "columns": [{"key": c.key, "label": str(c.label)} for c in table.columns],
                "rows": table.records(),
            },
            json_dumps_params={"ensure_ascii": False},
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.json"'
    patch_cache_control(response, private=True, max_age=settings.DASHBOARD_CACHE_SECONDS)
    return response


def _export_table(chart: Chart, scope: Scope, data: ChartData) -> exports.ExportTable:
    """Withholding reads every area's counters over the period: cached like the chart."""
    k = settings.STATISTICS_SUPPRESS_BELOW
    key = f"dashboard-export:{chart.slug}:{get_language()}:{k}:{scope.cache_key}"
    table: exports.ExportTable | None = cache.get(key)
    if table is None:
        table = exports.export_table(data.table, scope, k=k)
        if settings.DASHBOARD_CACHE_SECONDS:
            cache.set(key, table, settings.DASHBOARD_CACHE_SECONDS)
    return table


def _csv_response(rows: list[list[Any]], filename: str) -> HttpResponse:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Open data ----------------------------------------------------------------------------------


@public
@require_GET
def open_data_view(request: HttpRequest, extension: str) -> HttpResponse:
    """National and regional daily figures, small counts withheld; anyone may download them."""
    try:
        since, until = opendata.requested_range(request.GET)
    except ValueError as error:
        return JsonResponse(error_body(ErrorCode.SCHEMA, str(error)), status=400)
    key = f"open-data:{extension}:{since}:{until}"
    cached = cache.get(key)
    if cached is None:
        table = opendata.daily_table(since=since, until=until)
        if extension == "csv":
            buffer = io.StringIO()
            csv.writer(buffer).writerows(opendata.csv_rows(table))
            cached = (buffer.getvalue().encode(), "text/csv; charset=utf-8", http_date())
        else:
            body = json.dumps(opendata.json_document(table), ensure_ascii=False)
            cached = (body.encode(), "application/json", http_date())
        cache.set(key, cached, settings.OPEN_DATA_CACHE_SECONDS)
    content, content_type, modified = cached
    response = HttpResponse(content, content_type=content_type)
    if extension == "csv":
        response["Content-Disposition"] = f'attachment; filename="daily_{since}_{until}.csv"'
    response["Last-Modified"] = modified
    patch_cache_control(response, public=True, max_age=settings.OPEN_DATA_CACHE_SECONDS)
    response["Access-Control-Allow-Origin"] = "*"
    return response
