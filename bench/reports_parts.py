"""Where a report page's time goes: each query of reports.page.page_figures alone, for the last 30 days
and the whole year, on a database bench/reports.py generated and kept (--keep). Prints figures, asserts
nothing.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/leadops_bench_reports .venv/bin/python bench/reports_parts.py

Each part runs in the report's own transaction settings (selectors.report_queries); the median of 3 in
wall time (one query, one core), with the load average.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def load() -> str:
    return open("/proc/loadavg").read().split(" ", 1)[0]


def page_parts(selectors, filters) -> dict:
    """Each query of reports.page.page_figures alone, as a callable."""
    assignments, reps = filters.qs, filters.reps()
    return {
        "per-rep figures": lambda: selectors.assignment_metrics(
            assignments.filter(outcome="assigned"), filters.sla_due()
        ),
        "reps with load": lambda: list(selectors.reps_with_load(reps.all())),
        "leads per day": lambda: selectors.leads_per_day_by_team(assignments.all()),
        "rule coverage": lambda: selectors.rule_coverage(filters.leads(), since=filters.since),
        "never fired": lambda: selectors.never_fired(filters.decisions()),
        "waiting now": lambda: selectors.waiting_now(filters.leads(whole_history=True)),
        "pool fairness": lambda: selectors.pool_fairness(assignments=assignments.all(), reps=reps.all()),
        "SLA card": lambda: selectors.sla_health(due=filters.sla_due(), current=filters.current()),
        "sources": lambda: selectors.sources_seen(since=filters.since, until=filters.until),
    }


def main() -> None:
    os.environ["DATABASE_URL"] = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/leadops_bench_reports"
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadops.settings")
    import django

    django.setup()
    from django.http import QueryDict
    from django.utils import timezone

    from reports import selectors
    from reports.filters import ReportFilter

    today = timezone.localdate()
    periods = [("last 30 days", ""), ("whole year", f"start={today - dt.timedelta(days=364)}&end={today}")]
    for label, query in periods:
        filters = ReportFilter(QueryDict(query))
        assert filters.is_valid(), filters.errors
        parts = page_parts(selectors, filters)
        print(f"{label}:")
        total = 0.0
        for name, work in parts.items():
            times = []
            for _ in range(3):
                started = time.perf_counter()
                with selectors.report_queries():
                    work()
                times.append(time.perf_counter() - started)
            total += statistics.median(times)
            print(f"  {name:20} {statistics.median(times):7.3f} s  load {load()}", flush=True)
        print(f"  {'sum':20} {total:7.3f} s")


if __name__ == "__main__":
    main()
