"""When a rep stops taking leads (deactivated, on time off), their open leads go back to routing."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from leadops.models import Lead, LeadStatus
from reps.models import Rep
from routing.models import Assignment
from routing.services.assignments import leads_send_back
from routing.services.enqueue import rep_enqueue_redistribution


def rep_redistribute_open_leads(*, rep_id: int) -> list[int]:
    """Put the rep's open leads back to pending and route them (the rep is skipped as
    inactive / on time off, so they go to someone else). Returns the lead ids."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Lead.objects.select_for_update()
            .filter(owner_id=rep_id, status=LeadStatus.ASSIGNED)
            .order_by("id")
            .values_list("id", flat=True)
        )
        leads_send_back(lead_ids=ids, at=now, reason=Assignment.EndReason.REROUTED)
    return ids


def rep_deactivate(*, rep_id: int) -> list[int]:
    """The rep leaves every pool at once; their open leads are routed to others."""
    with transaction.atomic():
        Rep.objects.filter(id=rep_id).update(active=False, updated_at=timezone.now())
        rep_enqueue_redistribution(rep_id)
        return rep_redistribute_open_leads(rep_id=rep_id)
