"""Outcome events on a lead: they update the lead's timestamps and status, and can send it back to routing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from leadops.errors import IntakeConflict, IntakeError
from leadops.models import POSTABLE_EVENT_TYPES, Integration, Lead, LeadEvent, LeadEventType, LeadStatus
from routing.services.assignments import assignment_facts_record_event, leads_send_back

# An event may be stamped this far in the future (the sender's clock runs ahead).
CLOCK_SKEW = timedelta(minutes=5)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
CLOSED = {LeadStatus.CONVERTED, LeadStatus.LOST}
NEED_OWNER = {LeadEventType.CONTACTED, LeadEventType.MISROUTED, LeadEventType.RELEASED}
BACK_TO_ROUTING = {LeadEventType.MISROUTED, LeadEventType.RELEASED}


def lead_event_record(
    *,
    lead_id: int,
    type: str,
    at: datetime | None = None,
    note: str = "",
    integration: Integration | None = None,
    user=None,
) -> LeadEvent:
    """Record an event with `rep` = the lead's owner at that moment and apply it to the lead.

    contacted: sets first_contacted_at (the first one only). converted / lost: set status and
    closed_at. misrouted / released: end the current assignment, clear the owner, set the lead
    pending and route it again (the engine leaves out reps named on these events). The report
    facts on the rep's assignments (first contact, converted, misrouted) move in the same transaction.
    """
    if type not in POSTABLE_EVENT_TYPES:
        raise IntakeError({"type": [f"Use one of {', '.join(POSTABLE_EVENT_TYPES)}."]})
    now = timezone.now()
    at = at or now
    if at > now + CLOCK_SKEW:
        raise IntakeError({"at": ["Must not be in the future."]})
    if at < EARLIEST:
        raise IntakeError({"at": ["Must be after 2000-01-01."]})
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        if type in NEED_OWNER and lead.owner_id is None:
            raise IntakeError({"type": [f"The lead has no owner ({lead.status}): nobody can have {type} it."]})
        if lead.status in CLOSED and type != LeadEventType.CONTACTED:
            raise IntakeConflict({"type": [f"The lead is {lead.status} already."]})
        event = LeadEvent.objects.create(
            lead=lead, type=type, rep_id=lead.owner_id, at=at, note=note, integration=integration, user=user
        )
        changed = ["updated_at"]
        if type == LeadEventType.CONTACTED:
            if lead.first_contacted_at is None:
                lead.first_contacted_at = at
                changed.append("first_contacted_at")
        elif type in (LeadEventType.CONVERTED, LeadEventType.LOST):
            lead.status, lead.closed_at = type, at
            changed += ["status", "closed_at"]
        lead.save(update_fields=changed)
        assignment_facts_record_event(lead_id=lead.pk, rep_id=lead.owner_id, type=type, at=at)
        if type in BACK_TO_ROUTING:  # without this rep: the engine leaves out reps named on these events
            leads_send_back(lead_ids=[lead.pk], at=at, reason=type)
    return event
