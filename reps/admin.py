"""Ops admin for teams, skill tags and reps (capacity, skills, time off, current load)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from leadops.admin_common import ChangeHistoryMixin, SharedChoicesInlineMixin
from reps.admin_login import give_login
from reps.forms import WorkingHoursField
from reps.models import Rep, RepSkill, SkillTag, Team, TimeOff, validate_proficiency, weight_clean
from routing.admin_actions import REP_ACTIONS
from routing.admin_versioning import RoutingVersionMixin
from routing.services.reps import (
    HAND_BACK_CHOICES,
    ROUTING_FIELDS,
    UNCONTACTED,
    rep_routing_update,
    reps_open_leads,
    reps_routing_update,
)

LEADS_SHOWN = 300  # open leads listed on the deactivation page


class DeactivateForm(forms.Form):
    hand_back = forms.ChoiceField(
        label="Their open leads",
        choices=list(HAND_BACK_CHOICES.items()),
        initial=UNCONTACTED,
        widget=forms.RadioSelect,
    )


@admin.register(Team)
class TeamAdmin(ChangeHistoryMixin, RoutingVersionMixin, admin.ModelAdmin):
    list_display = ["name", "manager", "rep_count", "away_hand_back_after_minutes"]
    list_select_related = ["manager"]
    search_fields = ["name"]
    autocomplete_fields = ["manager"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(rep_count=Count("reps", filter=Q(reps__active=True)))

    @admin.display(description="active reps", ordering="rep_count")
    def rep_count(self, team):
        return team.rep_count


@admin.register(SkillTag)
class SkillTagAdmin(RoutingVersionMixin, admin.ModelAdmin):
    list_display = ["name", "rep_count"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(rep_count=Count("rep_skills"))

    @admin.display(description="reps with it", ordering="rep_count")
    def rep_count(self, skill):
        return skill.rep_count


class RepSkillForm(forms.ModelForm):
    class Meta:
        model = RepSkill
        fields = ["skill", "proficiency"]

    def clean_proficiency(self):
        proficiency = self.cleaned_data["proficiency"]
        if proficiency is not None:
            validate_proficiency(proficiency)
        return proficiency


class RepSkillInline(SharedChoicesInlineMixin, admin.TabularInline):
    model = RepSkill
    form = RepSkillForm
    shared_choice_fields = ("skill",)
    extra = 1


class TimeOffInline(admin.TabularInline):
    model = TimeOff
    fields = ["start", "end", "reason"]
    extra = 0


class RepForm(forms.ModelForm):
    working_hours = WorkingHoursField(label="Working hours")

    class Meta:
        model = Rep
        fields = [
            "name",
            "email",
            "user",
            "team",
            "territories",
            "active",
            "timezone",
            "capacity",
            "daily_cap",
            "weight",
            "working_hours",
        ]

    def clean_weight(self):
        weight = self.cleaned_data["weight"]
        return weight if weight is None else weight_clean(weight)


@admin.register(Rep)
class RepAdmin(ChangeHistoryMixin, RoutingVersionMixin, admin.ModelAdmin):
    form = RepForm
    # Fits 1,400 px beside the filters; the e-mail and time zone are on the rep's page.
    list_display = ["name", "team", "active", "away_now", "load", "daily_cap", "weight"]
    list_filter = ["active", "team", "territories", "skills"]
    list_select_related = ["team"]
    search_fields = ["name", "email", "team__name"]
    autocomplete_fields = ["team", "user", "territories"]
    readonly_fields = ["last_assigned_at", "created_at", "updated_at"]
    inlines = [RepSkillInline, TimeOffInline]
    actions = [*REP_ACTIONS, give_login]  # routing/admin_actions.py; reps/admin_login.py (a login for /queue/)
    fieldsets = [
        (None, {"fields": ["name", "email", "user", "team", "territories", "active", "notify_email"]}),
        ("Capacity", {"fields": ["capacity", "daily_cap", "weight"]}),
        ("Hours", {"fields": ["timezone", "working_hours"]}),
        ("History", {"fields": ["last_assigned_at", "created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def save_model(self, request, obj, form, change):
        """Routing fields go through routing's rep service; unticking Active asks first what happens to leads."""
        if not change:
            super().save_model(request, obj, form, change)
            return
        routing = {name: form.cleaned_data[name] for name in form.changed_data if name in ROUTING_FIELDS}
        if "active" in routing:
            obj.active = form.initial.get("active", True)  # the service applies it
        super().save_model(request, obj, form, change)
        if routing.get("active") is False and reps_open_leads(rep_ids=[obj.pk]).exists():
            del routing["active"]
            form.changed_data.remove("active")
            request._rep_deactivate = obj.pk  # response_change sends ops to the confirmation page
        if routing:
            rep_routing_update(rep_id=obj.pk, changes=routing, user=request.user)
            for name, value in routing.items():
                setattr(obj, name, value)

    def response_change(self, request, obj):
        rep_id = getattr(request, "_rep_deactivate", None)
        if rep_id is None:
            return super().response_change(request, obj)
        self.message_user(
            request, f"Other changes to {obj.name} are saved. Choose what happens to their open leads to deactivate."
        )
        return HttpResponseRedirect(f"{reverse('admin:reps_rep_deactivate')}?ids={rep_id}")

    def get_urls(self):
        extra = [path("deactivate/", self.admin_site.admin_view(self.deactivate_view), name="reps_rep_deactivate")]
        return extra + super().get_urls()

    def deactivate_view(self, request):
        """Confirm a deactivation: the reps' open leads, contacted or not, and which of them go back to routing."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        ids = [int(part) for part in request.GET.get("ids", "").split(",") if part.strip().isdigit()]
        reps = list(Rep.objects.filter(id__in=ids, active=True).order_by("name"))
        changelist = reverse("admin:reps_rep_changelist")
        if not reps:
            self.message_user(request, "None of the selected reps is active.", messages.WARNING)
            return HttpResponseRedirect(changelist)
        form = DeactivateForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            return self._deactivate(request, reps, form.cleaned_data["hand_back"])
        leads = reps_open_leads(rep_ids=[r.id for r in reps]).select_related("owner").order_by("owner__name", "id")
        total = leads.count()
        contacted = leads.filter(first_contacted_at__isnull=False).count()
        context = {
            **self.admin_site.each_context(request),
            "title": "Deactivate " + ", ".join(r.name for r in reps),
            "opts": self.model._meta,
            "reps": reps,
            "form": form,
            "leads": leads[:LEADS_SHOWN],
            "total": total,
            "contacted": contacted,
            "uncontacted": total - contacted,
            "more": max(total - LEADS_SHOWN, 0),
        }
        return TemplateResponse(request, "admin/reps/rep/deactivate.html", context)

    def _deactivate(self, request, reps, hand_back):
        result = reps_routing_update(
            changes={r.id: {"active": False} for r in reps}, hand_back=hand_back, user=request.user
        )
        names = ", ".join(r.name for r in reps)
        for rep in reps:
            self.log_change(request, rep, f"Deactivated; open leads: {HAND_BACK_CHOICES[hand_back].lower()}.")
        if not result.handed_back:
            self.message_user(request, f"{names} deactivated; no lead was handed back.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:reps_rep_changelist"))
        ids = ",".join(str(i) for i in result.handed_back)
        url = f"{reverse('admin:leadops_lead_changelist')}?id__in={ids}"
        self.message_user(
            request,
            format_html(
                "{} deactivated; {} open lead(s) handed back to routing. Below: where they went (owner column).",
                names,
                len(result.handed_back),
            ),
            messages.SUCCESS,
        )
        return HttpResponseRedirect(url)

    def get_queryset(self, request):
        # Open = the rep owns it and it is still `assigned` (PRODUCT.md, "Precise readings").
        now = timezone.now()
        return (
            super()
            .get_queryset(request)
            .annotate(
                open_leads=Count("leads", filter=Q(leads__status="assigned")),
                away_now=Exists(TimeOff.objects.filter(rep=OuterRef("pk"), start__lte=now, end__gt=now)),
            )
        )

    @admin.display(description="on time off", boolean=True, ordering="away_now")
    def away_now(self, rep):
        return rep.away_now

    @admin.display(description="open leads / capacity (load)", ordering="open_leads")
    def load(self, rep):
        if not rep.capacity:
            return "paused (capacity 0)" if rep.open_leads == 0 else f"over ({rep.open_leads} open, capacity 0)"
        return f"{rep.open_leads} / {rep.capacity} ({rep.open_leads / rep.capacity:.0%})"
