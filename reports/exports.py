"""The per-rep table as CSV (reports.columns.CSV_COLUMNS, in their order): the rows and totals the
page shows, fractions 0–1, durations in seconds.
Names that could start a spreadsheet formula get a leading `'` (leadops.exports.spreadsheet_safe)."""

from __future__ import annotations

import csv
from collections.abc import Iterable

from leadops.exports import spreadsheet_safe

from .columns import CSV_COLUMNS
from .selectors import RepReport, RepRow


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value % 1 else str(int(value))
    return value


def csv_rows(report: RepReport) -> Iterable[list]:
    yield [column.csv for column in CSV_COLUMNS]
    rows: list[RepRow] = [*report.rows, report.total]
    for row in rows:
        yield [_cell(spreadsheet_safe(getattr(row, column.key))) for column in CSV_COLUMNS]


def write_csv(report: RepReport, out) -> None:
    writer = csv.writer(out)
    writer.writerows(csv_rows(report))
