"""Reads of leads that the API, the admin and the import share."""

from __future__ import annotations

import time
from collections.abc import Iterable

from django.db.models import Prefetch, QuerySet

from leadops.models import Integration, Lead, LeadStatus
from routing.models import Assignment

KEY_LOOKUP_CHUNK = 500


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


def lead_get(*, lead_id: int, integration: Integration | None = None) -> Lead | None:
    """The lead, or None; with `integration`, only when that integration sent it (another's lead is not there)."""
    leads = Lead.objects.filter(pk=lead_id)
    if integration is not None:
        leads = leads.filter(integration=integration)
    return _with_current_assignment(leads).first()


def lead_wait_routed(*, lead_id: int, seconds: float) -> Lead | None:
    """The lead once it is no longer `pending`, or as it is after `seconds` (POST ?wait=).

    Polls the lead's status, one indexed primary-key read at a time, every 10 ms at first and
    at most every 100 ms; each read is its own autocommit statement, so no transaction or lock
    is held while waiting. Returns None if the lead is gone.
    """
    deadline = time.monotonic() + seconds
    pause = 0.01
    while True:
        status = Lead.objects.filter(pk=lead_id).values_list("status", flat=True).first()
        left = deadline - time.monotonic()
        if status != LeadStatus.PENDING or left <= 0:
            return lead_get(lead_id=lead_id)
        time.sleep(min(pause, left))
        pause = min(pause * 1.5, 0.1)


def lead_keys_stored(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, int | None]]:
    """{(source, external_id): (lead id, integration id)} for the keys already stored; a query per 500 keys."""
    keys = list(keys)
    found: dict[tuple[str, str], tuple[int, int | None]] = {}
    for start in range(0, len(keys), KEY_LOOKUP_CHUNK):
        chunk = keys[start : start + KEY_LOOKUP_CHUNK]
        external_ids = {ext for _, ext in chunk}
        sources = {source for source, _ in chunk}
        rows = Lead.objects.filter(source__in=sources, external_id__in=external_ids).values_list(
            "source", "external_id", "id", "integration_id"
        )
        wanted = set(chunk)
        for source, ext, lead_id, integration_id in rows:
            if (source, ext) in wanted:
                found[(source, ext)] = (lead_id, integration_id)
    return found
