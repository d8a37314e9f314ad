"""Reads the routing services, jobs, admin and reports share. Nothing here writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.db.models import Count, OuterRef, Q, QuerySet

from leadops.models import Lead, LeadEvent, LeadEventType, LeadStatus
from routing.engine import MATCHED, LeadFacts, RoutingEngine
from routing.models import Assignment, RepDailyCount, RoutingVersion

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
    """Reps each lead was sent back from (flagged misrouted or released, or an SLA breach re-routed it):
    never routed there again."""
    out: dict[int, set[int]] = {}
    lead_ids = list(lead_ids)
    rows = LeadEvent.objects.filter(lead_id__in=lead_ids, type__in=SENT_BACK, rep_id__isnull=False).values_list(
        "lead_id", "rep_id"
    )
    # A rep whose assignment of the lead breached its SLA under a `reroute` rule.
    rows = [
        *rows,
        *Assignment.objects.filter(
            lead_id__in=lead_ids, end_reason=Assignment.EndReason.SLA_BREACHED, rep_id__isnull=False
        ).values_list("lead_id", "rep_id"),
    ]
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


def rep_claimed_open_counts(*, rep_id: int, rule_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Per rule: leads the rep claimed from its pool and has not contacted yet (the claim limit)."""
    qs = Lead.objects.filter(
        owner_id=rep_id,
        status=LeadStatus.ASSIGNED,
        first_contacted_at__isnull=True,
        assignments__ended_at__isnull=True,
        assignments__strategy="pool_claim",
    )
    if rule_ids is not None:
        qs = qs.filter(assignments__rule_id__in=list(rule_ids))
    rows = qs.values_list("assignments__rule_id").annotate(n=Count("id", distinct=True)).order_by()
    return dict(rows)


def rep_claimed_open_count(*, rep_id: int, rule_id: int) -> int:
    return rep_claimed_open_counts(rep_id=rep_id, rule_ids=[rule_id]).get(rule_id, 0)


def rep_pool_rule_ids(*, rep_id: int, engine: RoutingEngine) -> tuple[set[int], set[int]]:
    """The rules whose pool holds the rep whatever the lead, and the "matched" territory rules
    whose pool depends on where the lead is (the engine resolves both; nothing is queried)."""
    everywhere, by_place = set(), set()
    nowhere = LeadFacts(id=0)
    for rule in engine.snapshot.rules:
        if not rule.active:
            continue
        if rule.territory_id == MATCHED:
            by_place.add(rule.id)
        elif rep_id in engine.pool_rep_ids(rule.id, nowhere):
            everywhere.add(rule.id)
    return everywhere, by_place


def rep_pooled_leads(*, rep_id: int, engine: RoutingEngine) -> QuerySet:
    """Pooled leads the rep may claim: those of every rule whose pool includes the rep.

    Pool membership is the engine's (`RoutingEngine.pool_rep_ids`, the same call `lead_claim`
    makes under its lock). Two queries whatever the number of leads: "matched" territory rules
    read the pooled leads' places once and ask the engine once per distinct place.
    """
    everywhere, by_place = rep_pool_rule_ids(rep_id=rep_id, engine=engine)
    pooled = Lead.objects.filter(status=LeadStatus.POOLED)
    placed_ids, answers = [], {}
    if by_place:
        rows = pooled.filter(pool_rule_id__in=by_place).values_list(
            "id", "pool_rule_id", "country", "region", "postal_code"
        )
        for lead_id, rule_id, country, region, postal_code in rows:
            key = (rule_id, country, region, postal_code)
            if key not in answers:
                facts = LeadFacts(id=lead_id, country=country, region=region, postal_code=postal_code)
                answers[key] = rep_id in engine.pool_rep_ids(rule_id, facts)
            if answers[key]:
                placed_ids.append(lead_id)
    return pooled.filter(Q(pool_rule_id__in=everywhere) | Q(id__in=placed_ids))


def unroutable_leads() -> QuerySet:
    """The admin queue of leads no rule could place (an alert while it is not empty)."""
    return Lead.objects.filter(status=LeadStatus.UNROUTABLE).order_by("created_at")


def rule_decision_counts(*, since: dt.datetime) -> QuerySet:
    """Per rule, decisions (assignments, pooled, unroutable held by it) since `since`: a subquery on OuterRef("pk")."""
    return (
        Assignment.objects.filter(rule=OuterRef("pk"), created_at__gte=since)
        .order_by()
        .values("rule")
        .annotate(n=Count("id"))
        .values("n")
    )


def routing_versions_list(*, limit: int = 20) -> list:
    """The newest routing versions (without their stored documents)."""
    return list(RoutingVersion.objects.defer("payload").order_by("-number")[:limit])
