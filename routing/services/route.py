"""leads_route: claim pending leads, lock, load the snapshot, decide, write — in bulk.

One transaction per batch of lead ids:
1. claim the leads still waiting (`SELECT … FOR UPDATE SKIP LOCKED`): a retried or duplicated
   job finds nothing to do, and two workers never route the same lead;
2. take the routing lock (locks.py), then read reps' load, daily counts and cursors;
3. decide every lead in memory; a lead that breaks the engine is recorded on the lead
   (`routing_error`) and stays pending, the rest of the batch goes on;
4. write Assignment rows (with their SLA due time), lead updates, daily counts, cursors, and
   the outbox rows of the decisions (notifications.services.outbox) — a handful of statements.

A routing job also takes the backlog (`backlog=True`): besides its own ids it claims other
leads still pending, oldest first, up to a batch. Under load the first job drains what the
later jobs were enqueued for, and those find nothing left to claim and return before the
routing lock; one job's fixed cost (lock, snapshot) is shared by every lead it carries.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from leadops.models import Lead, LeadStatus
from notifications.models import Event
from notifications.services.outbox import Notice, notifications_add
from reps.models import Rep
from routing import selectors
from routing.engine import (
    ASSIGNED,
    POOLED,
    UNROUTABLE,
    Decision,
    EngineConfigError,
    LeadFacts,
    PoolCursor,
    RoutingEngine,
)
from routing.models import Assignment, RepDailyCount, RotationCursor
from routing.services.assignments import assignments_end, assignments_mark_reassigned
from routing.services.locks import routing_lock_acquire
from routing.services.snapshot import LEAD_FACT_COLUMNS, RoutingSetup, routing_snapshot_load

logger = logging.getLogger(__name__)

RETRYABLE = (LeadStatus.PENDING, LeadStatus.POOLED, LeadStatus.UNROUTABLE)
EVENTS = {ASSIGNED: Event.ASSIGNED, POOLED: Event.POOLED, UNROUTABLE: Event.UNROUTABLE}
FACTS = LEAD_FACT_COLUMNS.index("status")  # columns before it are LeadFacts' fields, in order
# Whether a lead had a routing decision before this batch (read with the lead rows: no extra round trip);
# the batch's decision of a lead without one is its first (Assignment.first_decision).
DECIDED_BEFORE = Exists(Assignment.objects.filter(lead=OuterRef("pk")))


@dataclass
class RouteResult:
    assigned: int = 0
    pooled: int = 0
    unroutable: int = 0
    unchanged: int = 0  # held again on the same rule: no new Assignment row
    skipped: int = 0  # no longer waiting, or being routed by another worker right now
    failed: dict[int, str] = field(default_factory=dict)  # lead id -> why

    def add(self, other: RouteResult) -> None:
        for name in ("assigned", "pooled", "unroutable", "unchanged", "skipped"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failed.update(other.failed)

    def as_dict(self) -> dict:
        return {
            "assigned": self.assigned,
            "pooled": self.pooled,
            "unroutable": self.unroutable,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "failed": {str(k): v for k, v in self.failed.items()},
        }

    def summary(self) -> str:
        text = (
            f"{self.assigned} assigned, {self.pooled} pooled, {self.unroutable} unroutable, "
            f"{self.unchanged} unchanged, {self.skipped} skipped"
        )
        return text + (f", {len(self.failed)} failed" if self.failed else "")


def leads_route(
    *, lead_ids: Iterable[int], retry: bool = False, batch_size: int | None = None, backlog: bool = False
) -> RouteResult:
    """Route the given leads that are still pending (also pooled / unroutable ones if `retry`).

    With `backlog`, each batch is filled up to the batch size with other pending leads,
    oldest first (see the module's docstring); they count in the result like the given ones.
    Leads whose last routing failed (`routing_error`) are left to their own job and the sweep.
    Safe to call twice with the same ids, from any number of processes at once.
    """
    ids = sorted(set(lead_ids))
    size = batch_size or settings.ROUTING_BATCH_SIZE
    statuses = RETRYABLE if retry else (LeadStatus.PENDING,)
    fill = size if backlog and not retry else 0
    result = RouteResult()
    setup = None  # rules and territories, read by the first batch, reused by the next ones
    for start in range(0, len(ids), size):
        batch_result, setup = _route_batch(ids[start : start + size], statuses, setup, fill)
        result.add(batch_result)
    return result


def _claim(ids: list[int], statuses, fill: int) -> list[tuple]:
    """Lock the batch's leads still waiting (skipping rows another worker holds); then, when
    `fill` is set, other pending leads, oldest first, until the batch has `fill` leads."""
    # Plain rows, not model instances: a batch is hundreds of leads and only facts are needed.
    rows = (
        list(
            Lead.objects.select_for_update(skip_locked=True)
            .filter(id__in=ids, status__in=statuses)
            .annotate(decided_before=DECIDED_BEFORE)
            .order_by("id")
            .values_list(*LEAD_FACT_COLUMNS, "decided_before", "created_at")
        )
        if ids
        else []
    )
    room = fill - len(rows)
    if room > 0:
        rows += (
            Lead.objects.select_for_update(skip_locked=True)
            .filter(status=LeadStatus.PENDING, routing_error="")
            .exclude(id__in=ids)
            .annotate(decided_before=DECIDED_BEFORE)
            .order_by("id")
            .values_list(*LEAD_FACT_COLUMNS, "decided_before", "created_at")[:room]
        )
        rows.sort(key=lambda row: row[0])
    return rows


# The order of an Assignment row (assignment_row, _assignments_insert).
ASSIGNMENT_COLUMNS = (
    "lead_id",
    "outcome",
    "rep_id",
    "rule_id",
    "rule_name",
    "strategy",
    "decided_by",
    "decided_by_user_id",
    "rule_set_version",
    "reason",
    "created_at",
    "end_reason",
    "sla_due_at",
    "first_decision",
    "lead_created_at",
)
REASON = ASSIGNMENT_COLUMNS.index("reason")


def assignment_row(
    decision: Decision,
    *,
    rule_name: str,
    version: int,
    at: dt.datetime,
    lead_created_at: dt.datetime,
    sla_due_at: dt.datetime | None = None,
    first_decision: bool = False,
) -> tuple:
    """An engine decision as the Assignment row live routing writes (ASSIGNMENT_COLUMNS order), its
    reason trace included. The demo's history (leadops/demo.py) writes its decisions with it too."""
    return (
        decision.lead_id,
        decision.outcome,
        decision.rep_id,
        decision.rule_id,
        rule_name,
        decision.strategy or "",
        Assignment.DecidedBy.ENGINE,
        None,
        version,
        decision.reason,
        at,
        "",
        sla_due_at,
        first_decision,
        lead_created_at,
    )


def assignment_from_row(row: tuple) -> Assignment:
    """An unsaved Assignment from a row in ASSIGNMENT_COLUMNS order."""
    return Assignment(**dict(zip(ASSIGNMENT_COLUMNS, row, strict=True)))


@transaction.atomic
def _route_batch(
    ids: list[int], statuses, setup: RoutingSetup | None, fill: int = 0
) -> tuple[RouteResult, RoutingSetup | None]:
    result = RouteResult()
    rows = _claim(ids, statuses, fill)
    claimed = {row[0] for row in rows}
    result.skipped = sum(1 for i in ids if i not in claimed)
    if not rows:
        return result, setup
    routing_lock_acquire()
    now = timezone.now()
    leads = [LeadFacts(*row[:FACTS]) for row in rows]
    was = {row[0]: (row[FACTS], row[FACTS + 1]) for row in rows}  # id -> (status, pool rule)
    undecided = {row[0] for row in rows if not row[FACTS + 2]}
    came_in = {row[0]: row[FACTS + 3] for row in rows}
    try:
        snapshot, setup = routing_snapshot_load(now=now, leads=leads, setup=setup)
        engine = RoutingEngine(snapshot)
    except EngineConfigError as exc:
        # The set-up itself cannot be compiled: nothing can be decided until ops fix it.
        message = f"Routing set-up error: {exc}"
        logger.error("%s (%d leads left waiting)", message, len(leads))
        # updated_at moves too: the sweep tries again after its grace period, not at once.
        Lead.objects.filter(id__in=list(was)).update(routing_error=message, updated_at=now)
        result.failed = dict.fromkeys(was, message)
        return result, None
    excluded = selectors.lead_excluded_rep_ids(lead_ids=list(was))
    rule_names = {r.id: r.name for r in snapshot.rules}
    pool_teams = {r.id: r.team_id for r in snapshot.rules}
    sla = {rule_id: now + dt.timedelta(minutes=m) for rule_id, m in setup.rule_sla_minutes.items()}
    version = snapshot.settings.version or 0
    writes = []
    for facts in leads:
        try:
            if facts.id in excluded:
                facts.excluded_rep_ids = frozenset(excluded[facts.id])
            decision = engine.decide(facts)
            due = sla.get(decision.rule_id) if decision.outcome != UNROUTABLE else None
            rule_name = rule_names.get(decision.rule_id, "")
            row = assignment_row(
                decision,
                rule_name=rule_name,
                version=version,
                at=now,
                lead_created_at=came_in[facts.id],
                sla_due_at=due,
                first_decision=facts.id in undecided,
            )
        except Exception as exc:
            logger.exception("routing lead %s failed", facts.id)
            result.failed[facts.id] = f"{type(exc).__name__}: {exc}"
            continue
        if decision.outcome == POOLED and was[facts.id] == (LeadStatus.POOLED, decision.rule_id):
            result.unchanged += 1  # held again where it was: no new audit row
            continue
        rep = snapshot.reps.get(decision.rep_id)
        notice = Notice(
            event=EVENTS[decision.outcome],
            lead_id=facts.id,
            rep_id=decision.rep_id,
            team_id=rep.team_id if rep is not None else pool_teams.get(decision.rule_id),
            rule_name=rule_name,
            decided_at=now,
            sla_due_at=due,
        )
        writes.append((decision, row, notice))
    try:
        with transaction.atomic():  # savepoint: if the bulk write fails, write lead by lead
            _write(writes, was, now)
    except (IntegrityError, DataError) as exc:
        logger.warning("bulk routing write failed (%s); writing lead by lead", exc)
        for one in writes:
            try:
                with transaction.atomic():
                    _write([one], was, now)
            except (IntegrityError, DataError) as lead_exc:
                result.failed[one[0].lead_id] = f"{type(lead_exc).__name__}: {lead_exc}"
    if result.failed:
        by_message = defaultdict(list)
        for lead_id, message in result.failed.items():
            by_message[message[:2000]].append(lead_id)
        for message, lead_ids in by_message.items():
            Lead.objects.filter(id__in=lead_ids).update(routing_error=message, updated_at=now)
    for decision, *_ in writes:
        if decision.lead_id not in result.failed:
            setattr(result, decision.outcome, getattr(result, decision.outcome) + 1)
    _write_state(engine, snapshot, now)
    return result, setup


def _write(writes, was, now) -> None:
    if not writes:
        return
    # Only pooled / unroutable leads still have a current assignment: whoever sets a lead back
    # to pending (events, redistribution) ends its assignment at that moment.
    rerouted = [d.lead_id for d, *_ in writes if was[d.lead_id][0] != LeadStatus.PENDING]
    assignments_end(lead_ids=rerouted, at=now, reason=Assignment.EndReason.REROUTED)
    assignments_mark_reassigned(handovers=[(d.lead_id, d.rep_id) for d, *_ in writes if d.outcome == ASSIGNED], at=now)
    _assignments_insert([row for _, row, _ in writes])
    _leads_update(
        [
            (
                d.lead_id,
                d.outcome,
                d.rep_id,
                d.rule_id if d.outcome == POOLED else None,
                now if d.outcome == ASSIGNED else None,
            )
            for d, *_ in writes
        ],
        now,
    )
    notifications_add(notices=[notice for *_, notice in writes], at=now)


def _assignments_insert(rows: list[tuple]) -> None:
    """COPY on Postgres: the reason traces are large, and COPY is the cheapest way in."""
    if connection.vendor != "postgresql":
        Assignment.objects.bulk_create([assignment_from_row(row) for row in rows])
        return
    table = connection.ops.quote_name(Assignment._meta.db_table)
    dumps = json.dumps
    with connection.cursor() as cursor, connection.wrap_database_errors:
        with cursor.cursor.copy(f"COPY {table} ({', '.join(ASSIGNMENT_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row[:REASON] + (dumps(row[REASON]),) + row[REASON + 1 :])


def _leads_update(rows: list[tuple], now) -> None:
    """Set status, owner, pool rule, assigned_at per lead in one statement on Postgres."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Lead._meta.db_table)
        ids, statuses, owners, pool_rules, assigned = (list(col) for col in zip(*rows, strict=False))
        sql = (
            f"UPDATE {table} AS l SET status = v.status, owner_id = v.owner_id, "
            f"pool_rule_id = v.pool_rule_id, "
            f"assigned_at = CASE WHEN v.assigned THEN %s::timestamptz END, "
            f"routing_error = '', updated_at = %s "
            f"FROM unnest(%s::bigint[], %s::varchar[], %s::bigint[], %s::bigint[], %s::boolean[]) "
            f"AS v(id, status, owner_id, pool_rule_id, assigned) WHERE l.id = v.id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [now, now, ids, statuses, owners, pool_rules, [a is not None for a in assigned]])
        return
    groups = defaultdict(list)
    for lead_id, *fields in rows:
        groups[tuple(fields)].append(lead_id)
    for (status, owner_id, pool_rule_id, assigned_at), lead_ids in groups.items():
        Lead.objects.filter(id__in=lead_ids).update(
            status=status,
            owner_id=owner_id,
            pool_rule_id=pool_rule_id,
            assigned_at=assigned_at,
            routing_error="",
            updated_at=now,
        )


def _write_state(engine: RoutingEngine, snapshot, now) -> None:
    """Persist what the batch moved: today's counts, rotation cursors, reps' last assignment.

    Absolute values are safe: they were read and moved under the routing lock.
    """
    touched = [snapshot.reps[rid] for rid in sorted(engine.touched_reps)]
    if touched:
        RepDailyCount.objects.bulk_create(
            [
                RepDailyCount(rep_id=r.id, day=selectors.rep_local_day(r.timezone, now), assigned=r.assigned_today)
                for r in touched
            ],
            update_conflicts=True,
            unique_fields=["rep", "day"],
            update_fields=["assigned"],
        )
        Rep.objects.filter(id__in=[r.id for r in touched]).update(last_assigned_at=now)
    rotation_cursors_save([snapshot.cursors[key] for key in sorted(engine.touched_cursors)], now)


def rotation_cursors_save(cursors: Iterable[PoolCursor], now: dt.datetime) -> None:
    """Store the pools' rotation state as the engine left it (one row per pool, upserted)."""
    rows = [
        RotationCursor(
            pool_key=c.key,
            last_rep_id=c.last_rep_id,
            current_weights={str(k): v for k, v in c.current_weights.items()},
            updated_at=now,
        )
        for c in cursors
    ]
    if rows:
        RotationCursor.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["pool_key"],
            update_fields=["last_rep_id", "current_weights", "updated_at"],
        )
