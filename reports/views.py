"""Manager report pages: the per-rep table with charts and routing health, its CSV, and plotly's JS."""

from __future__ import annotations

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse_lazy
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView, View

from reps.models import Rep

from . import charts
from .filters import ReportFilter
from .page import rep_report_csv, rep_report_page
from .rep_page import rep_page


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
        context.update(rep_report_page(filters=filters, sort=request.GET.get("sort", "name")))
        return self.render_to_response(context)


class RepPageView(ReportAccessMixin, TemplateView):
    """One rep for managers: their figures for the period (same filters as the report) and their leads."""

    template_name = "reports/rep.html"

    def get(self, request, *args, **kwargs):
        rep = get_object_or_404(Rep.objects.select_related("team"), pk=kwargs["rep_id"])
        filters = ReportFilter(request.GET)
        context = self.get_context_data(filters=filters, rep=rep)
        if not filters.is_valid():
            return self.render_to_response(context, status=400)
        figures, leads, total = rep_page(rep=rep, assignments=filters.qs, due=filters.sla_due())
        context.update(figures=figures, leads=leads, total=total, shown=len(leads), query=filters.query_string())
        return self.render_to_response(context)


class RepReportCsvView(ReportAccessMixin, View):
    """/reports/reps.csv?start=&end=&team=&territory=&source=&sort= — the table as shown."""

    def get(self, request, *args, **kwargs):
        filters = ReportFilter(request.GET)
        if not filters.is_valid():
            errors = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in filters.errors.items())
            return HttpResponse(f"Bad filters: {errors}\n", status=400, content_type="text/plain; charset=utf-8")
        filename, body = rep_report_csv(filters=filters, sort=request.GET.get("sort", "name"))
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


@require_GET
def plotly_js(request):
    """plotly.min.js from the installed plotly package (no CDN); the URL carries the version, so cache long."""
    response = FileResponse(open(charts.PLOTLY_JS, "rb"), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
