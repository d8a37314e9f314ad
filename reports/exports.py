"""The per-rep table as CSV: the rows and totals the page shows, fractions 0–1, durations in seconds.
Names that could start a spreadsheet formula get a leading `'` (leadops.exports.spreadsheet_safe)."""

from __future__ import annotations

import csv
from collections.abc import Iterable

from leadops.exports import spreadsheet_safe

from .selectors import RepReport, RepRow

# (CSV column, RepRow attribute); fractions are 0–1, the median in seconds.
CSV_COLUMNS = [
    ("rep_name", "name"),
    ("rep_email", "email"),
    ("team", "team"),
    ("assigned", "assigned"),
    ("open", "open"),
    ("capacity", "capacity"),
    ("load", "load"),
    ("contacted", "contacted"),
    ("converted", "converted"),
    ("conversion_rate", "conversion_rate"),
    ("median_speed_to_lead_seconds", "median_speed"),
    ("contacted_within_5_min_share", "within_5_min_share"),
    ("assignments", "assignments"),
    ("misrouted", "misrouted"),
    ("reassigned", "reassigned"),
    ("assignment_accuracy", "assignment_accuracy"),
]


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value % 1 else str(int(value))
    return value


def csv_rows(report: RepReport) -> Iterable[list]:
    yield [name for name, _ in CSV_COLUMNS]
    rows: list[RepRow] = [*report.rows, report.total]
    for row in rows:
        yield [_cell(spreadsheet_safe(getattr(row, attr))) for _, attr in CSV_COLUMNS]


def write_csv(report: RepReport, out) -> None:
    writer = csv.writer(out)
    writer.writerows(csv_rows(report))
