"""The report filters: period (inclusive dates, server zone; default the last 30 days), team, territory, source.

One FilterSet reads the query string for the page and the CSV alike; it filters the
assignments the metrics are computed from, and hands out the matching reps and leads.
"""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone

from leadops.models import Lead
from reps.models import Rep, Team
from routing.engine import TerritoryTree
from routing.models import Assignment, Territory

DEFAULT_DAYS = 30
# A period is at most this long and ends today at the latest, so a silly range (0001-01-01 to 9999-12-31)
# costs what three years cost; the page says when it shortened the period.
MAX_YEARS = 3
MAX_DAYS = MAX_YEARS * 366


def day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day` in the server's time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def default_period(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The last 30 days, today included."""
    today = today or timezone.localdate()
    return today - dt.timedelta(days=DEFAULT_DAYS - 1), today


def territory_and_inside(territory: Territory) -> list[int]:
    """The territory's id and the ids of every territory nested inside it (one query; routing's tree walker)."""
    return TerritoryTree(dict(Territory.objects.values_list("pk", "parent_id"))).descendants_or_self(territory.pk)


def period_clamp(start: dt.date, end: dt.date, today: dt.date | None = None) -> tuple[dt.date, dt.date, str]:
    """(start, end, note): the period cut to end today at the latest and to last at most MAX_YEARS;
    the note says what was cut ("" when nothing was)."""
    today = today or timezone.localdate()
    notes = []
    if end > today:
        end = today
        notes.append("ends today: there is no data after today")
    if (end - start).days >= MAX_DAYS:
        start = end - dt.timedelta(days=MAX_DAYS - 1)
        notes.append(f"covers at most {MAX_YEARS} years")
    start = min(start, end)
    return start, end, ("The period was shortened: it " + " and ".join(notes) + ".") if notes else ""


class ReportForm(forms.Form):
    period_note = ""

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", "The end date is before the start date.")
        elif start and end:
            cleaned["start"], cleaned["end"], self.period_note = period_clamp(start, end)
        return cleaned


def reps_in_territory(territory: Territory) -> QuerySet:
    """Ids of the reps attached to the territory or to any territory inside it."""
    return Rep.territories.through.objects.filter(territory_id__in=territory_and_inside(territory)).values("rep_id")


class ReportFilter(django_filters.FilterSet):
    start = django_filters.DateFilter(
        label="From",
        method="filter_start",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = django_filters.DateFilter(
        label="To",
        method="filter_end",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    team = django_filters.ModelChoiceFilter(
        queryset=Team.objects.all(),
        field_name="rep__team",
        label="Team",
        empty_label="All teams",
    )
    territory = django_filters.ModelChoiceFilter(
        queryset=Territory.objects.all(),
        method="filter_territory",
        label="Territory",
        empty_label="All territories",
    )
    source = django_filters.CharFilter(field_name="lead__source", label="Source")

    class Meta:
        model = Assignment
        fields: list[str] = []
        form = ReportForm

    # The field the period filters: the assignment's time; sla_due() reads the SLA due time instead.
    period_field = "created_at"

    def __init__(self, data=None, queryset=None, **kwargs):
        data = data.copy() if data is not None else QueryDict(mutable=True)
        start, end = default_period()
        if not data.get("start"):
            data["start"] = start.isoformat()
        if not data.get("end"):
            data["end"] = end.isoformat()
        if queryset is None:
            queryset = Assignment.objects.all()
        super().__init__(data, queryset=queryset, **kwargs)
        self.form.fields["source"].widget.attrs.update({"list": "sources", "placeholder": "Any source"})

    # --- the period and the other filters, as the metrics read them
    @property
    def period(self) -> tuple[dt.date, dt.date]:
        return self.form.cleaned_data["start"], self.form.cleaned_data["end"]

    @property
    def lead_source(self) -> str:
        """The chosen lead source ("" for any)."""
        return self.form.cleaned_data.get("source") or ""

    @property
    def since(self) -> dt.datetime:
        return day_start(self.period[0])

    @property
    def until(self) -> dt.datetime:
        """Exclusive upper bound: midnight after the end date."""
        return day_start(self.period[1] + dt.timedelta(days=1))

    def filter_start(self, queryset, name, value):
        if not self.period_field:
            return queryset
        return queryset.filter(**{f"{self.period_field}__gte": day_start(value)})

    def filter_end(self, queryset, name, value):
        if not self.period_field:
            return queryset
        return queryset.filter(**{f"{self.period_field}__lt": day_start(value + dt.timedelta(days=1))})

    def _assignments(self, period_field: str, queryset: QuerySet[Assignment]) -> QuerySet[Assignment]:
        self.period_field = period_field
        try:
            return self.filter_queryset(queryset)
        finally:
            self.period_field = "created_at"

    def sla_due(self) -> QuerySet[Assignment]:
        """Assignments (and poolings) whose SLA fell due in the period, for the chosen team, territory
        and source: the slice the SLA figures count (an SLA is judged when it is due, not when assigned)."""
        return self._assignments("sla_due_at", Assignment.objects.filter(sla_due_at__isnull=False))

    def current(self) -> QuerySet[Assignment]:
        """The chosen team's, territory's and source's assignments whatever their time (for "now" figures)."""
        return self._assignments("", Assignment.objects.all())

    def decisions(self) -> QuerySet[Assignment]:
        """Routing decisions of any outcome made in the period for the chosen source (whatever the rep)."""
        decisions = Assignment.objects.filter(created_at__gte=self.since, created_at__lt=self.until)
        if self.lead_source:
            decisions = decisions.filter(lead__source=self.lead_source)
        return decisions

    @property
    def narrowed(self) -> bool:
        """A team or territory is chosen: only figures that belong to reps can follow it."""
        return bool(self.form.cleaned_data.get("team") or self.form.cleaned_data.get("territory"))

    def filter_territory(self, queryset, name, value):
        return queryset.filter(rep_id__in=reps_in_territory(value)) if value else queryset

    def reps(self) -> QuerySet[Rep]:
        """Reps in the chosen team and territory (or inside it)."""
        reps = Rep.objects.all()
        data = self.form.cleaned_data
        if data.get("team"):
            reps = reps.filter(team=data["team"])
        if data.get("territory"):
            reps = reps.filter(pk__in=reps_in_territory(data["territory"]))
        return reps

    def leads(self, *, whole_history: bool = False) -> QuerySet[Lead]:
        """Leads created in the period (or ever), from the chosen source."""
        leads = Lead.objects.all()
        if not whole_history:
            leads = leads.filter(created_at__gte=self.since, created_at__lt=self.until)
        if self.lead_source:
            leads = leads.filter(source=self.lead_source)
        return leads

    def query_string(self, **changes) -> str:
        """The current filters as a query string, with some values changed (for sort links and the CSV)."""
        params = QueryDict(mutable=True)
        for name in ("start", "end", "team", "territory", "source", "sort"):
            value = changes.get(name, self.data.get(name))
            if value not in (None, ""):
                params[name] = value
        return params.urlencode()
