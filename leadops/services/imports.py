"""Import leads from CSV / XLSX files in constant memory: stream rows, clean each one (so every
error keeps its line number and bad value), store valid rows in batches through `leads_store`
(same dedupe as the API; routing enqueued as each batch commits).

Header names are matched loosely ("First Name" → first_name, "zip" → postal_code);
`extra.<key>` columns go into `extra`; other unknown columns are ignored.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from leadops.errors import IntakeError
from leadops.services.leads import CREATED, DUPLICATE, leads_store
from leadops.services.normalise import lead_input_clean

IMPORT_SOURCE = "import"
BATCH_SIZE = 1000
ERROR_SAMPLES = 200
COLUMN_ALIASES = {
    "e-mail": "email",
    "email_address": "email",
    "mail": "email",
    "firstname": "first_name",
    "first": "first_name",
    "given_name": "first_name",
    "lastname": "last_name",
    "last": "last_name",
    "surname": "last_name",
    "family_name": "last_name",
    "phone_number": "phone",
    "telephone": "phone",
    "mobile": "phone",
    "company_name": "company",
    "organisation": "company",
    "organization": "company",
    "employees": "company_size",
    "revenue": "annual_revenue",
    "state": "region",
    "province": "region",
    "zip": "postal_code",
    "zip_code": "postal_code",
    "postcode": "postal_code",
    "product": "product_interest",
    "lead_score": "score",
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

    def error_lines(self) -> list[str]:
        """The sampled bad rows, one line each, and how many more there were."""
        more = self.errors - len(self.error_samples)
        return [str(error) for error in self.error_samples] + (
            [f"… and {more} more rows with errors"] if more > 0 else []
        )


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
                yield reader.line_num, dict(zip(headers, values, strict=False))
        except UnicodeDecodeError as exc:
            raise IntakeError(
                {"file": [f"Line {reader.line_num + 1} is not {encoding} text ({exc.reason}); save the file as UTF-8."]}
            ) from exc
        except csv.Error as exc:
            raise IntakeError({"file": [f"Line {reader.line_num}: {exc}."]}) from exc


def _xlsx_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise IntakeError({"file": [f"Not a readable .xlsx file ({exc.__class__.__name__})."]}) from exc
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        headers = _headers(next(rows, ()))
        for line, values in enumerate(rows, 2):
            if not any(v not in (None, "") for v in values):
                continue
            yield line, dict(zip(headers, values, strict=False))
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


# ----------------------------------------------------------------------------- background file imports (admin)

IMPORT_PROGRESS_EVERY = 5000


def import_file_name_check(file_name: str) -> None:
    """Raise IntakeError unless the file is one `file_rows` reads."""
    suffix = Path(file_name).suffix.lower()
    if suffix not in (".csv", ".txt", ".xlsx", ".xlsm"):
        raise IntakeError({"file": [f"Import reads .csv or .xlsx files, not “{suffix or file_name}”."]})


def import_run_start(*, file_name: str, content: bytes, source: str, user=None):
    """Store an uploaded file as an ImportRun and queue its import once this transaction commits."""
    from leadops.models import ImportRun

    import_file_name_check(file_name)
    run = ImportRun.objects.create(
        file_name=file_name[:255], content=content, source=source or IMPORT_SOURCE, uploaded_by=user
    )
    transaction.on_commit(lambda: _enqueue_import_run(run.pk))
    return run


def _enqueue_import_run(run_id: int) -> None:
    import django_rq

    from leadops.models import ImportRun

    try:
        django_rq.get_queue("default").enqueue("leadops.jobs.import_run_job", run_id, job_timeout=3600)
    except Exception as exc:
        ImportRun.objects.filter(pk=run_id, status=ImportRun.Status.QUEUED).update(
            status=ImportRun.Status.FAILED,
            failure=f"Could not queue the import ({exc.__class__.__name__}); upload the file again.",
            finished_at=timezone.now(),
        )


def import_run_execute(run_id: int) -> None:
    """Import an ImportRun's file, streaming; its counts and first bad rows are saved on the run.

    The file goes to a local temporary file (the job may run on another machine than the upload),
    then rows stream from it through `leads_import_rows`: memory holds one batch, not the file's rows.
    """
    from leadops.models import ImportRun

    claimed = ImportRun.objects.filter(pk=run_id, status=ImportRun.Status.QUEUED).update(
        status=ImportRun.Status.RUNNING
    )
    if not claimed:  # a retried or duplicated job: the run is under way or finished
        return
    run = ImportRun.objects.only("file_name", "source").get(pk=run_id)
    done = 0

    def progress(count: int) -> None:
        nonlocal done
        done += count
        if done % IMPORT_PROGRESS_EVERY == 0:
            ImportRun.objects.filter(pk=run_id).update(rows=done)

    with tempfile.NamedTemporaryFile(suffix=Path(run.file_name).suffix.lower()) as handle:
        _copy_content(run_id, handle)
        try:
            summary = leads_import_rows(rows=file_rows(handle.name), default_source=run.source, on_progress=progress)
        except IntakeError as exc:
            message = " ".join(" ".join(messages) for messages in exc.errors.values())
            ImportRun.objects.filter(pk=run_id).update(
                status=ImportRun.Status.FAILED,
                failure=message,
                rows=done,
                content=b"",
                finished_at=timezone.now(),
            )
            return
    ImportRun.objects.filter(pk=run_id).update(
        status=ImportRun.Status.DONE,
        rows=summary.rows,
        created=summary.created,
        duplicates=summary.duplicates,
        errors=summary.errors,
        error_lines="\n".join(summary.error_lines()),
        content=b"",
        finished_at=timezone.now(),
    )


def _copy_content(run_id: int, handle, chunk_size: int = 1 << 20) -> None:
    """Write the run's stored file to `handle` a megabyte at a time (never the whole file in memory)."""
    from django.db.models import BinaryField, Func, Value

    from leadops.models import ImportRun

    offset = 1  # SQL SUBSTR counts from 1
    while True:
        chunk = (
            ImportRun.objects.filter(pk=run_id)
            .annotate(
                part=Func("content", Value(offset), Value(chunk_size), function="SUBSTR", output_field=BinaryField()),
            )
            .values_list("part", flat=True)
            .get()
        )
        if not chunk:
            break
        handle.write(chunk)
        offset += chunk_size
    handle.flush()
