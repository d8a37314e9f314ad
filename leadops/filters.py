"""Query filters of GET /api/leads/: status, owner (rep id or email), source, created range."""

import django_filters
from django.db.models import Q

from leadops.models import Lead, LeadStatus


class LeadFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=LeadStatus.choices)
    owner = django_filters.CharFilter(method="filter_owner", help_text="A rep id or a rep email.")
    source = django_filters.CharFilter(max_length=60)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Lead
        fields = ["status", "owner", "source", "created_after", "created_before"]

    def filter_owner(self, queryset, name, value):
        value = value.strip()
        if value.isdigit() and len(value) < 19:
            return queryset.filter(owner_id=int(value))
        return queryset.filter(Q(owner__email__iexact=value))
