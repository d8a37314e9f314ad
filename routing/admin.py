"""Ops admin for territories, rules and the assignment audit trail.

Every saved change to the routing set-up is recorded as a routing version (routing/admin_versioning.py →
routing.services.rule_set), so each later assignment records which set-up decided it. Versions
have their own pages: changes, a diff against the version before, and restore.
"""

import datetime as dt
import difflib
import json

import plotly
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Subquery
from django.db.models.functions import Coalesce
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from redis.exceptions import RedisError

from leadops.admin_common import ChangeHistoryMixin, ReadOnlyAdmin, SharedChoicesInlineMixin
from leadops.models import Lead
from routing.admin_columns import AssignmentColumnsMixin, with_version_pk
from routing.admin_versioning import RoutingVersionMixin
from routing.condition_form import RuleConditionForm
from routing.engine import LEAD_FACTS, LeadFacts
from routing.models import (
    Assignment,
    RepDailyCount,
    RotationCursor,
    RoutingVersion,
    Rule,
    RuleCondition,
    RulePoolRep,
    RuleSet,
    Territory,
)
from routing.reasons import assignment_causes, condition_words, reason_html, strategy_label
from routing.routing_file import (
    RoutingFileError,
    routing_config_dump,
    routing_config_dumps,
    routing_config_load,
    routing_version_restore,
)
from routing.routing_map import routing_map
from routing.rule_health import rule_health_findings
from routing.selectors import lead_excluded_rep_ids, rule_decision_counts
from routing.services.snapshot import lead_facts
from routing.simulation import (
    rep_labels,
    routing_try_lead,
    simulation_background_from,
    simulation_check,
    simulation_enqueue,
    simulation_figure,
    simulation_in_background,
    simulation_lead_count,
    simulation_outcome,
    simulation_run,
)
from routing.versions import document_changes, version_document

HEALTH_SHOWN = 8  # rule-health warnings shown above the rule list


@admin.register(Territory)
class TerritoryAdmin(ChangeHistoryMixin, RoutingVersionMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "parent",
        "inside_it",
        "countries_shown",
        "regions_shown",
        "postal_prefixes_shown",
        "rep_count",
    ]
    list_select_related = ["parent"]
    list_filter = [("parent", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name"]
    autocomplete_fields = ["parent"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(rep_count=Count("reps")).prefetch_related("children")

    @admin.display(description="inside it")
    def inside_it(self, territory):
        return ", ".join(child.name for child in territory.children.all()) or "—"

    @admin.display(description="countries")
    def countries_shown(self, territory):
        return ", ".join(territory.countries) or "(through the territories inside)"

    @admin.display(description="regions")
    def regions_shown(self, territory):
        return ", ".join(territory.regions) or "any"

    @admin.display(description="postal prefixes")
    def postal_prefixes_shown(self, territory):
        return ", ".join(territory.postal_prefixes) or "any"

    @admin.display(description="reps", ordering="rep_count")
    def rep_count(self, territory):
        return territory.rep_count


class RuleConditionInline(admin.TabularInline):
    model = RuleCondition
    form = RuleConditionForm  # routing/condition_form.py: facts, operators and values in words, no JSON
    extra = 1
    verbose_name_plural = "conditions (all must hold; none: every lead matches)"

    class Media:
        js = ["routing/condition_editor.js"]

    def get_formset(self, request, obj=None, **kwargs):
        names = list(Territory.objects.order_by("name").values_list("name", flat=True))
        kwargs["form"] = type("RuleConditionForm", (self.form,), {"territory_names": names})
        return super().get_formset(request, obj, **kwargs)


class RulePoolRepInline(SharedChoicesInlineMixin, admin.TabularInline):
    model = RulePoolRep
    shared_choice_fields = ("rep",)
    extra = 0
    verbose_name = "listed rep"
    verbose_name_plural = "listed reps (tried in this order by a direct rule)"


class SimulateForm(forms.Form):
    """What to simulate: a draft file, a version or the current set-up; a period; a source."""

    setup = forms.ChoiceField(label="Set-up", choices=[("current", "the current set-up")], initial="draft")
    draft = forms.FileField(required=False, label="Draft routing file", help_text="A dump_routing JSON file.")
    start = forms.DateField(required=False, help_text="First day, e.g. 2026-11-01 (default: 30 days ago).")
    end = forms.DateField(required=False, help_text="Last day, included (default: today).")
    source = forms.CharField(required=False, help_text="Only leads from this source (empty: all).")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["setup"].choices = version_choices()

    def params(self) -> dict:
        """What to simulate as plain data (routing.simulation.simulation_outcome; a job's argument)."""
        data, choice = self.cleaned_data, self.cleaned_data["setup"]
        return {
            "setup": choice,
            "draft": data.get("draft_data") if choice == "draft" else None,
            "version": int(choice) if choice.isdigit() else None,
            "start": data["start"].isoformat() if data.get("start") else None,
            "end": data["end"].isoformat() if data.get("end") else None,
            "source": data.get("source") or None,
        }

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["start"] > cleaned["end"]:
            self.add_error("end", "The last day comes before the first.")
        if cleaned.get("setup") == "draft":
            cleaned["draft_data"] = read_draft(self, cleaned.get("draft"))
        return cleaned


def version_choices() -> list[tuple[str, str]]:
    versions = RoutingVersion.objects.defer("payload").order_by("-number")[:50]
    return [
        ("current", "the current set-up"),
        ("draft", "the draft file below"),
        *((str(v.number), f"v{v.number} ({v.created_at:%Y-%m-%d %H:%M}, {v.who})") for v in versions),
    ]


def read_draft(form: forms.Form, upload) -> dict | None:
    if upload is None:
        form.add_error("draft", "Choose a draft file to try, or another set-up.")
        return None
    try:
        data = json.loads(upload.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        form.add_error("draft", f"The file is not JSON: {err}")
        return None
    if not isinstance(data, dict):
        form.add_error("draft", "The file must hold one routing document (an object).")
        return None
    return data


def setup_label(choice: str) -> str:
    return {"current": "the current set-up", "draft": "the draft"}.get(choice, f"v{choice}")


def _simulation_result_context(outcome: dict, params: dict) -> dict:
    """The result part of the simulation pages (the form's page, a background run's page)."""
    result = outcome["result"]
    labels = rep_labels(
        [r["email"] for r in result["reps"]]
        + [email for c in result["changed"] for email in (c["actual_rep"], c["simulated_rep"]) if email]
    )
    return {
        "result": result,
        "reps": [{**r, "label": labels[r["email"]], "change": r["simulated"] - r["actual"]} for r in result["reps"]],
        "changed": [
            {
                **c,
                "actual_label": labels.get(c["actual_rep"], ""),
                "simulated_label": labels.get(c["simulated_rep"], ""),
            }
            for c in result["changed"]
        ],
        "rules": [
            {**r, "change": r["simulated"] - r["actual"]} for r in result["rules"] if r["simulated"] != r["actual"]
        ],
        "never_fired": outcome["never_fired"],
        "figure": simulation_figure(result, labels),
        "setup_label": setup_label(params.get("setup", "current")),
        "plotly_url": f"{reverse('reports:plotly_js')}?v={plotly.__version__}",
        "draft_json": json.dumps(params["draft"]) if params.get("draft") else "",
    }


class TestLeadForm(forms.Form):
    """A lead's facts (or an existing lead) and the set-up to try it under."""

    lead_id = forms.IntegerField(required=False, label="Existing lead id", help_text="Or leave empty and give facts.")
    email = forms.CharField(required=False)
    company = forms.CharField(required=False)
    country = forms.CharField(required=False, max_length=2, help_text="ISO code, e.g. DE")
    region = forms.CharField(required=False)
    postal_code = forms.CharField(required=False)
    industry = forms.CharField(required=False)
    company_size = forms.IntegerField(required=False, min_value=0)
    annual_revenue = forms.DecimalField(required=False, min_value=0)
    score = forms.IntegerField(required=False, min_value=0, max_value=100)
    product_interest = forms.CharField(required=False)
    source = forms.CharField(required=False)
    language = forms.CharField(required=False)
    setup = forms.ChoiceField(label="Set-up", choices=[("current", "the current set-up")], initial="current")
    draft = forms.FileField(required=False, label="Draft routing file", help_text="A dump_routing JSON file.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["setup"].choices = version_choices()

    def clean(self):
        cleaned = super().clean()
        lead_id = cleaned.get("lead_id")
        if lead_id is not None and not Lead.objects.filter(pk=lead_id).exists():
            self.add_error("lead_id", f"There is no lead {lead_id}.")
        if cleaned.get("setup") == "draft":
            cleaned["draft_data"] = read_draft(self, cleaned.get("draft"))
        return cleaned

    def facts(self) -> LeadFacts:
        data = self.cleaned_data
        if data.get("lead_id") is not None:
            lead = Lead.objects.get(pk=data["lead_id"])
            excluded = lead_excluded_rep_ids(lead_ids=[lead.pk]).get(lead.pk)
            return lead_facts(lead, excluded)
        values = {k: data.get(k) for k in LEAD_FACTS if k in self.fields and data.get(k) not in (None, "")}
        if "country" in values:
            values["country"] = values["country"].upper()
        if "annual_revenue" in values:
            values["annual_revenue"] = float(values["annual_revenue"])
        return LeadFacts(id=0, **values)


@admin.register(Rule)
class RuleAdmin(ChangeHistoryMixin, RoutingVersionMixin, admin.ModelAdmin):
    list_display = [
        "priority",
        "name",
        "active",
        "conditions_in_words",
        "pool",
        "strategy_words",
        "when_none_eligible",
        "decisions_7d",
    ]
    list_display_links = ["name"]
    list_editable = ["priority", "active"]
    list_filter = ["active", "strategy", "when_none_eligible", "requires_working_hours"]
    list_select_related = ["pool_team", "pool_territory"]
    search_fields = ["name"]
    ordering = ["priority", "id"]
    autocomplete_fields = ["pool_team", "pool_territory"]
    filter_horizontal = ["required_skills", "preferred_skills"]
    inlines = [RuleConditionInline, RulePoolRepInline]
    fieldsets = [
        (None, {"fields": ["name", "priority", "active"]}),
        (
            "Pool",
            {
                "fields": ["pool_team", "pool_territory", "pool_matched_territory"],
                "description": (
                    "The pool is the union of the listed reps (below), the team's members and the territory's reps."
                ),
            },
        ),
        (
            "Decision",
            {
                "fields": [
                    "strategy",
                    "when_none_eligible",
                    "required_skills",
                    "preferred_skills",
                    "requires_working_hours",
                    "sla_minutes",
                    "sla_action",
                    "claim_limit",
                ]
            },
        ),
    ]

    def get_urls(self):
        extra = [
            path("map/", self.admin_site.admin_view(self.routing_map_view), name="routing_rule_map"),
            path("test-lead/", self.admin_site.admin_view(self.test_lead_view), name="routing_rule_test_lead"),
            path("simulate/", self.admin_site.admin_view(self.simulate_view), name="routing_rule_simulate"),
            path(
                "simulate/<slug:job_id>/",
                self.admin_site.admin_view(self.simulation_run_view),
                name="routing_rule_simulation_run",
            ),
            path(
                "simulate/<slug:job_id>/progress/",
                self.admin_site.admin_view(self.simulation_progress_view),
                name="routing_rule_simulation_progress",
            ),
        ]
        return extra + super().get_urls()

    def routing_map_view(self, request):
        """The rule chain in priority order with pools, strategies, decisions and health marks."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        rows, inactive = routing_map(now=timezone.now())
        context = {
            **self.admin_site.each_context(request),
            "title": "Routing map",
            "opts": self.model._meta,
            "rows": rows,
            "inactive": inactive,
        }
        return TemplateResponse(request, "admin/routing/rule/routing_map.html", context)

    def simulate_view(self, request):
        """Simulation: a period's leads replayed under a draft / version / the current set-up; "load this draft".

        A period of SIMULATION_JOB_MIN_LEADS leads or more runs as a background job (when jobs run on
        workers): the page then moves to the run's own page, which shows progress and then the result."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method == "POST" and "load" in request.POST:
            return self._load_draft(request)
        threshold = simulation_background_from()
        context = {
            **self.admin_site.each_context(request),
            "title": "Simulate routing",
            "opts": self.model._meta,
            "job_min_leads": None if threshold is None else f"{threshold:,}",
        }
        form = SimulateForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            params = form.params()
            total = simulation_lead_count(
                start=form.cleaned_data.get("start"), end=form.cleaned_data.get("end"), source=params["source"]
            )
            try:
                if simulation_in_background(total):
                    simulation_check(draft=params["draft"], version=params["version"])
                    job_id = simulation_enqueue(params, who=request.user.get_username(), total=total)
                    return redirect("admin:routing_rule_simulation_run", job_id)
                outcome = simulation_outcome(params)
                if "errors" in outcome:
                    raise RoutingFileError(outcome["errors"])
            except RoutingFileError as err:
                for message in err.messages:
                    form.add_error(None, message)
            except RedisError as err:
                form.add_error(
                    None,
                    f"Could not queue the simulation ({type(err).__name__}): the job queue does not answer. "
                    "Try again in a moment, or a shorter period (it then runs here).",
                )
            else:
                context.update(_simulation_result_context(outcome, params))
        context["form"] = form
        return TemplateResponse(request, "routing/admin/simulate.html", context)

    def simulation_run_view(self, request, job_id: str):
        """A background simulation: its progress while it runs, then its result (kept for a day)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        run = simulation_run(job_id)
        context = {
            **self.admin_site.each_context(request),
            "title": "Simulate routing",
            "opts": self.model._meta,
            "run": run,
            "progress_url": reverse("admin:routing_rule_simulation_progress", args=[job_id]),
        }
        if run is not None:
            context["setup_label"] = setup_label(run.params.get("setup", "current"))
            if run.outcome and "errors" in run.outcome:
                context["errors"] = run.outcome["errors"]
            elif run.outcome:
                context.update(_simulation_result_context(run.outcome, run.params))
        return TemplateResponse(request, "routing/admin/simulation_run.html", context)

    def simulation_progress_view(self, request, job_id: str):
        """The run page polls this: {"state": queued/running/finished/failed/gone, "done", "total"}."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        run = simulation_run(job_id)
        return JsonResponse(run.as_dict() if run else {"state": "gone", "done": 0, "total": 0})

    def _load_draft(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        try:
            summary = routing_config_load(
                json.loads(request.POST.get("draft_json") or "null"), who=request.user.get_username(), user=request.user
            )
        except (RoutingFileError, json.JSONDecodeError) as err:
            for message in getattr(err, "messages", [str(err)]):
                self.message_user(request, message, messages.ERROR)
            self.message_user(request, "The draft was not loaded; nothing changed.", messages.ERROR)
            return redirect("admin:routing_rule_simulate")
        if summary.rule_set_version is None:
            self.message_user(request, "Nothing to change: the set-up already matches the draft.")
            return redirect("admin:routing_rule_changelist")
        version = RoutingVersion.objects.get(number=summary.rule_set_version)
        self.message_user(request, f"Draft loaded as v{version.number}.", messages.SUCCESS)
        return redirect("admin:routing_routingversion_change", version.pk)

    def test_lead_view(self, request):
        """Test a lead: the decision the set-up would make now, in words; nothing is written."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = TestLeadForm(request.POST or None, request.FILES or None)
        context = {**self.admin_site.each_context(request), "title": "Test a lead", "opts": self.model._meta}
        if request.method == "POST" and form.is_valid():
            choice = form.cleaned_data["setup"]
            try:
                trial = routing_try_lead(
                    facts=form.facts(),
                    version=int(choice) if choice.isdigit() else None,
                    draft=form.cleaned_data.get("draft_data"),
                )
            except RoutingFileError as err:
                for message in err.messages:
                    form.add_error(None, message)
            else:
                label = (
                    "the current set-up"
                    if choice == "current"
                    else ("the draft" if choice == "draft" else f"v{choice}")
                )
                context.update(trial=trial, trace=reason_html(trial.reason), setup_label=label)
        context["form"] = form
        return TemplateResponse(request, "routing/admin/test_lead.html", context)

    def changelist_view(self, request, extra_context=None):
        # Rule health where ops reorder rules: a shadowed rule or a dead pool shows up right here.
        if request.method == "GET":
            findings = rule_health_findings()
            for finding in findings[:HEALTH_SHOWN]:
                messages.warning(request, str(finding))
            if len(findings) > HEALTH_SHOWN:
                messages.warning(
                    request, f"… and {len(findings) - HEALTH_SHOWN} more: run `manage.py check_rules` for all."
                )
        return super().changelist_view(request, extra_context)

    def get_queryset(self, request):
        since = timezone.now() - dt.timedelta(days=7)
        return (
            super()
            .get_queryset(request)
            .annotate(
                listed_reps=Count("pool_entries", distinct=True),
                decisions_7d=Coalesce(Subquery(rule_decision_counts(since=since)), 0),
            )
            .prefetch_related("conditions")
        )

    @admin.display(description="conditions (all must hold)")
    def conditions_in_words(self, rule):
        conditions = rule.conditions.all()
        if not conditions:
            return "none: every lead"
        words = ((condition_words(c.field, c.op, c.value),) for c in conditions)
        return format_html_join(mark_safe("<br>"), "{}", words)

    @admin.display(description="strategy", ordering="strategy")
    def strategy_words(self, rule):
        return strategy_label(rule.strategy)

    @admin.display(description="decisions, last 7 days", ordering="decisions_7d")
    def decisions_7d(self, rule):
        return rule.decisions_7d

    @admin.display(description="pool")
    def pool(self, rule):
        parts = []
        if rule.listed_reps:
            parts.append(f"{rule.listed_reps} listed rep{'s' if rule.listed_reps != 1 else ''}")
        if rule.pool_team_id:
            parts.append(f"team {rule.pool_team.name}")
        if rule.pool_territory_id:
            parts.append(f"territory {rule.pool_territory.name}")
        if rule.pool_matched_territory:
            parts.append("matched territory")
        return " + ".join(parts) or "empty"


@admin.register(RuleSet)
class RuleSetAdmin(ChangeHistoryMixin, RoutingVersionMixin, admin.ModelAdmin):
    list_display = ["__str__", "version", "existing_owner_first", "updated_at"]
    readonly_fields = ["version", "updated_at"]

    def has_add_permission(self, request):
        return not RuleSet.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Assignment)
class AssignmentAdmin(AssignmentColumnsMixin, ReadOnlyAdmin):
    # Fits 1,400 px: short names here, the whole lead and the trace on the assignment's page.
    list_display = ["created", "lead_name", "outcome", "rep_name", "rule_name", "strategy_words", "decided", "ended"]
    list_display_links = ["created"]
    list_select_related = ["lead", "rep", "decided_by_user"]
    list_filter = ["outcome", "decided_by", "strategy", "end_reason", ("sla_breached_at", admin.EmptyFieldListFilter)]
    search_fields = ["lead__email", "lead__company", "rep__email", "rep__name", "rule_name"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = [
        "lead",
        "outcome",
        "rep",
        "rule",
        "rule_name",
        "strategy",
        "decided_by",
        "decided_by_user",
        "version",
        "created_at",
        "ended_at",
        "end_reason",
        "sla_due_at",
        "sla_met_at",
        "sla_breached_at",
        "reason_trace",
    ]
    readonly_fields = fields

    @admin.display(description="created", ordering="created_at")
    def created(self, assignment):
        return assignment.created_at.strftime("%Y-%m-%d %H:%M")

    @admin.display(description="lead", ordering="lead_id")
    def lead_name(self, assignment):
        lead = assignment.lead
        return " ".join(p for p in (lead.first_name, lead.last_name) if p) or lead.email or f"Lead {lead.pk}"

    @admin.display(description="rep", ordering="rep__name")
    def rep_name(self, assignment):
        return assignment.rep.name if assignment.rep_id else "—"

    def get_queryset(self, request):
        return with_version_pk(super().get_queryset(request))

    @admin.display(description="why")
    def reason_trace(self, assignment):
        history = Assignment.objects.filter(lead_id=assignment.lead_id, created_at__lte=assignment.created_at)
        causes = assignment_causes(history.select_related("rep"))
        return reason_html(assignment.reason, cause=causes.get(assignment.id, ""))


class EngineStateAdmin(ReadOnlyAdmin):
    """The engine's own bookkeeping: superusers only (ops read routing through rules and assignments)."""

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_module_permission(self, request):
        return self.has_view_permission(request)


@admin.register(RotationCursor)
class RotationCursorAdmin(EngineStateAdmin):
    list_display = ["pool_key", "last_rep_id", "updated_at"]
    search_fields = ["pool_key"]


@admin.register(RepDailyCount)
class RepDailyCountAdmin(EngineStateAdmin):
    list_display = ["day", "rep", "assigned"]
    list_select_related = ["rep"]
    search_fields = ["rep__name", "rep__email"]
    date_hierarchy = "day"


@admin.register(RoutingVersion)
class RoutingVersionAdmin(ReadOnlyAdmin):
    """Routing versions: who changed what when, the diff against the version before, restore."""

    list_display = ["version", "created_at", "who", "first_changes"]
    list_display_links = ["version"]
    search_fields = ["who", "changes"]
    date_hierarchy = "created_at"
    fields = ["version", "created_at", "who", "all_changes", "restore", "diff"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("payload")

    @admin.display(description="version", ordering="number")
    def version(self, obj):
        return f"v{obj.number}"

    @admin.display(description="changes")
    def first_changes(self, obj):
        text = "; ".join(obj.changes)
        return text if len(text) <= 160 else text[:159] + "…"

    @admin.display(description="changes")
    def all_changes(self, obj):
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((line,) for line in obj.changes)))

    @admin.display(description="diff against the version before")
    def diff(self, obj):
        previous = RoutingVersion.objects.filter(number__lt=obj.number).order_by("-number").first()
        before = routing_config_dumps(version_document(previous.number)) if previous else ""
        after = routing_config_dumps(version_document(obj.number))
        label = f"v{previous.number}" if previous else "(nothing recorded)"
        lines = difflib.unified_diff(before.splitlines(), after.splitlines(), label, f"v{obj.number}", n=3, lineterm="")
        return format_html(
            '<pre class="routing-diff" style="white-space: pre-wrap; overflow-wrap: anywhere">{}</pre>',
            "\n".join(lines) or "no difference",
        )

    @admin.display(description="restore")
    def restore(self, obj):
        if obj.number == RuleSet.current().version:
            return "This is the current version."
        return format_html(
            '<a class="button" href="{}">Restore this version…</a>',
            reverse("admin:routing_routingversion_restore", args=[obj.pk]),
        )

    def get_urls(self):
        view = self.admin_site.admin_view(self.restore_view)
        return [path("<int:pk>/restore/", view, name="routing_routingversion_restore"), *super().get_urls()]

    def restore_view(self, request, pk: int):
        if not request.user.has_perm("routing.restore_routingversion"):
            raise PermissionDenied
        version = get_object_or_404(RoutingVersion, pk=pk)
        if request.method == "POST":
            try:
                summary = routing_version_restore(
                    number=version.number, who=request.user.get_username(), user=request.user
                )
            except RoutingFileError as err:
                for message in err.messages:
                    self.message_user(request, message, messages.ERROR)
                self.message_user(request, f"v{version.number} was not restored; nothing changed.", messages.ERROR)
                return redirect("admin:routing_routingversion_change", version.pk)
            if summary.rule_set_version is None:
                self.message_user(request, f"Nothing to change: the set-up already matches v{version.number}.")
                return redirect("admin:routing_routingversion_change", version.pk)
            new = RoutingVersion.objects.get(number=summary.rule_set_version)
            self.message_user(request, f"Restored v{version.number} as v{new.number}.", messages.SUCCESS)
            return redirect("admin:routing_routingversion_change", new.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Restore v{version.number}?",
            "opts": self.model._meta,
            "version": version,
            "changes": document_changes(routing_config_dump(), version_document(version.number)),
        }
        return TemplateResponse(request, "routing/admin/restore_version.html", context)
