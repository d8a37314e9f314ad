"""Ops and reps changing who owns a lead: reassign, claim from a pool, release back to routing.

Each change is a new Assignment row naming the user; the one it replaces gets `ended_at`.
Lead rows are locked first, then the routing lock (locks.py), so these never race a worker
for a rep's spare capacity.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Case, F, Q, When
from django.utils import timezone

from leadops.errors import RoutingConflict, RoutingError
from leadops.models import Lead, LeadEventType, LeadStatus
from notifications.models import Event
from notifications.services.outbox import Notice, notifications_add
from reps.models import Rep
from routing import selectors
from routing.engine import RoutingEngine, claim_refusal, claim_trace, manual_trace
from routing.models import REASSIGN_WINDOW, Assignment, RuleSet
from routing.services.enqueue import leads_enqueue_routing
from routing.services.locks import routing_lock_acquire
from routing.services.snapshot import lead_facts, routing_snapshot_load

CLOSED = (LeadStatus.CONVERTED, LeadStatus.LOST)
MANUAL = "manual"
POOL_CLAIM = "pool_claim"

REFUSALS = {
    "inactive": "is inactive",
    "on_time_off": "is on time off",
    "at_capacity": "is at capacity",
    "daily_cap_reached": "has reached their daily cap",
    "missing_skill": "lacks a skill the rule requires",
    "claim_limit_reached": "holds as many unworked leads from this pool as the rule allows",
}


def user_label(user) -> str:
    """How a trace names who moved or claimed a lead: their username, or "system"."""
    return user.get_username() if user is not None else "system"


def assignments_end(*, lead_ids: Iterable[int], at: datetime, reason: str) -> int:
    """End the current assignment of each lead: the one place an assignment ends.

    Every path that takes a lead from its owner or its pool (a reassignment, a claim, an event,
    a rep leaving, a re-route) calls this, because the reports read `ended_at` / `end_reason`
    (a `misrouted` or `reassigned` end within 7 days counts against accuracy). Returns how many
    assignments it ended.
    """
    ids = list(lead_ids)
    if not ids:
        return 0
    # A fact stamped after the end (a back-dated end) no longer falls inside this assignment.
    return Assignment.objects.filter(lead_id__in=ids, ended_at__isnull=True).update(
        ended_at=at,
        end_reason=reason,
        first_contacted_at=Case(When(first_contacted_at__gt=at, then=None), default=F("first_contacted_at")),
        misrouted_at=Case(When(misrouted_at__gt=at, then=None), default=F("misrouted_at")),
    )


def assignments_mark_reassigned(*, handovers: Iterable[tuple[int, int]], at: datetime) -> int:
    """Before leads are assigned to reps at `at` ((lead id, rep id) pairs): stamp `reassigned_at` on
    each lead's assignments to another rep made within REASSIGN_WINDOW before `at` that have ended
    (every writer ends the current one first, `assignments_end`), other than by an SLA breach (an SLA
    re-route is no fault of the rep's routing, PRODUCT.md). The first such hand-over is kept.

    Called by every path that writes an `assigned` row (the router's batch, a reassignment, a claim),
    in its transaction, so the reports count "reassigned within 7 days" from the row alone. Returns
    how many assignments it stamped."""
    pairs = list(handovers)
    if not pairs:
        return 0
    earlier = Q(
        outcome=Assignment.Outcome.ASSIGNED,
        created_at__gte=at - REASSIGN_WINDOW,
        created_at__lte=at,
        ended_at__isnull=False,
        reassigned_at__isnull=True,
    ) & ~Q(end_reason=Assignment.EndReason.SLA_BREACHED)
    if connection.vendor == "postgresql" and len(pairs) > 1:
        # One statement for the router's batch: an index probe per lead on (lead, created_at).
        table = connection.ops.quote_name(Assignment._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} a SET reassigned_at = %s FROM unnest(%s::bigint[], %s::bigint[]) AS v(lead_id, rep_id)"
                " WHERE a.lead_id = v.lead_id AND a.rep_id <> v.rep_id AND a.outcome = %s"
                " AND a.created_at >= %s AND a.created_at <= %s AND a.ended_at IS NOT NULL"
                " AND a.reassigned_at IS NULL AND a.end_reason <> %s",
                (
                    at,
                    [lead for lead, _ in pairs],
                    [rep for _, rep in pairs],
                    Assignment.Outcome.ASSIGNED,
                    at - REASSIGN_WINDOW,
                    at,
                    Assignment.EndReason.SLA_BREACHED,
                ),
            )
            return cursor.rowcount
    by_rep: dict[int, list[int]] = {}
    for lead_id, rep_id in pairs:
        by_rep.setdefault(rep_id, []).append(lead_id)
    return sum(
        Assignment.objects.filter(earlier, lead_id__in=lead_ids).exclude(rep_id=rep_id).update(reassigned_at=at)
        for rep_id, lead_ids in by_rep.items()
    )


def assignment_facts_record_event(*, lead_id: int, rep_id: int | None, type: str, at: datetime) -> int:
    """Keep the report facts of the lead's assignments to `rep_id` in step with an outcome event.

    Called only by `lead_event_record`, in its transaction, with `rep_id` the lead's owner then:
    a `contacted` / `misrouted` event counts for each of the rep's assignments of the lead whose
    span [created_at, ended_at] holds `at` (the earliest one is kept); `converted` marks every
    assignment of the lead to the rep (the rep who converts a lead is credited with it).
    """
    if rep_id is None:
        return 0
    mine = Assignment.objects.filter(lead_id=lead_id, rep_id=rep_id, outcome=Assignment.Outcome.ASSIGNED)
    if type == LeadEventType.CONVERTED:
        return mine.update(converted_at=at)
    column = {LeadEventType.CONTACTED: "first_contacted_at", LeadEventType.MISROUTED: "misrouted_at"}.get(type)
    if column is None:
        return 0
    return (
        mine.filter(created_at__lte=at)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=at))
        .filter(Q(**{f"{column}__isnull": True}) | Q(**{f"{column}__gt": at}))
        .update(**{column: at})
    )


def leads_send_back(*, lead_ids: Iterable[int], at: datetime, reason: str) -> list[int]:
    """End the leads' current assignments and put them back to `pending` for the engine.

    The caller holds the lead rows locked (or has just decided they are open); routing runs
    after commit. The engine leaves out reps named on misrouted / released events, so the
    lead goes to someone else. Returns the ids sent back.
    """
    ids = sorted(set(lead_ids))
    if not ids:
        return []
    assignments_end(lead_ids=ids, at=at, reason=reason)
    Lead.objects.filter(id__in=ids).update(
        status=LeadStatus.PENDING, owner=None, assigned_at=None, pool_rule=None, updated_at=at
    )
    leads_enqueue_routing(ids)
    return ids


def _switch_owner(lead: Lead, *, rep: Rep, now, assignment: Assignment, end_reason: str) -> None:
    assignments_end(lead_ids=[lead.pk], at=now, reason=end_reason)
    assignments_mark_reassigned(handovers=[(lead.pk, rep.pk)], at=now)
    assignment.first_decision = not Assignment.objects.filter(lead_id=lead.pk).exists()
    assignment.save()
    lead.status, lead.owner, lead.assigned_at, lead.pool_rule = LeadStatus.ASSIGNED, rep, now, None
    lead.routing_error = ""
    lead.save(update_fields=["status", "owner", "assigned_at", "pool_rule", "routing_error", "updated_at"])


def leads_reassign(*, lead_ids: Iterable[int], rep_id: int, user=None) -> list[int]:
    """Give the leads to `rep_id` as a manual decision; returns the ids that moved.

    Closed leads and leads the rep already owns are left as they are. The rep must be
    active and have room for all of them (capacity is a promise to the rep).
    """
    now = timezone.now()
    with transaction.atomic():
        leads = list(Lead.objects.select_for_update().filter(id__in=set(lead_ids)).order_by("id"))
        routing_lock_acquire()
        rep = Rep.objects.filter(id=rep_id).first()
        if rep is None:
            raise RoutingError({"rep": ["No such rep."]})
        if not rep.active:
            raise RoutingError({"rep": [f"{rep.name} is inactive and cannot receive leads."]})
        movable = [lead for lead in leads if lead.status not in CLOSED and lead.owner_id != rep.id]
        open_now = selectors.rep_open_lead_counts(rep_ids=[rep.id]).get(rep.id, 0)
        if open_now + len(movable) > rep.capacity:
            raise RoutingError(
                {
                    "rep": [
                        f"{rep.name} holds {open_now} open leads of a capacity of {rep.capacity}: "
                        f"no room for {len(movable)} more."
                    ]
                }
            )
        version = RuleSet.current().version
        previous = dict(
            Rep.objects.filter(id__in={lead.owner_id for lead in movable if lead.owner_id}).values_list("id", "name")
        )
        for lead in movable:
            reason = manual_trace(
                by=user_label(user),
                rep=rep.name,
                rep_id=rep.id,
                from_rep=previous.get(lead.owner_id),
                from_status=lead.status,
            )
            _switch_owner(
                lead,
                rep=rep,
                now=now,
                end_reason=Assignment.EndReason.REASSIGNED,
                assignment=Assignment(
                    lead=lead,
                    outcome=Assignment.Outcome.ASSIGNED,
                    rep=rep,
                    strategy=MANUAL,
                    decided_by=Assignment.DecidedBy.USER,
                    decided_by_user=user,
                    rule_set_version=version,
                    reason=reason,
                    created_at=now,
                ),
            )
        notifications_add(
            notices=[
                Notice(event=Event.ASSIGNED, lead_id=lead.id, rep_id=rep.id, team_id=rep.team_id, decided_at=now)
                for lead in movable
            ],
            at=now,
        )
    return [lead.id for lead in movable]


def lead_claim(*, lead_id: int, rep_id: int, user=None) -> Assignment:
    """A pool member takes a pooled lead (shotgun: first claim wins).

    The rep must be in the pool of the rule holding the lead, active, not on time off, hold
    the rule's required skills, be below capacity and daily cap, and below the rule's claim
    limit of unworked claimed leads (engine.claim_refusal).
    """
    now = timezone.now()
    with transaction.atomic():
        lead = Lead.objects.select_for_update().filter(id=lead_id).first()
        if lead is None:
            raise RoutingError({"lead": ["No such lead."]})
        if lead.status != LeadStatus.POOLED or lead.pool_rule_id is None:
            raise RoutingConflict({"lead": [f"The lead is {lead.status}, not waiting in a pool."]})
        routing_lock_acquire()
        snapshot, setup = routing_snapshot_load(now=now, leads=[])
        rep = snapshot.reps.get(rep_id)
        if rep is None:
            raise RoutingError({"rep": ["No such rep."]})
        engine = RoutingEngine(snapshot)
        if rep_id not in engine.pool_rep_ids(lead.pool_rule_id, lead_facts(lead)):
            raise RoutingError({"rep": [f"{rep.name} is not in the pool holding this lead."]})
        rule = next(r for r in snapshot.rules if r.id == lead.pool_rule_id)
        refusal = claim_refusal(
            rep, rule=rule, now=now, open_claimed=selectors.rep_claimed_open_count(rep_id=rep_id, rule_id=rule.id)
        )
        if refusal:
            raise RoutingError({"rep": [f"{rep.name} {REFUSALS.get(refusal, refusal)}."]})
        rep_row = Rep.objects.get(id=rep_id)
        minutes = setup.rule_sla_minutes.get(rule.id)
        assignment = Assignment(
            lead=lead,
            outcome=Assignment.Outcome.ASSIGNED,
            rep=rep_row,
            rule_id=rule.id,
            rule_name=rule.name,
            strategy=POOL_CLAIM,
            decided_by=Assignment.DecidedBy.USER,
            decided_by_user=user or rep_row.user,
            rule_set_version=snapshot.settings.version or 0,
            created_at=now,
            sla_due_at=now + timedelta(minutes=minutes) if minutes else None,
            reason=claim_trace(
                rule=rule.name, rule_id=rule.id, rep=rep.name, rep_id=rep.id, by=user_label(user or rep_row.user)
            ),
        )
        _switch_owner(lead, rep=rep_row, now=now, end_reason=Assignment.EndReason.REASSIGNED, assignment=assignment)
        notice = Notice(
            event=Event.ASSIGNED,
            lead_id=lead.id,
            rep_id=rep_id,
            team_id=rep_row.team_id,
            rule_name=rule.name,
            decided_at=now,
            sla_due_at=assignment.sla_due_at,
        )
        notifications_add(notices=[notice], at=now)
    return assignment


def lead_claim_next(*, rep_id: int, user=None) -> Assignment | None:
    """Pull: claim the oldest pooled lead `rep_id` may take now; None when no pool of theirs holds one.

    Candidates come from the engine's pool resolution (`selectors.rep_pooled_leads`), minus the
    pools whose claim limit the rep has reached. The oldest candidate is locked with
    SKIP LOCKED, so reps pulling at once each get a different lead without waiting on each
    other, and then claimed through `lead_claim` (the locked path: it checks everything again).
    """
    now = timezone.now()
    snapshot, _ = routing_snapshot_load(now=now, leads=[])  # to find candidates; lead_claim decides
    rep = snapshot.reps.get(rep_id)
    if rep is None:
        raise RoutingError({"rep": ["No such rep."]})
    engine = RoutingEngine(snapshot)
    candidates = selectors.rep_pooled_leads(rep_id=rep_id, engine=engine)
    rule_ids = set(candidates.values_list("pool_rule_id", flat=True).distinct())
    if not rule_ids:
        return None
    claimed = selectors.rep_claimed_open_counts(rep_id=rep_id, rule_ids=rule_ids)
    rules = {r.id: r for r in snapshot.rules if r.id in rule_ids}
    refusals = {
        rule_id: claim_refusal(rep, rule=rule, now=now, open_claimed=claimed.get(rule_id, 0))
        for rule_id, rule in rules.items()
    }
    open_rules = [rule_id for rule_id, refusal in refusals.items() if refusal is None]
    if not open_rules:
        refusal = next((r for r in refusals.values() if r != "claim_limit_reached"), "claim_limit_reached")
        if refusal == "claim_limit_reached":
            raise RoutingError({"rep": [f"{rep.name} {REFUSALS[refusal]}, in every pool with a lead waiting."]})
        raise RoutingError({"rep": [f"{rep.name} {REFUSALS.get(refusal, refusal)}."]})
    with transaction.atomic():
        lead_id = (
            candidates.filter(pool_rule_id__in=open_rules)
            .select_for_update(skip_locked=True)
            .order_by("created_at", "id")
            .values_list("id", flat=True)
            .first()
        )
        if lead_id is None:
            return None
        return lead_claim(lead_id=lead_id, rep_id=rep_id, user=user)


def leads_release(*, lead_ids: Iterable[int], user=None, note: str = "") -> list[int]:
    """Send owned leads back to routing without their current rep (a `released` event each)."""
    from leadops.services.events import lead_event_record

    released = []
    owned = (
        Lead.objects.filter(id__in=set(lead_ids), owner__isnull=False)
        .exclude(status__in=CLOSED)
        .order_by("id")
        .values_list("id", flat=True)
    )
    for lead_id in owned:
        lead_event_record(lead_id=lead_id, type=LeadEventType.RELEASED, user=user, note=note)
        released.append(lead_id)
    return released
