"""Reads of leads that the API, the admin and the import share."""
from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from leadops.models import Integration, Lead
from routing.models import Assignment


def _with_current_assignment(leads: QuerySet[Lead]) -> QuerySet[Lead]:
    """Owner joined, and the lead's assignments that have not ended (newest first) in `current_assignments`."""
    return leads.select_related("owner").prefetch_related(
        Prefetch(
            "assignments",
            queryset=Assignment.objects.filter(ended_at__isnull=True).order_by("-created_at", "-id"),
            to_attr="current_assignments",
        )
    )


def lead_current_assignment(lead: Lead) -> Assignment | None:
    """The decision behind the lead's present state (assigned, pooled or unroutable), if any."""
    current = getattr(lead, "current_assignments", None)
    if current is None:
        return lead.assignments.filter(ended_at__isnull=True).order_by("-created_at", "-id").first()
    return current[0] if current else None


def lead_list(*, integration: Integration | None = None) -> QuerySet[Lead]:
    """Leads an API caller may see: an integration only its own; staff all."""
    leads = Lead.objects.all()
    if integration is not None:
        leads = leads.filter(integration=integration)
    return _with_current_assignment(leads).order_by("-created_at", "-id")


def lead_get(*, lead_id: int) -> Lead | None:
    return _with_current_assignment(Lead.objects.filter(pk=lead_id)).first()
