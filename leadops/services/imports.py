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
from datetime import timedelta
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
    rows: int = 0  # data lines read (blank lines are not counted)
    created: int = 0
    duplicates: int = 0
    errors: int = 0  # lines with at least one error
    error_samples: list[RowError] = field(default_factory=list)  # one per bad field, the first `error_limit`
    created_ids_sample: list[int] = field(default_factory=list)
    error_limit: int = ERROR_SAMPLES

    def add_error(self, error: RowError) -> None:
        if len(self.error_samples) < self.error_limit:
            self.error_samples.append(error)

    @property
    def error_lines_shown(self) -> int:
        """How many bad lines `error_samples` covers (a line with two bad fields has two samples)."""
        return len({error.line for error in self.error_samples})

    def error_lines(self) -> list[str]:
        """The sampled bad rows, one line each, and how many more there were."""
        more = self.errors - self.error_lines_shown
        return [str(error) for error in self.error_samples] + (
            [f"… and {more} more lines with errors"] if more > 0 else []
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
    error_limit: int = ERROR_SAMPLES,
    import_run_id: int | None = None,
) -> ImportSummary:
    """Import (line number, row) pairs; memory holds one batch, never the file.

    Each batch commits on its own (a failure later keeps what was stored, and re-running
    the file creates nothing twice). dry_run runs everything in one transaction that is
    rolled back, so the counts are exact and nothing is written or routed. The admin's
    preview is such a dry run, so it counts and numbers lines exactly as the import will.
    Leads created get `import_run_id` (the admin links to them by it).
    """
    summary = ImportSummary(error_limit=error_limit)
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
                if import_run_id is not None:
                    facts["import_run_id"] = import_run_id
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
    """Stream (line number, row) from a CSV or XLSX file.

    The header is line 1, so the first data row is line 2. Blank lines are skipped but keep their
    number, so a number is the line a text editor (CSV) or a spreadsheet's row number (XLSX) shows;
    a CSV row whose quoted value spans several lines has the number of the line it starts on. The
    admin's preview, its background import and `import_leads` all number rows here.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        yield from _xlsx_rows(path)
    elif suffix in (".csv", ".txt", ""):
        yield from _csv_rows(path, encoding)
    else:
        raise IntakeError({"file": [f"Import reads .csv or .xlsx files, not “{suffix}”."]})


EMPTY_FILE = "The file is empty: line 1 must name the columns (download the sample file)."


def _headers(raw: Iterable[Any]) -> list[str]:
    raw = list(raw)
    named = [str(h).strip() for h in raw if h is not None and str(h).strip()]
    if not named:
        raise IntakeError({"file": [EMPTY_FILE]})
    headers = [column_name_clean(h) for h in raw]  # every position, named or not: values are matched by position
    if not any(h in ("email", "phone") for h in headers):
        found = ", ".join(f"“{h[:40]}”" for h in named[:8]) + (" …" if len(named) > 8 else "")
        raise IntakeError(
            {
                "file": [
                    "Line 1 must name the columns, with at least an email or a phone column; "
                    f"it has {found}. Download the sample file for the column names."
                ]
            }
        )
    return headers


def _csv_rows(path: Path, encoding: str) -> Iterator[tuple[int, dict[str, Any]]]:
    shown = "UTF-8" if encoding.lower().replace("_", "-") in ("utf-8-sig", "utf-8", "utf8") else encoding
    with path.open(newline="", encoding=encoding) as handle:
        reader = csv.reader(handle)
        try:
            headers = _headers(next(reader, []))
            ended = reader.line_num  # the line the previous record ended on
            for values in reader:
                start, ended = ended + 1, reader.line_num
                if not any(v.strip() for v in values):
                    continue
                yield start, dict(zip(headers, values, strict=False))
        except UnicodeDecodeError as exc:
            raise IntakeError(
                {
                    "file": [
                        f"The file is not {shown} text (near line {reader.line_num + 1}: {exc.reason}). "
                        "Save it as “CSV UTF-8” and upload it again."
                    ]
                }
            ) from exc
        except csv.Error as exc:
            raise IntakeError({"file": [f"Line {reader.line_num} cannot be read as CSV: {exc}."]}) from exc


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


# ----------------------------------------------------------------------------- file imports in the admin

IMPORT_PROGRESS_EVERY = 5000
PREVIEW_MAX_ROWS = 20_000  # the preview reads the file while ops wait; bigger files go to the background
PREVIEW_ERRORS = 1000  # bad fields listed on the preview page (each with its line, value and message)
PREVIEW_KEPT_FOR = timedelta(days=1)  # a preview nobody confirmed is deleted after this


def _at_most(rows: Iterator[tuple[int, dict]], limit: int) -> Iterator[tuple[int, dict]]:
    for count, row in enumerate(rows, 1):
        if count > limit:
            raise IntakeError(
                {
                    "file": [
                        f"The file has more than {limit:,} leads, too many to preview while you wait: "
                        "use a background file import."
                    ]
                }
            )
        yield row


def import_preview(*, file_name: str, content: bytes, source: str = IMPORT_SOURCE, user=None):
    """Check a lead file as the import would, writing nothing, and keep it for `import_run_confirm`.

    The file goes through the background import's own path (`file_rows` → `leads_import_rows`, as a
    rolled-back dry run), so the counts and the line numbers are the ones the import will give.
    Returns (the ImportRun holding the file, status PREVIEW; the ImportSummary). Raises IntakeError
    with a message for the whole file (wrong kind, empty, not UTF-8, no email or phone column, too big).
    """
    from leadops.models import ImportRun

    import_file_name_check(file_name)
    if not content.strip():
        raise IntakeError({"file": [EMPTY_FILE]})
    source = source or IMPORT_SOURCE
    with tempfile.NamedTemporaryFile(suffix=Path(file_name).suffix.lower()) as handle:
        handle.write(content)
        handle.flush()
        summary = leads_import_rows(
            rows=_at_most(file_rows(handle.name), PREVIEW_MAX_ROWS),
            default_source=source,
            dry_run=True,
            error_limit=PREVIEW_ERRORS,
        )
    if summary.rows == 0:
        raise IntakeError({"file": ["The file names its columns on line 1 but has no leads under them."]})
    ImportRun.objects.filter(status=ImportRun.Status.PREVIEW, created_at__lt=timezone.now() - PREVIEW_KEPT_FOR).delete()
    run = ImportRun.objects.create(
        file_name=file_name[:255], content=content, source=source, status=ImportRun.Status.PREVIEW, uploaded_by=user
    )
    return run, summary


def import_run_confirm(*, run_id: int):
    """Import a previewed file now, in this request (a preview is at most PREVIEW_MAX_ROWS leads),
    through the background import's service. Confirming twice imports once. Returns the run, done."""
    from leadops.models import ImportRun

    claimed = ImportRun.objects.filter(pk=run_id, status=ImportRun.Status.PREVIEW).update(
        status=ImportRun.Status.QUEUED, created_at=timezone.now()
    )
    if claimed:
        import_run_execute(run_id)
    return ImportRun.objects.get(pk=run_id)


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
            summary = leads_import_rows(
                rows=file_rows(handle.name), default_source=run.source, on_progress=progress, import_run_id=run_id
            )
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
