"""The manager report page and its CSV put together: valid filters in, what the template (or the
CSV file) shows out. The views (reports/views.py) only check access and translate the request.

Every query runs in one report transaction (selectors.report_queries): on the request's connection, and for a
long period (REPORT_SECOND_CONNECTION_DAYS) about half of them on a second connection at once, in the same
snapshot (selectors.side_by_side). Views asking for the same filters at about the same time share one
computation of the figures (reports/cache.py).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable

from django.conf import settings
from django.urls import reverse

from . import charts, selectors, tables
from .cache import figures_cached, figures_key, figures_shared
from .columns import REP_CHARTS, TABLE_COLUMNS
from .exports import write_csv
from .filters import ReportFilter
from .rollups import RollupSlice, rollup_slice


def page_parts(filters: ReportFilter, *, split_medians: bool = False) -> dict[str, Callable[[], object]]:
    """Each figure of the page as a query to run (in a report transaction): page_figures runs them all,
    bench/reports_parts.py times them one by one. `split_medians`: the per-rep table's medians as a part of
    their own ("medians"), to be read beside the rest of the table (figures_side_by_side puts them in)."""
    assignments, reps = filters.qs, filters.reps()
    # The routing-health panel follows the team and territory too, where a figure belongs to reps.
    scope = reps.all() if filters.narrowed else None
    # Read once by the first figure that needs it (once on each connection when the page reads on two: the
    # same snapshot, so the same answer).
    rollups = functools.cache(lambda: rollups_for(filters))
    parts: dict[str, Callable[[], object]] = {
        "report": lambda: selectors.rep_report(
            assignments=assignments.all(),
            due=filters.sla_due(),
            reps=reps.all(),
            speed_buckets=True,
            rollups=rollups(),
            narrowed=filters.narrowed,
            medians=not split_medians,
        ),
        "per_day": lambda: selectors.leads_per_day_by_team(assignments.all(), rollups=rollups(), reps=scope),
        "coverage": lambda: selectors.rule_coverage(
            since=filters.since, until=filters.until, source=filters.lead_source, reps=scope, rollups=rollups()
        ),
        "never_fired": lambda: selectors.never_fired(filters.decisions()),
        "waiting": lambda: selectors.waiting_now(filters.leads(whole_history=True), reps=scope),
        "fairness": lambda: selectors.pool_fairness(
            assignments=assignments.all(), reps=reps.all(), rollups=rollups(), narrowed=filters.narrowed
        ),
        "sla": lambda: selectors.sla_health(
            due=filters.sla_due(), current=filters.current(), rollups=None if filters.narrowed else rollups()
        ),
        "sources": lambda: selectors.sources_seen(since=filters.since, until=filters.until),
    }
    if split_medians:
        parts["medians"] = lambda: selectors.speed_medians(assignments.all())
    return parts


# What a second connection reads when the page reads on two: about half of a long period's work. The year of
# bench/reports.py, timed inside the page with every rollup: the medians (0.45 s) and pool fairness (0.19 s)
# beside the table's counts (0.26–0.29 s), leads per day (0.26–0.32 s) and the small ones (README, Benchmarks).
BESIDE = frozenset({"medians", "fairness"})


def two_connections(filters: ReportFilter) -> bool:
    """Whether the filters' figures are read on two connections at once: a period of at least
    REPORT_SECOND_CONNECTION_DAYS days (0: never), where selectors.side_by_side can. A short period's
    queries take less than the second connection would save."""
    start, end = filters.period
    days = settings.REPORT_SECOND_CONNECTION_DAYS
    return bool(days) and (end - start).days + 1 >= days and selectors.second_connection_possible()


def figures_side_by_side(parts: dict[str, Callable[[], object]], *, two: bool) -> dict:
    """Run `parts` (page_parts, or some of them): with `two` (two_connections), the BESIDE ones on a second
    connection; and put split medians into the per-rep table."""
    beside = {name: compute for name, compute in parts.items() if two and name in BESIDE}
    here = {name: compute for name, compute in parts.items() if name not in beside}
    figures = selectors.side_by_side(here, beside)
    if "medians" in figures:
        selectors.with_medians(figures["report"], figures.pop("medians"))
    return figures


def rollups_for(filters: ReportFilter) -> RollupSlice | None:
    """What the rollups can give of the filters' period (none with a source chosen: they hold no source).
    Called inside the report's transaction, so it is read in the figures' own snapshot."""
    return None if filters.lead_source else rollup_slice(*filters.period)


def page_figures(filters: ReportFilter) -> dict:
    """Every figure of the page, from the database: what managers asking for the same filters share."""
    two = two_connections(filters)
    return figures_side_by_side(page_parts(filters, split_medians=two), two=two)


def page_figures_key(filters: ReportFilter) -> str:
    data = filters.form.cleaned_data
    values = {name: data.get(name) for name in ("team", "territory", "source")}
    values = {name: getattr(value, "pk", value) or "" for name, value in values.items()}
    start, end = filters.period
    return figures_key("page", {**values, "start": start, "end": end})


def rep_report_page(*, filters: ReportFilter, sort: str) -> dict:
    """The page's context: the per-rep table, its charts with their data tables, the routing-health panel.
    The figures are shared with the managers asking for the same filters at about the same time
    (reports/cache.py); the context says when they were computed."""
    figures, as_of = figures_shared(page_figures_key(filters), lambda: page_figures(filters))
    report, per_day = figures["report"], figures["per_day"]
    report.rows = selectors.sort_rows(report.rows, sort)
    start, end = filters.period
    per_day_figure, per_day_table = charts.leads_per_day(per_day, start, end)
    speed_figure, speed_table = charts.speed_distribution(report.total)
    rep_charts = [
        {
            "chart": chart,
            "figure": charts.rate_per_rep(report.rows, chart),
            "rows": tables.chart_rows(chart, report.rows),
        }
        for chart in REP_CHARTS
    ]
    return {
        "report": report,
        "columns": headings(filters, sort),
        "csv_url": f"{reverse('reports:reps_csv')}?{filters.query_string()}",
        "rep_charts": rep_charts,
        "figures": {
            **{item["chart"].key: item["figure"] for item in rep_charts},
            "per_day": per_day_figure,
            "speed": speed_figure,
        },
        "tables": {
            "reps": tables.rep_rows(report.rows),
            "total": tables.total_row(report.total),
            **{item["chart"].key: item["rows"] for item in rep_charts},
            "per_day": tables.simple_rows(
                [[p["day"].isoformat(), p["team"], p["leads"]] for p in per_day_table], numeric_from=2
            ),
            "speed": tables.simple_rows([[b["bucket"], b["assignments"]] for b in speed_table]),
        },
        "coverage": figures["coverage"],
        "never_fired": figures["never_fired"],
        "waiting": figures["waiting"],
        "sla": figures["sla"],
        "narrowed": filters.narrowed,
        "by_breaches_url": "?" + filters.query_string(sort="-sla_breaches") + "#rep-table",
        "fairness": figures["fairness"],
        "sources": figures["sources"],
        "as_of": as_of,
        "shared_seconds": settings.REPORT_CACHE_SECONDS,
        "plotly_url": f"{reverse('reports:plotly_js')}?v={charts.PLOTLY_VERSION}",
    }


def headings(filters: ReportFilter, sort: str) -> list[dict]:
    """Table headings with their sort links: a click sorts by the column, a second click reverses it."""
    out = []
    for column in TABLE_COLUMNS:
        current = sort.lstrip("-") == column.key
        descending = sort.startswith("-")
        next_sort = ("" if descending else "-") + column.key if current else column.key
        out.append(
            {
                "key": column.key,
                "label": column.label,
                "numeric": column.numeric,
                "url": "?" + filters.query_string(sort=next_sort),
                "aria_sort": ("descending" if descending else "ascending") if current else "none",
            }
        )
    return out


def rep_report_csv(*, filters: ReportFilter, sort: str) -> tuple[str, str]:
    """The per-rep table as the page shows it (same filters and sort): (file name, CSV text).

    The page's own figures when they are cached (so the file says what the page says), else the table alone."""
    cached = figures_cached(page_figures_key(filters))
    if cached is not None:
        report = cached[0]["report"]
    else:
        two = two_connections(filters)
        parts = {
            "report": lambda: selectors.rep_report(
                assignments=filters.qs,
                due=filters.sla_due(),
                reps=filters.reps(),
                rollups=rollups_for(filters),
                narrowed=filters.narrowed,
                medians=not two,
            )
        }
        if two:
            parts["medians"] = lambda: selectors.speed_medians(filters.qs)
        report = figures_side_by_side(parts, two=two)["report"]
    report.rows = selectors.sort_rows(report.rows, sort)
    out = io.StringIO()
    write_csv(report, out)
    start, end = filters.period
    return f"reps-{start:%Y%m%d}-{end:%Y%m%d}.csv", out.getvalue()
