"""django-import-export resources on Lead: the admin's export (facts with status and owner).

Imports do not go through django-import-export: the admin's Leads → Import page, its background
file import and `import_leads` share one service, leadops/services/imports.py, so they clean,
deduplicate, count and number lines alike.
"""

from __future__ import annotations

import json

from import_export import fields, resources, widgets

from leadops.exports import spreadsheet_safe
from leadops.models import Lead
from leadops.services.normalise import INPUT_FIELDS


class _PassThrough(widgets.Widget):
    """Export JSON-ish values as they are."""

    def render(self, value, obj=None, **kwargs):
        if value in (None, {}, ""):
            return ""
        return value if isinstance(value, (str, int, float)) else json.dumps(value, ensure_ascii=False)


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
