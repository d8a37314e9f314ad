"""django-import-export resources on Lead: the admin's import (CSV/XLSX, dry run, row errors)
and export (facts with status and owner).

Import keeps the API's rules: every row is cleaned by `lead_input_clean` before anything is
written, so a bad row is reported with its number, field and value while good rows import;
rows whose source + external_id is stored already (or came earlier in the file) are skipped,
so re-importing a file creates nothing; new rows are written in batches through
`leads_store` (one lookup and one bulk insert per batch, routing enqueued on commit; a dry
run's transaction is rolled back, so nothing is routed).
"""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets

from leadops.exports import spreadsheet_safe
from leadops.models import Lead
from leadops.selectors import lead_keys_stored
from leadops.services.imports import IMPORT_SOURCE, column_name_clean, row_errors
from leadops.services.leads import CREATED, leads_store
from leadops.services.normalise import INPUT_FIELDS, lead_input_clean
from routing.engine.vocabulary import email_domain

_SKIP = "__leadops_skip__"


class _PassThrough(widgets.Widget):
    """Values were cleaned before import; export JSON-ish values as they are."""

    def clean(self, value, row=None, **kwargs):
        return value

    def render(self, value, obj=None, **kwargs):
        if value in (None, {}, ""):
            return ""
        return value if isinstance(value, (str, int, float)) else json.dumps(value, ensure_ascii=False)


class LeadImportResource(resources.ModelResource):
    """Columns: any of the lead facts (loosely named: "First Name", "zip"), `extra.<key>` columns."""

    extra = fields.Field(attribute="extra", column_name="extra", widget=_PassThrough())

    class Meta:
        model = Lead
        fields = INPUT_FIELDS
        import_id_fields = ("source", "external_id")
        use_bulk = True
        batch_size = 1000
        skip_diff = True
        report_skipped = True
        use_transactions = True

    def __init__(self, default_source: str = IMPORT_SOURCE, **kwargs):
        super().__init__(**kwargs)
        self.default_source = default_source
        for name in INPUT_FIELDS:
            self.fields[name].widget = _PassThrough()
        self._clean: dict[int, tuple[dict | None, dict]] = {}
        self._pending: list[tuple[int, dict]] = []
        self.created_ids: list[int] = []

    # -- before any row: one cleaning pass and one dedupe lookup for the whole file
    def before_import(self, dataset, **kwargs):
        dataset.headers = [column_name_clean(h) for h in dataset.headers or []]
        for name in ("source", "external_id"):
            if name not in dataset.headers:
                dataset.append_col([""] * len(dataset), header=name)
        headers = dataset.headers
        facts_at: dict[int, dict] = {}
        for number, values in enumerate(dataset, 1):
            row = dict(zip(headers, values, strict=False))
            facts, errors = lead_input_clean(row, default_source=self.default_source, strict=False)
            self._clean[number] = (facts, errors)
            if facts:
                facts_at[number] = facts
        self._duplicates = self._stored_or_repeated(facts_at)

    @staticmethod
    def _stored_or_repeated(facts_at: dict[int, dict]) -> set[int]:
        first: dict[tuple[str, str], int] = {}
        duplicates = set()
        for number, facts in facts_at.items():
            if facts["external_id"] is None:
                continue
            key = (facts["source"], facts["external_id"])
            if key in first:
                duplicates.add(number)
            else:
                first[key] = number
        stored = lead_keys_stored(first)
        duplicates.update(number for key, number in first.items() if key in stored)
        return duplicates

    def before_import_row(self, row, **kwargs):
        number = kwargs["row_number"]
        facts, errors = self._clean[number]
        if errors:
            raise ValidationError(
                {
                    e.field: e.message + (f" Value: “{e.value}”." if e.value else "")
                    for e in row_errors(number, row, errors)
                }
            )
        row.clear()
        row.update({name: value for name, value in facts.items() if name in INPUT_FIELDS})
        row[_SKIP] = number in self._duplicates
        row["__number__"] = number

    def get_instance(self, instance_loader, row):
        return None  # never update a stored lead: a known source + external_id is a duplicate, skipped

    def skip_row(self, instance, original, row, import_validation_errors=None):
        return bool(row.get(_SKIP)) and not import_validation_errors

    def save_instance(self, instance, is_create, row, **kwargs):
        facts = {name: getattr(instance, name) for name in INPUT_FIELDS}
        facts["external_id"] = facts["external_id"] or None
        facts["email_domain"] = email_domain(facts["email"])
        self._pending.append((row["__number__"], facts))
        if len(self._pending) >= self._meta.batch_size:
            self._flush()

    def _flush(self):
        if self._pending:
            results = leads_store(entries=self._pending)
            self.created_ids += [r.lead_id for r in results if r.status == CREATED]
            self._pending = []

    def after_import(self, dataset, result, **kwargs):
        # Not super(): ModelResource resets the id sequence, unsafe while the API inserts.
        self._flush()


class LeadExportResource(resources.ModelResource):
    """Leads with their status and owner, for spreadsheets: text that could start a formula gets a leading `'`."""

    owner = fields.Field(attribute="owner__email", column_name="owner", readonly=True)
    owner_name = fields.Field(attribute="owner__name", column_name="owner_name", readonly=True)
    extra = fields.Field(attribute="extra", column_name="extra", widget=_PassThrough(), readonly=True)

    class Meta:
        model = Lead
        fields = (
            "id",
            *INPUT_FIELDS,
            "status",
            "owner",
            "owner_name",
            "created_at",
            "assigned_at",
            "first_contacted_at",
            "closed_at",
        )
        export_order = fields

    def get_queryset(self):
        return super().get_queryset().select_related("owner")

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("owner")

    def export_field(self, field, instance, **kwargs):
        return spreadsheet_safe(super().export_field(field, instance, **kwargs))
