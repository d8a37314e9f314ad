"""route_pending: the safety net for leads whose job was lost (worker killed, Redis down)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from routing import selectors
from routing.services.locks import sweep_lock
from routing.services.reps import rep_redistribute_open_leads
from routing.services.route import RouteResult, leads_route

logger = logging.getLogger(__name__)

# A backlog is routed in bigger transactions than a job's: fewer fixed costs per lead, at the
# price of holding the routing lock about a second per batch.
SWEEP_BATCH_SIZE = 2000


@dataclass
class SweepResult:
    ran: bool = True  # False: another sweep holds the lock, this one did nothing
    redistributed: int = 0
    routed: RouteResult = field(default_factory=RouteResult)

    def summary(self) -> str:
        if not self.ran:
            return "Another route_pending is running; nothing done."
        return f"{self.routed.summary()}; {self.redistributed} open leads of away reps sent back"

    def as_dict(self) -> dict:
        return {"ran": self.ran, "redistributed": self.redistributed, **self.routed.as_dict()}


def leads_route_pending(*, grace_seconds: int | None = None, everything: bool = False) -> SweepResult:
    """Route every lead pending longer than the grace period, and every held lead.

    The grace period leaves freshly stored leads to their own job. `everything` ignores it.
    Inactive reps and reps on time off give back their open leads first. Two sweeps never
    overlap (an advisory lock); a sweep and workers may overlap safely (leads are claimed
    with SKIP LOCKED).
    """
    result = SweepResult()
    with sweep_lock() as acquired:
        if not acquired:
            result.ran = False
            return result
        now = timezone.now()
        for rep_id in selectors.reps_away_with_open_leads(now=now):
            result.redistributed += len(rep_redistribute_open_leads(rep_id=rep_id))
        grace = settings.ROUTING_PENDING_GRACE_SECONDS if grace_seconds is None else grace_seconds
        cutoff = None if everything else now - dt.timedelta(seconds=grace)
        batch = max(settings.ROUTING_BATCH_SIZE, SWEEP_BATCH_SIZE)
        waiting = selectors.leads_awaiting_routing(older_than=cutoff)
        last_id = 0
        while True:  # in id order, a slice at a time: memory stays flat whatever the backlog
            ids = list(waiting.filter(id__gt=last_id).values_list("id", flat=True)[: batch * 10])
            if not ids:
                break
            result.routed.add(leads_route(lead_ids=ids, retry=True, batch_size=batch))
            last_id = ids[-1]
    if result.routed.failed:
        logger.warning("route_pending: %d leads failed to route", len(result.routed.failed))
    return result
