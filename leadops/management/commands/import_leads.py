"""python manage.py import_leads FILE [--source NAME] [--dry-run]: CSV or XLSX, in constant memory."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from leadops.services import DomainError
from leadops.services.imports import BATCH_SIZE, IMPORT_SOURCE, file_row_count, file_rows, leads_import_rows


class Command(BaseCommand):
    help = "Import leads from a CSV or XLSX file (header on line 1); same cleaning and dedupe as the API."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--source", default=IMPORT_SOURCE, help=f"source of rows with no source column (default: {IMPORT_SOURCE})"
        )
        parser.add_argument("--dry-run", action="store_true", help="check and count everything, store nothing")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
        parser.add_argument(
            "--encoding", default="utf-8-sig", help="CSV text encoding (default utf-8, with or without BOM)"
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, file, source, dry_run, batch_size, encoding, no_progress, **options):
        try:
            total = file_row_count(file)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from exc
        bar = tqdm(total=total, unit="rows", disable=no_progress, file=self.stderr._out, mininterval=0.5)
        try:
            summary = leads_import_rows(
                rows=file_rows(file, encoding=encoding),
                default_source=source,
                batch_size=batch_size,
                dry_run=dry_run,
                on_progress=bar.update,
            )
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        for line in summary.error_lines():
            self.stderr.write(line)
        prefix = "Dry run, nothing stored: would have " if dry_run else ""
        self.stdout.write(
            f"{prefix}{summary.rows} rows: created {summary.created}, duplicates {summary.duplicates}, "
            f"errors {summary.errors}"
        )
