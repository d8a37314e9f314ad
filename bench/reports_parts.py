"""Where a report page's time goes: each query of the page (reports.page.page_parts) alone, for the last 30 days
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
    from reports.page import page_parts

    today = timezone.localdate()
    periods = [("last 30 days", ""), ("whole year", f"start={today - dt.timedelta(days=364)}&end={today}")]
    for label, query in periods:
        filters = ReportFilter(QueryDict(query))
        assert filters.is_valid(), filters.errors
        parts = page_parts(filters)
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
