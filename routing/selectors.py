"""Reads the routing services, jobs, admin and reports share. Nothing here writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from leadops.models import Lead, LeadEvent, LeadEventType, LeadStatus
from reps.models import Rep, TimeOff
from routing.models import Assignment, RepDailyCount

SENT_BACK = (LeadEventType.MISROUTED, LeadEventType.RELEASED)


def rep_open_lead_counts(*, rep_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Open leads per rep: the rep is the current owner and the lead is `assigned`."""
    qs = Lead.objects.open()
    if rep_ids is not None:
        qs = qs.filter(owner_id__in=list(rep_ids))
    return dict(qs.values_list("owner_id").annotate(n=Count("id")).order_by())


def rep_local_day(timezone_name: str, now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(timezone_name or "UTC")).date()


def rep_assigned_today_counts(*, rep_days: dict[int, dt.date]) -> dict[int, int]:
    """Engine assignments per rep on the given local day of each rep (the daily-cap counter)."""
    if not rep_days:
        return {}
    rows = RepDailyCount.objects.filter(rep_id__in=list(rep_days), day__in=set(rep_days.values())).values_list(
        "rep_id", "day", "assigned"
    )
    return {rep_id: n for rep_id, day, n in rows if rep_days[rep_id] == day}


def rep_conversion_rates(*, since: dt.datetime) -> dict[int, float]:
    """Per rep: leads assigned since `since` that reached converted ÷ leads assigned since then."""
    rows = (
        Assignment.objects.filter(outcome=Assignment.Outcome.ASSIGNED, created_at__gte=since)
        .values_list("rep_id")
        .annotate(
            assigned=Count("lead", distinct=True),
            converted=Count("lead", distinct=True, filter=Q(lead__status=LeadStatus.CONVERTED)),
        )
        .order_by()
    )
    return {rep_id: converted / assigned for rep_id, assigned, converted in rows if assigned}


def lead_excluded_rep_ids(*, lead_ids: Iterable[int]) -> dict[int, set[int]]:
    """Reps each lead was sent back from (flagged misrouted or released): never routed there again."""
    out: dict[int, set[int]] = {}
    rows = LeadEvent.objects.filter(lead_id__in=list(lead_ids), type__in=SENT_BACK, rep_id__isnull=False).values_list(
        "lead_id", "rep_id"
    )
    for lead_id, rep_id in rows:
        out.setdefault(lead_id, set()).add(rep_id)
    return out


def leads_awaiting_routing(*, older_than: dt.datetime | None) -> QuerySet:
    """Leads the sweep should route: pending ones (their job may be lost) and held ones.

    A held lead is pooled on a rule that is not a `pool` rule: it waits for a rep to become
    eligible, so the sweep tries it again. Leads in a real team pool wait for a claim.
    """
    waiting = Q(status=LeadStatus.PENDING) | (
        Q(status=LeadStatus.POOLED) & Q(pool_rule__isnull=False) & ~Q(pool_rule__strategy="pool")
    )
    qs = Lead.objects.filter(waiting)
    if older_than is not None:
        qs = qs.filter(updated_at__lt=older_than)
    return qs.order_by("id")


def rep_claimed_open_count(*, rep_id: int, rule_id: int) -> int:
    """Leads the rep claimed from the rule's pool and has not contacted yet (the claim limit)."""
    return (
        Lead.objects.filter(
            owner_id=rep_id,
            status=LeadStatus.ASSIGNED,
            first_contacted_at__isnull=True,
            assignments__ended_at__isnull=True,
            assignments__rule_id=rule_id,
            assignments__strategy="pool_claim",
        )
        .distinct()
        .count()
    )


def unroutable_leads() -> QuerySet:
    """The admin queue of leads no rule could place (an alert while it is not empty)."""
    return Lead.objects.filter(status=LeadStatus.UNROUTABLE).order_by("created_at")


def reps_away_with_open_leads(*, now: dt.datetime) -> list[int]:
    """Inactive reps, and reps on time off now, who still own open leads (the sweep frees them)."""
    away = Q(active=False) | Exists(TimeOff.objects.filter(rep=OuterRef("pk"), start__lte=now, end__gt=now))
    holding = Exists(Lead.objects.filter(owner=OuterRef("pk"), status=LeadStatus.ASSIGNED))
    return list(Rep.objects.filter(away, holding).order_by("id").values_list("id", flat=True))
