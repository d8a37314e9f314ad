"""Ops admin for leads (with import/export and the assignment history), events, integrations, accounts.

Writes go through the same services as the API: a lead added here is cleaned and stored by
`leads_store` and routed on commit; an integration's key is issued by the integration
services and shown once.
"""

import csv
import io

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from import_export.admin import ExportMixin

from leadops.errors import IntakeError
from leadops.models import Account, ImportRun, Integration, Lead, LeadEvent, LeadStatus
from leadops.resources import LeadExportResource
from leadops.selectors import lead_current_assignment, lead_keys_stored
from leadops.services import (
    integration_create,
    integration_key_rotate,
    integration_sources_clean,
    integrations_revoke,
    lead_facts_update,
    leads_store,
)
from leadops.services.imports import (
    IMPORT_SOURCE,
    import_file_name_check,
    import_preview,
    import_run_confirm,
    import_run_start,
)
from leadops.services.normalise import INPUT_FIELDS, lead_input_clean
from routing.admin_actions import LEAD_ACTIONS
from routing.admin_columns import AssignmentColumnsMixin, LeadSlaFilter, sla_words, with_version_pk
from routing.models import Assignment, Rule
from routing.reasons import assignment_causes, reason_html, strategy_label

ADMIN_SOURCE = "manual"
IMPORT_SAMPLE_ROWS = [
    {
        "external_id": "crm-1001",
        "source": "trade_show",
        "email": "ana.berg@acme.example",
        "first_name": "Ana",
        "last_name": "Berg",
        "company": "Acme GmbH",
        "industry": "airline",
        "company_size": "1200",
        "country": "DE",
        "city": "Berlin",
        "score": "80",
    },
    {
        "external_id": "crm-1002",
        "source": "trade_show",
        "email": "li.wong@example.com",
        "first_name": "Li",
        "last_name": "Wong",
        "company": "Wong Trading",
        "country": "GB",
        "region": "ENG",
        "score": "45",
    },
]


class LeadAdminForm(forms.ModelForm):
    """The admin form cleans the facts exactly as the API does (and refuses a known source + external id)."""

    class Meta:
        model = Lead
        fields = list(INPUT_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].required = False
        self.fields["source"].help_text = f"Empty = “{ADMIN_SOURCE}”."

    def clean(self):
        cleaned = super().clean()
        raw = {name: cleaned.get(name) for name in INPUT_FIELDS if name in cleaned}
        facts, errors = lead_input_clean(raw, default_source=ADMIN_SOURCE, strict=False)
        for name, messages_ in errors.items():
            self.add_error(name if name in self.fields else None, messages_)
        if facts and facts["external_id"] is not None:
            stored = lead_keys_stored([(facts["source"], facts["external_id"])])
            lead_id = next(iter(stored.values()), (None,))[0]
            if lead_id is not None and lead_id != self.instance.pk:
                self.add_error("external_id", f"Lead #{lead_id} has this source and external id already.")
        self.facts = facts
        return cleaned


class AssignmentHistoryInline(AssignmentColumnsMixin, admin.TabularInline):
    """Every decision on the lead, newest first, with its reason trace in words."""

    model = Assignment
    fk_name = "lead"
    extra = 0
    can_delete = False
    ordering = ["-created_at", "-id"]
    fields = [
        "created_at",
        "outcome",
        "rep",
        "rule_name",
        "strategy_words",
        "decided",
        "version",
        "ended",
        "sla",
        "why",
    ]
    readonly_fields = fields
    verbose_name = "assignment"
    verbose_name_plural = "assignment history (newest first)"

    def get_queryset(self, request):
        return with_version_pk(super().get_queryset(request).select_related("rep", "decided_by_user"))

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="why")
    def why(self, assignment):
        causes = getattr(self, "_causes", None)
        if causes is None or assignment.id not in causes:
            # One query per lead page (the history of this lead), not one per row.
            siblings = Assignment.objects.filter(lead_id=assignment.lead_id).select_related("rep")
            causes = self._causes = assignment_causes(siblings)
        return reason_html(assignment.reason, cause=causes.get(assignment.id, ""))


class LeadEventInline(admin.TabularInline):
    model = LeadEvent
    extra = 0
    can_delete = False
    fields = ["at", "type", "rep", "integration", "user", "note"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("rep", "integration", "user")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def lead_file_clean(upload):
    """An uploaded lead file: a kind the import reads, within IMPORT_MAX_FILE_MB (else a form error)."""
    try:
        import_file_name_check(upload.name)
    except IntakeError as exc:
        raise forms.ValidationError(" ".join(exc.errors["file"])) from exc
    limit = settings.IMPORT_MAX_FILE_MB * 1024 * 1024
    if upload.size > limit:
        raise forms.ValidationError(
            f"The file is over {settings.IMPORT_MAX_FILE_MB} MB; split it or use `manage.py import_leads`."
        )
    return upload


class LeadImportForm(forms.Form):
    file = forms.FileField(
        label="Lead file",
        allow_empty_file=True,  # the import service says what is wrong with an empty file, in its words
        help_text="CSV or XLSX, the column names on line 1.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    source = forms.CharField(
        max_length=60,
        required=False,
        initial=IMPORT_SOURCE,
        label="Source",
        help_text="For rows with no source column.",
    )

    def clean_file(self):
        return lead_file_clean(self.cleaned_data["file"])


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def import_preview_sentence(summary) -> str:
    """“412 leads will be created, 3 lines have errors.” (and the skipped repeats, when there are any)"""
    parts = [
        f"{_count(summary.created, 'lead', 'leads')} will be created" if summary.created else "No new lead to create",
        f"{_count(summary.errors, 'line has', 'lines have')} errors",
    ]
    if summary.duplicates:
        parts.append(
            f"{_count(summary.duplicates, 'line repeats', 'lines repeat')} a lead stored already or earlier "
            "in the file (skipped)"
        )
    return ", ".join(parts) + "."


class ImportRunFilter(admin.SimpleListFilter):
    """The leads a file import created: the import's page and its result link here (`?import_run=<id>`).

    Shown only while it filters (the list has filters enough; imports are many), at one query then.
    """

    title = "file import"
    parameter_name = "import_run"

    def lookups(self, request, model_admin):
        if not (self.value() or "").isdigit():
            return []
        run = ImportRun.objects.filter(pk=int(self.value())).values_list("file_name", "created_at").first()
        label = f"{run[0]} · {run[1]:%Y-%m-%d %H:%M}" if run else f"import {self.value()} (deleted)"
        return [(self.value(), label)]

    def queryset(self, request, queryset):
        if not (self.value() or "").isdigit():
            return queryset
        return queryset.filter(import_run_id=int(self.value()))


class DecidingRuleFilter(admin.SimpleListFilter):
    """Leads whose current decision was taken by a rule."""

    title = "deciding rule"
    parameter_name = "rule"

    def lookups(self, request, model_admin):
        return [(str(pk), name) for pk, name in Rule.objects.order_by("priority", "id").values_list("pk", "name")]

    def queryset(self, request, queryset):
        if not (self.value() or "").isdigit():
            return queryset
        current = Assignment.objects.filter(lead=OuterRef("pk"), ended_at__isnull=True, rule_id=int(self.value()))
        return queryset.filter(Exists(current))


@admin.register(Lead)
class LeadAdmin(ExportMixin, admin.ModelAdmin):
    form = LeadAdminForm
    # Fits 1,400 px beside the filters: the e-mail and source are one click away (search, filter, lead page).
    list_display = ["id", "person", "company", "country", "status", "owner_name", "created"]
    list_filter = [
        "status",
        LeadSlaFilter,
        ("owner", admin.RelatedOnlyFieldListFilter),
        ("owner__team", admin.RelatedFieldListFilter),
        "source",
        DecidingRuleFilter,
        "country",
        ImportRunFilter,
    ]
    date_hierarchy = "created_at"
    search_fields = ["=id", "email", "external_id", "company", "last_name"]
    list_select_related = ["owner"]
    show_full_result_count = False
    raw_id_fields = ["integration"]
    inlines = [AssignmentHistoryInline, LeadEventInline]
    actions = LEAD_ACTIONS  # routing/admin_actions.py: route now, reassign, release, claim for a rep
    # The Import and Export buttons; Import is our own page (import_view), Export django-import-export's.
    import_export_change_list_template = "admin/import_export/change_list_import_export.html"
    fieldsets = [
        (
            "Routing",
            {
                "fields": [
                    "status",
                    "owner_link",
                    "decision",
                    "assigned_at",
                    "first_contacted_at",
                    "closed_at",
                    "routing_error",
                    "integration",
                    "created_at",
                ]
            },
        ),
        ("Identity", {"fields": ["source", "external_id", "import_run"]}),
        ("Person", {"fields": ["email", "first_name", "last_name", "phone", "language"]}),
        ("Company", {"fields": ["company", "industry", "company_size", "annual_revenue", "product_interest", "score"]}),
        ("Place", {"fields": ["country", "region", "city", "postal_code"]}),
        ("Custom values", {"fields": ["extra"]}),
    ]
    readonly_fields = [
        "status",
        "owner_link",
        "decision",
        "assigned_at",
        "first_contacted_at",
        "closed_at",
        "routing_error",
        "integration",
        "created_at",
        "import_run",
    ]

    def get_export_resource_classes(self, request):
        return [LeadExportResource]

    def has_import_permission(self, request):
        return request.user.has_perm("leadops.add_lead")

    def has_export_permission(self, request):
        return request.user.has_perm("leadops.view_lead")

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "has_import_permission": self.has_import_permission(request)}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="leadops_lead_import"),
            path("import/<int:run_id>/confirm/", view(self.import_confirm_view), name="leadops_lead_import_confirm"),
            path("import/sample.csv", view(self.import_sample_view), name="leadops_lead_import_sample"),
            *super().get_urls(),
        ]

    def import_sample_view(self, request):
        """A sample lead file: every column the import reads, and two example rows."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(INPUT_FIELDS), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(IMPORT_SAMPLE_ROWS)
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="leads-sample.csv"'
        return response

    def import_view(self, request):
        """Upload → preview: every bad line with its field, value and message, the good ones counted.

        The preview is the background import's own service run as a dry run (leadops/services/imports.py),
        so its counts and line numbers are the ones the import gives; the file is kept on an ImportRun
        for the confirm.
        """
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = LeadImportForm(request.POST or None, request.FILES or None)
        context = {
            **self.admin_site.each_context(request),
            "title": "Import leads",
            "opts": self.model._meta,
            "form": form,
        }
        if form.is_bound and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                run, summary = import_preview(
                    file_name=upload.name,
                    content=upload.read(),
                    source=form.cleaned_data["source"],
                    user=request.user,
                )
            except IntakeError as exc:
                form.add_error("file", " ".join(" ".join(m) for m in exc.errors.values()))
            else:
                context.update(
                    run=run,
                    summary=summary,
                    sentence=import_preview_sentence(summary),
                    more=summary.errors - summary.error_lines_shown,
                    title=f"Import leads: preview of “{run.file_name}”",
                    form=LeadImportForm(initial={"source": run.source}),
                )
        return TemplateResponse(request, "admin/leadops/lead/import.html", context)

    def import_confirm_view(self, request, run_id):
        """Import a previewed file; the result is its run's page, which links to the leads it created."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        again = HttpResponseRedirect(reverse("admin:leadops_lead_import"))
        if request.method != "POST":
            return again
        if not ImportRun.objects.filter(pk=run_id, uploaded_by=request.user).exists():
            self.message_user(request, "That preview is gone (previews are kept for a day): upload the file again.")
            return again
        run = import_run_confirm(run_id=run_id)
        if run.status == ImportRun.Status.FAILED:
            self.message_user(request, f"“{run.file_name}” was not imported: {run.failure}", messages.ERROR)
            return again
        leads = reverse("admin:leadops_lead_changelist") + f"?import_run={run.pk}"
        self.message_user(
            request,
            format_html(
                'Imported “{}”: {} created, {}{}. <a href="{}" id="created-leads">See the leads it created</a>.',
                run.file_name,
                _count(run.created, "lead", "leads"),
                _count(run.errors, "line with errors", "lines with errors") if run.errors else "no errors",
                f", {_count(run.duplicates, 'repeat', 'repeats')} skipped" if run.duplicates else "",
                leads,
            ),
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:leadops_importrun_change", args=[run.pk]))

    @admin.display(description="lead", ordering="last_name")
    def person(self, lead):
        return " ".join(p for p in (lead.first_name, lead.last_name) if p) or lead.email or f"Lead {lead.pk}"

    @admin.display(description="owner", ordering="owner__name")
    def owner_name(self, lead):
        return lead.owner.name if lead.owner_id else "—"

    @admin.display(description="created", ordering="created_at")
    def created(self, lead):
        return lead.created_at.strftime("%Y-%m-%d %H:%M")

    @admin.display(description="owner")
    def owner_link(self, lead):
        if lead.owner_id is None:
            return "—"
        url = reverse("admin:reps_rep_change", args=[lead.owner_id])
        return format_html('<a href="{}">{}</a> &lt;{}&gt;', url, lead.owner.name, lead.owner.email)

    @admin.display(description="why this owner")
    def decision(self, lead):
        assignment = lead_current_assignment(lead) if lead.pk else None
        if assignment is None:
            return "— (not routed yet)" if lead.status == LeadStatus.PENDING else "—"
        parts = [assignment.get_outcome_display()]
        if assignment.rule_name:
            parts.append(f"rule “{assignment.rule_name}”")
        if assignment.strategy:
            parts.append(strategy_label(assignment.strategy))
        parts.append(assignment.created_at.strftime("%Y-%m-%d %H:%M"))
        if assignment.sla_due_at:
            parts.append(f"SLA {sla_words(assignment)}")
        causes = assignment_causes(lead.assignments.select_related("rep"))
        head = format_html("<p>{}</p>", " · ".join(parts))
        return format_html("{}{}", head, reason_html(assignment.reason, cause=causes.get(assignment.id, "")))

    def save_model(self, request, obj, form, change):
        if change:
            lead_facts_update(lead=obj, facts=form.facts)
            return
        result = leads_store(entries=[(0, form.facts)])[0]
        obj.pk = result.lead_id
        obj.refresh_from_db()


@admin.register(LeadEvent)
class LeadEventAdmin(admin.ModelAdmin):
    """Events are posted through the API (they change the lead); here ops read them."""

    list_display = ["at", "lead", "type", "rep", "integration", "user"]
    list_filter = ["type"]
    list_select_related = ["lead", "rep", "integration", "user"]
    search_fields = ["=lead__id", "lead__email", "rep__email"]
    show_full_result_count = False
    date_hierarchy = "at"
    fields = ["lead", "type", "at", "rep", "integration", "user", "note", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SourceListField(forms.CharField):
    """A list of sources typed one per line (stored as a list)."""

    widget = forms.Textarea(attrs={"rows": 4, "cols": 40})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        return [line.strip() for line in (value or "").splitlines() if line.strip()]


class IntegrationAdminForm(forms.ModelForm):
    allowed_sources = SourceListField(
        required=False,
        label="Other sources",
        help_text="One per line. The integration may post leads under its name and these sources, no others; "
        "a source belongs to one integration.",
    )

    class Meta:
        model = Integration
        fields = ["name", "active", "rate_limit_per_minute", "allowed_sources"]

    def clean(self):
        cleaned = super().clean()
        if "name" in cleaned:
            try:
                cleaned["allowed_sources"] = integration_sources_clean(
                    name=cleaned["name"], sources=cleaned.get("allowed_sources") or [], integration_id=self.instance.pk
                )
            except IntakeError as exc:
                for field, messages_ in exc.errors.items():
                    self.add_error(field if field in self.fields else None, messages_)
        return cleaned


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    form = IntegrationAdminForm
    list_display = [
        "name",
        "source_list",
        "key_prefix",
        "active",
        "rate_limit_per_minute",
        "lead_count",
        "created_at",
        "last_used_at",
    ]
    list_filter = ["active"]
    search_fields = ["name", "key_prefix"]
    readonly_fields = ["key_prefix", "created_at", "last_used_at"]
    actions = ["revoke_keys", "issue_new_keys"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(lead_total=Count("leads"))

    @admin.display(description="may post under")
    def source_list(self, integration):
        return ", ".join(integration.sources)

    @admin.display(description="leads", ordering="lead_total")
    def lead_count(self, integration):
        return integration.lead_total

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        integration, key = integration_create(
            name=obj.name, rate_limit_per_minute=obj.rate_limit_per_minute, allowed_sources=obj.allowed_sources
        )
        if not obj.active:
            integrations_revoke(ids=[integration.pk])
        obj.pk, obj.key_prefix, obj.key_hash = integration.pk, integration.key_prefix, integration.key_hash
        self._show_key(request, integration, key)

    def _show_key(self, request, integration, key):
        self.message_user(
            request,
            format_html("Key for “{}” (shown once, copy it now): <code>{}</code>", integration.name, key),
            messages.WARNING,
        )

    @admin.action(description="Revoke the keys of the selected integrations", permissions=["change"])
    def revoke_keys(self, request, queryset):
        count = integrations_revoke(ids=queryset.values_list("id", flat=True))
        self.message_user(request, f"Revoked {count} keys; calls with them now get 401.")

    @admin.action(
        description="Issue a new key for the selected integrations (the old key stops working)", permissions=["change"]
    )
    def issue_new_keys(self, request, queryset):
        for integration in queryset:
            self._show_key(request, integration, integration_key_rotate(integration=integration))


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "domain", "owner"]
    list_select_related = ["owner"]
    search_fields = ["name", "domain", "owner__email"]
    raw_id_fields = ["owner"]


class ImportRunForm(forms.ModelForm):
    file = forms.FileField(help_text="CSV or XLSX, header on line 1. Rows are cleaned and deduplicated as in the API.")

    class Meta:
        model = ImportRun
        fields = ["source"]

    def clean_file(self):
        return lead_file_clean(self.cleaned_data["file"])


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    """Upload a lead file of any size; a background job imports it streaming and reports here."""

    form = ImportRunForm
    list_display = [
        "file_name",
        "status",
        "rows",
        "created",
        "duplicates",
        "errors",
        "uploaded_by",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status"]
    readonly_fields = [
        "file_name",
        "source",
        "status",
        "rows",
        "created",
        "created_leads",
        "duplicates",
        "errors",
        "error_lines",
        "failure",
        "uploaded_by",
        "created_at",
        "finished_at",
    ]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    @admin.display(description="leads")
    def created_leads(self, run):
        if not run.created:
            return "—"
        url = reverse("admin:leadops_lead_changelist") + f"?import_run={run.pk}"
        return format_html(
            '<a href="{}" id="run-leads">the {} it created</a>', url, _count(run.created, "lead", "leads")
        )

    def has_view_permission(self, request, obj=None):
        # Whoever may import leads may read the result of an import.
        return super().has_view_permission(request, obj) or request.user.has_perm("leadops.add_lead")

    def get_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ["file", "source"]

    def has_add_permission(self, request):
        return request.user.has_perm("leadops.add_lead") and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return False  # a run is a record: its results only change by its job

    def save_model(self, request, obj, form, change):
        upload = form.cleaned_data["file"]
        run = import_run_start(
            file_name=upload.name, content=upload.read(), source=form.cleaned_data["source"], user=request.user
        )
        obj.pk, obj.file_name, obj._state.adding = run.pk, run.file_name, False
