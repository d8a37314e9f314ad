"""Import leads from CSV / XLSX files in constant memory: stream rows, clean each one (so every
error keeps its line number and bad value), store valid rows in batches through `leads_store`
(same dedupe as the API; routing enqueued as each batch commits).

Header names are matched loosely ("First Name" → first_name, "zip" → postal_code);
`extra.<key>` columns go into `extra`; other unknown columns are ignored.
"""
from __future__ import annotations

import csv
from contextlib import nullcontext
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from leadops.services.errors import IntakeError
from leadops.services.leads import CREATED, DUPLICATE, leads_store
from leadops.services.normalise import lead_input_clean

IMPORT_SOURCE = "import"
BATCH_SIZE = 1000
ERROR_SAMPLES = 200
COLUMN_ALIASES = {
    "e-mail": "email", "email_address": "email", "mail": "email",
    "firstname": "first_name", "first": "first_name", "given_name": "first_name",
    "lastname": "last_name", "last": "last_name", "surname": "last_name", "family_name": "last_name",
    "phone_number": "phone", "telephone": "phone", "mobile": "phone",
    "company_name": "company", "organisation": "company", "organization": "company",
    "employees": "company_size", "revenue": "annual_revenue",
    "state": "region", "province": "region", "zip": "postal_code", "zip_code": "postal_code", "postcode": "postal_code",
    "product": "product_interest", "lead_score": "score",
}


def column_name_clean(header: Any) -> str:
    """Spreadsheet header → lead field name; `extra.<key>` keeps its key as written."""
    text = str(header or "").strip()
    if text.lower().startswith("extra."):
        return "extra." + text[6:].strip()
    name = text.lower().replace("-", "_").replace(" ", "_")
    return COLUMN_ALIASES.get(name, COLUMN_ALIASES.get(text.lower(), name))


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    field: str
    message: str
    value: str

    def __str__(self) -> str:
        shown = f" (value: “{self.value}”)" if self.value else ""
        return f"line {self.line}: {self.field}: {self.message}{shown}"


@dataclass(slots=True)
class ImportSummary:
    rows: int = 0
    created: int = 0
    duplicates: int = 0
    errors: int = 0
    error_samples: list[RowError] = field(default_factory=list)
    created_ids_sample: list[int] = field(default_factory=list)

    def add_error(self, error: RowError) -> None:
        if len(self.error_samples) < ERROR_SAMPLES:
            self.error_samples.append(error)


def row_errors(line: int, row: Mapping, errors: Mapping[str, list[str]]) -> list[RowError]:
    """One RowError per bad field, with the value the file had there."""
    out = []
    for name, messages in errors.items():
        value = row.get(name, "")
        if name == "extra":
            value = ""
        out.append(RowError(line, name, " ".join(messages), "" if value is None else str(value)[:80]))
    return out


def _store_batch(batch: list[tuple[int, dict]], summary: ImportSummary) -> None:
    for result in leads_store(entries=batch):
        if result.status == CREATED:
            summary.created += 1
            if len(summary.created_ids_sample) < 20:
                summary.created_ids_sample.append(result.lead_id)
        elif result.status == DUPLICATE:
            summary.duplicates += 1
        else:
            summary.errors += 1
            for error in row_errors(result.index, {}, result.errors or {}):
                summary.add_error(error)


def leads_import_rows(
    *,
    rows: Iterable[tuple[int, Mapping[str, Any]]],
    default_source: str = IMPORT_SOURCE,
    batch_size: int = BATCH_SIZE,
    dry_run: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import (line number, row) pairs; memory holds one batch, never the file.

    Each batch commits on its own (a failure later keeps what was stored, and re-running
    the file creates nothing twice). dry_run runs everything in one transaction that is
    rolled back, so the counts are exact and nothing is written or routed.
    """
    summary = ImportSummary()
    with transaction.atomic() if dry_run else nullcontext():
        batch: list[tuple[int, dict]] = []
        for line, row in rows:
            summary.rows += 1
            facts, errors = lead_input_clean(row, default_source=default_source, strict=False)
            if errors:
                summary.errors += 1
                for error in row_errors(line, row, errors):
                    summary.add_error(error)
            else:
                batch.append((line, facts))
            if len(batch) >= batch_size:
                _store_batch(batch, summary)
                batch = []
            if on_progress is not None:
                on_progress(1)
        if batch:
            _store_batch(batch, summary)
        if dry_run:
            transaction.set_rollback(True)
    return summary


def file_rows(path: str | Path, *, encoding: str = "utf-8-sig") -> Iterator[tuple[int, dict[str, Any]]]:
    """Stream (line number, row) from a CSV or XLSX file; the header is line 1."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        yield from _xlsx_rows(path)
    elif suffix in (".csv", ".txt", ""):
        yield from _csv_rows(path, encoding)
    else:
        raise IntakeError({"file": [f"Import reads .csv or .xlsx files, not “{suffix}”."]})


def _headers(raw: Iterable[Any]) -> list[str]:
    headers = [column_name_clean(h) for h in raw]
    if not any(h in ("email", "phone") for h in headers):
        raise IntakeError({"file": ["The first line must name the columns, with at least an email or a phone column."]})
    return headers


def _csv_rows(path: Path, encoding: str) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(newline="", encoding=encoding) as handle:
        reader = csv.reader(handle)
        try:
            headers = _headers(next(reader, []))
            for values in reader:
                if not any(v.strip() for v in values):
                    continue
                yield reader.line_num, dict(zip(headers, values))
        except UnicodeDecodeError as exc:
            raise IntakeError({"file": [f"Line {reader.line_num + 1} is not {encoding} text ({exc.reason}); save the file as UTF-8."]})
        except csv.Error as exc:
            raise IntakeError({"file": [f"Line {reader.line_num}: {exc}."]})


def _xlsx_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a bad file
        raise IntakeError({"file": [f"Not a readable .xlsx file ({exc.__class__.__name__})."]})
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        headers = _headers(next(rows, ()))
        for line, values in enumerate(rows, 2):
            if not any(v not in (None, "") for v in values):
                continue
            yield line, dict(zip(headers, values))
    finally:
        workbook.close()


def file_row_count(path: str | Path) -> int | None:
    """Data rows in the file, for a progress bar (a fast byte scan for CSV)."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return None
    count = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            count += chunk.count(b"\n")
    return max(count - 1, 0)
