"""Query filters of GET /api/leads/: status, owner (rep id or email), source, created range."""

import datetime as dt

import django_filters
from django import forms
from django.db.models import Q
from django_filters.fields import IsoDateTimeField

from leadops.models import Lead, LeadStatus


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, turned to UTC: a valid Python offset the database refuses (-22:21) or a time that
    falls off the calendar in UTC (9999-12-31T23:00-05:00) is a 400 naming the parameter, not a 500."""

    def clean(self, value):
        try:
            value = super().clean(value)
            return value.astimezone(dt.UTC) if value is not None else None
        except OverflowError as exc:
            raise forms.ValidationError("This time is out of range.") from exc


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class LeadFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=LeadStatus.choices)
    owner = django_filters.CharFilter(method="filter_owner", help_text="A rep id or a rep email.")
    source = django_filters.CharFilter(max_length=60)
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Lead
        fields = ["status", "owner", "source", "created_after", "created_before"]

    def filter_owner(self, queryset, name, value):
        value = value.strip()
        if value.isascii() and value.isdigit() and len(value) < 19:
            return queryset.filter(owner_id=int(value))
        return queryset.filter(Q(owner__email__iexact=value))
