"""Values written into files people open in a spreadsheet (CSV, XLSX): never a live formula.

OWASP "CSV Injection": a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
may be run as a formula by Excel, LibreOffice or Google Sheets. Such a text value is written
with a leading `'`, which the spreadsheet shows as text. Only the export is changed: what was
posted or imported is stored exactly as it was sent. Every export (the admin's lead export in
each format, /reports/reps.csv, any CSV to come) passes its cells through `spreadsheet_safe`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """`value` as a spreadsheet cell: text that could start a formula gets a leading `'`; other values as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def spreadsheet_safe_row(values: Iterable[Any]) -> list[Any]:
    return [spreadsheet_safe(value) for value in values]
