"""Manager report pages: the per-rep table with charts and routing health, its CSV, and plotly's JS."""

from __future__ import annotations

import io

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import FileResponse, HttpResponse
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView, View

from . import charts, selectors, tables
from .exports import write_csv
from .filters import ReportFilter
from .templatetags.report_format import pct

COLUMNS = [
    # (sort key, heading, numeric)
    ("name", "Rep", False),
    ("team", "Team", False),
    ("assigned", "Assigned", True),
    ("open", "Open now", True),
    ("contacted", "Contacted", True),
    ("converted", "Converted", True),
    ("conversion_rate", "Conversion", True),
    ("median_speed", "Median speed-to-lead", True),
    ("within_5_min_share", "Contacted ≤ 5 min", True),
    ("assignment_accuracy", "Accuracy", True),
    ("misrouted", "Misrouted", True),
    ("reassigned", "Reassigned ≤ 7 d", True),
    ("load", "Load", True),
]


class ReportAccessMixin(PermissionRequiredMixin):
    """Users holding reports.view_reports (the Managers group gives it; superusers hold every permission).
    Staff status alone is not enough. Anonymous → the login page, others → 403."""

    permission_required = "reports.view_reports"
    login_url = reverse_lazy("reports:login")


class RepReportView(ReportAccessMixin, TemplateView):
    template_name = "reports/report.html"

    def get(self, request, *args, **kwargs):
        filters = ReportFilter(request.GET)
        context = self.get_context_data(filters=filters)
        if not filters.is_valid():
            return self.render_to_response(context, status=400)
        sort = request.GET.get("sort", "name")
        assignments, reps = filters.qs, filters.reps()  # built here, not raced for by two threads
        report, health = selectors.side_by_side(
            lambda: selectors.rep_report(assignments=assignments.all(), reps=reps.all()),
            lambda: {
                "per_day": selectors.leads_per_day_by_team(assignments.all()),
                "coverage": selectors.rule_coverage(filters.leads(), since=filters.since),
                "waiting": selectors.waiting_now(filters.leads(whole_history=True)),
                "fairness": selectors.pool_fairness(assignments=assignments.all(), reps=reps.all()),
                "sources": selectors.sources_seen(since=filters.since, until=filters.until),
            },
        )
        report.rows = selectors.sort_rows(report.rows, sort)
        start, end = filters.period
        per_day_figure, per_day_table = charts.leads_per_day(health["per_day"], start, end)
        speed_figure, speed_table = charts.speed_distribution(report.total)
        context.update(
            report=report,
            columns=_columns(filters, sort),
            csv_url=f"{reverse('reports:reps_csv')}?{filters.query_string()}",
            figures={
                "conversion": charts.rate_per_rep(report.rows, "conversion_rate", "Conversion rate"),
                "accuracy": charts.rate_per_rep(report.rows, "assignment_accuracy", "Assignment accuracy"),
                "per_day": per_day_figure,
                "speed": speed_figure,
            },
            tables={
                "reps": tables.rep_rows(report.rows),
                "total": tables.total_row(report.total),
                "conversion": tables.simple_rows(
                    [[r.name, r.assigned, r.converted, pct(r.conversion_rate)] for r in report.rows if r.assigned]
                ),
                "accuracy": tables.simple_rows(
                    [
                        [r.name, r.assignments, r.misrouted, r.reassigned, pct(r.assignment_accuracy)]
                        for r in report.rows
                        if r.assignments
                    ]
                ),
                "per_day": tables.simple_rows(
                    [[p["day"].isoformat(), p["team"], p["leads"]] for p in per_day_table], numeric_from=2
                ),
                "speed": tables.simple_rows([[b["bucket"], b["assignments"]] for b in speed_table]),
            },
            coverage=health["coverage"],
            waiting=health["waiting"],
            fairness=health["fairness"],
            sources=health["sources"],
            plotly_url=f"{reverse('reports:plotly_js')}?v={charts.PLOTLY_VERSION}",
        )
        return self.render_to_response(context)


def _columns(filters: ReportFilter, sort: str) -> list[dict]:
    """Table headings with their sort links: a click sorts by the column, a second click reverses it."""
    out = []
    for key, label, numeric in COLUMNS:
        current = sort.lstrip("-") == key
        descending = sort.startswith("-")
        next_sort = ("" if descending else "-") + key if current else key
        out.append(
            {
                "key": key,
                "label": label,
                "numeric": numeric,
                "url": "?" + filters.query_string(sort=next_sort),
                "aria_sort": ("descending" if descending else "ascending") if current else "none",
            }
        )
    return out


class RepReportCsvView(ReportAccessMixin, View):
    """/reports/reps.csv?start=&end=&team=&territory=&source=&sort= — the table as shown."""

    def get(self, request, *args, **kwargs):
        filters = ReportFilter(request.GET)
        if not filters.is_valid():
            errors = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in filters.errors.items())
            return HttpResponse(f"Bad filters: {errors}\n", status=400, content_type="text/plain; charset=utf-8")
        with selectors.report_queries():
            report = selectors.rep_report(assignments=filters.qs, reps=filters.reps())
        report.rows = selectors.sort_rows(report.rows, request.GET.get("sort", "name"))
        out = io.StringIO()
        write_csv(report, out)
        start, end = filters.period
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="reps-{start:%Y%m%d}-{end:%Y%m%d}.csv"'
        return response


@require_GET
def plotly_js(request):
    """plotly.min.js from the installed plotly package (no CDN); the URL carries the version, so cache long."""
    response = FileResponse(open(charts.PLOTLY_JS, "rb"), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
