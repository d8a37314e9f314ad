"""A rep's routing fields change in one place: the admin (rep page, actions) and `load_routing` call it.

Deactivating a rep hands back their open leads as ops chose: only the leads not yet contacted
(the default: a contacted lead is a conversation in progress), all of them, or none. A rep on
time off keeps their leads unless their team asked for them to be handed back
(`Team.away_hand_back_after_minutes`); then the sweep hands back the not-yet-contacted ones
once the time off has run that long.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from leadops.errors import RoutingError
from leadops.models import Lead, LeadStatus
from reps.models import Rep, Team, TimeOff
from routing.models import Assignment
from routing.services.assignments import leads_send_back
from routing.services.enqueue import rep_enqueue_redistribution

UNCONTACTED, ALL, NONE = "uncontacted", "all", "none"
HAND_BACK_CHOICES = {
    UNCONTACTED: "Hand back only the leads not yet contacted (contacted leads stay with the rep)",
    ALL: "Hand back all open leads",
    NONE: "Hand back none (the rep keeps their open leads)",
}
ROUTING_FIELDS = frozenset(
    {
        "name",
        "team",
        "team_id",
        "capacity",
        "daily_cap",
        "weight",
        "timezone",
        "working_hours",
        "active",
        "notify_email",
    }
)


@dataclass
class RepsUpdateResult:
    deactivated: list[int] = field(default_factory=list)
    handed_back: list[int] = field(default_factory=list)  # lead ids sent back to routing


def reps_open_leads(*, rep_ids: Iterable[int], hand_back: str = ALL):
    """The open leads of these reps that `hand_back` selects (ALL: every open lead)."""
    leads = Lead.objects.filter(owner_id__in=list(rep_ids), status=LeadStatus.ASSIGNED)
    if hand_back == UNCONTACTED:
        return leads.filter(first_contacted_at__isnull=True)
    if hand_back == NONE:
        return leads.none()
    return leads


def reps_hand_back(*, rep_ids: Iterable[int], hand_back: str, reason: str, at: dt.datetime) -> list[int]:
    """Send the reps' open leads that `hand_back` selects back to routing (rows locked first)."""
    if hand_back not in HAND_BACK_CHOICES:
        raise RoutingError({"hand_back": [f"Choose one of {', '.join(HAND_BACK_CHOICES)}."]})
    ids = list(
        reps_open_leads(rep_ids=rep_ids, hand_back=hand_back)
        .select_for_update()
        .order_by("id")
        .values_list("id", flat=True)
    )
    return leads_send_back(lead_ids=ids, at=at, reason=reason)


def reps_routing_update(
    *, changes: dict[int, dict], hand_back: str = UNCONTACTED, user=None, at: dt.datetime | None = None
) -> RepsUpdateResult:
    """Write the reps' routing fields; a rep who goes from active to inactive hands back leads per `hand_back`.

    `changes` maps rep id to {field: value} for fields in ROUTING_FIELDS. One locked read, one
    bulk write, one hand-back for everyone deactivated.
    """
    if hand_back not in HAND_BACK_CHOICES:
        raise RoutingError({"hand_back": [f"Choose one of {', '.join(HAND_BACK_CHOICES)}."]})
    unknown = {name for values in changes.values() for name in values} - ROUTING_FIELDS
    if unknown:
        raise RoutingError({name: ["Not a routing field of a rep."] for name in sorted(unknown)})
    now = at or timezone.now()
    result = RepsUpdateResult()
    with transaction.atomic():
        reps = list(Rep.objects.select_for_update().filter(id__in=list(changes)).order_by("id"))
        written = {"updated_at"}
        for rep in reps:
            values = changes[rep.id]
            if rep.active and values.get("active") is False:
                result.deactivated.append(rep.id)
            for name, value in values.items():
                setattr(rep, name, value)
            written |= {"team" if name == "team_id" else name for name in values}
            rep.updated_at = now
        if reps:
            Rep.objects.bulk_update(reps, sorted(written))
        if result.deactivated:
            result.handed_back = reps_hand_back(
                rep_ids=result.deactivated, hand_back=hand_back, reason=Assignment.EndReason.DEACTIVATED, at=now
            )
            for rep_id in result.deactivated:
                # A worker that read the rep as active just before may still commit a lead to them.
                rep_enqueue_redistribution(rep_id, since=now)
    return result


def rep_routing_update(*, rep_id: int, changes: dict, hand_back: str = UNCONTACTED, user=None) -> RepsUpdateResult:
    """One rep's routing fields (the rep page and the deactivation page)."""
    return reps_routing_update(changes={rep_id: changes}, hand_back=hand_back, user=user)


def rep_redistribute_open_leads(*, rep_id: int, since: dt.datetime | None = None) -> list[int]:
    """Send the rep's open leads (assigned at or after `since`, when given) to other reps."""
    now = timezone.now()
    with transaction.atomic():
        leads = Lead.objects.select_for_update().filter(owner_id=rep_id, status=LeadStatus.ASSIGNED)
        if since is not None:
            leads = leads.filter(assigned_at__gte=since)
        ids = list(leads.order_by("id").values_list("id", flat=True))
        return leads_send_back(lead_ids=ids, at=now, reason=Assignment.EndReason.REROUTED)


def reps_away_hand_back(*, now: dt.datetime) -> list[int]:
    """The sweep's part for time off: leads not yet contacted of reps away longer than their team allows.

    Only teams with `away_hand_back_after_minutes` set take part; a query per such team (teams are few).
    """
    rep_ids: list[int] = []
    teams = Team.objects.filter(away_hand_back_after_minutes__isnull=False).values_list(
        "id", "away_hand_back_after_minutes"
    )
    for team_id, minutes in teams:
        since = now - dt.timedelta(minutes=minutes)
        away = TimeOff.objects.filter(rep__team_id=team_id, start__lte=since, end__gt=now).values("rep_id")
        holding = Lead.objects.filter(owner_id__in=away, status=LeadStatus.ASSIGNED, first_contacted_at__isnull=True)
        rep_ids += list(holding.values_list("owner_id", flat=True).distinct())
    if not rep_ids:
        return []
    with transaction.atomic():
        return reps_hand_back(rep_ids=rep_ids, hand_back=UNCONTACTED, reason=Assignment.EndReason.AWAY, at=now)
