"""route_pending: the safety net for leads whose job was lost (worker killed, Redis down)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from reps.models import Team
from routing import selectors
from routing.services.locks import sweep_lock
from routing.services.reps import reps_away_hand_back
from routing.services.route import RouteResult, leads_route

logger = logging.getLogger(__name__)

# A backlog is routed in bigger transactions than a job's: fewer fixed costs per lead, at the
# price of holding the routing lock about a second per batch.
SWEEP_BATCH_SIZE = 2000


@dataclass
class SweepResult:
    ran: bool = True  # False: another sweep holds the lock, this one did nothing
    redistributed: int = 0  # leads not yet contacted handed back from reps on time off
    teams_handing_back: list[str] = field(default_factory=list)
    routed: RouteResult = field(default_factory=RouteResult)

    def summary(self) -> str:
        if not self.ran:
            return "Another route_pending is running; nothing done."
        if not self.teams_handing_back:
            away = "leads of reps on time off stay with them (no team hands them back)"
        else:
            away = (
                f"{self.redistributed} lead{'s' if self.redistributed != 1 else ''} not yet contacted handed back "
                f"from reps on time off past their team's grace period ({', '.join(self.teams_handing_back)})"
            )
        return f"{self.routed.summary()}; {away}"

    def as_dict(self) -> dict:
        return {"ran": self.ran, "redistributed": self.redistributed, **self.routed.as_dict()}


def leads_route_pending(*, grace_seconds: int | None = None, everything: bool = False) -> SweepResult:
    """Route every lead pending longer than the grace period, and every held lead.

    The grace period leaves freshly stored leads to their own job. `everything` ignores it.
    First, reps on time off hand back their leads not yet contacted, where their team asked for
    it and the time off has run past the team's grace period (reps/models.py Team). Two sweeps never
    overlap (an advisory lock); a sweep and workers may overlap safely (leads are claimed
    with SKIP LOCKED).
    """
    result = SweepResult()
    with sweep_lock() as acquired:
        if not acquired:
            result.ran = False
            return result
        now = timezone.now()
        result.teams_handing_back = list(
            Team.objects.filter(away_hand_back_after_minutes__isnull=False).values_list("name", flat=True)
        )
        if result.teams_handing_back:
            result.redistributed = len(reps_away_hand_back(now=now))
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
