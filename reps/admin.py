"""Ops admin for teams, skill tags and reps (capacity, skills, time off, current load)."""

from django import forms
from django.contrib import admin
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from leadops.admin_common import ChangeHistoryMixin, SharedChoicesInlineMixin
from reps.admin_login import give_login
from reps.models import Rep, RepSkill, SkillTag, Team, TimeOff, validate_proficiency, weight_clean
from routing.admin_actions import REP_ACTIONS
from routing.services import rep_deactivate


@admin.register(Team)
class TeamAdmin(ChangeHistoryMixin, admin.ModelAdmin):
    list_display = ["name", "manager", "rep_count"]
    list_select_related = ["manager"]
    search_fields = ["name"]
    autocomplete_fields = ["manager"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(rep_count=Count("reps", filter=Q(reps__active=True)))

    @admin.display(description="active reps", ordering="rep_count")
    def rep_count(self, team):
        return team.rep_count


@admin.register(SkillTag)
class SkillTagAdmin(admin.ModelAdmin):
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
class RepAdmin(ChangeHistoryMixin, admin.ModelAdmin):
    form = RepForm
    list_display = [
        "name",
        "email",
        "team",
        "active",
        "away_now",
        "open_leads",
        "capacity",
        "load",
        "daily_cap",
        "weight",
        "timezone",
    ]
    list_filter = ["active", "team", "territories", "skills"]
    list_select_related = ["team"]
    search_fields = ["name", "email", "team__name"]
    autocomplete_fields = ["team", "user", "territories"]
    readonly_fields = ["last_assigned_at", "created_at", "updated_at"]
    inlines = [RepSkillInline, TimeOffInline]
    actions = [*REP_ACTIONS, give_login]  # routing/admin_actions.py; reps/admin_login.py (a login for /queue/)
    fieldsets = [
        (None, {"fields": ["name", "email", "user", "team", "territories", "active"]}),
        ("Capacity", {"fields": ["capacity", "daily_cap", "weight"]}),
        ("Hours", {"fields": ["timezone", "working_hours"]}),
        ("History", {"fields": ["last_assigned_at", "created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "active" in form.changed_data and not obj.active:
            # Unticking "active" is a deactivation: the rep's open leads go to others at once.
            moved = rep_deactivate(rep_id=obj.pk)
            self.message_user(request, f"{obj.name} is inactive; {len(moved)} open lead(s) sent back to routing.")

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

    @admin.display(description="open leads", ordering="open_leads")
    def open_leads(self, rep):
        return rep.open_leads

    @admin.display(description="load")
    def load(self, rep):
        if not rep.capacity:
            return "paused (capacity 0)" if rep.open_leads == 0 else f"over ({rep.open_leads} open, capacity 0)"
        return f"{rep.open_leads / rep.capacity:.0%}"
