"""The SLA watch: settle every current assignment whose SLA is due, once.

An assignment (or pooling) made by a rule with `sla_minutes` has `sla_due_at`. A pass as of
`at` takes the current assignments due before `at` that are not settled yet and settles each:
- met (`sla_met_at`): a `contacted` event for the lead at or before the due time while this
  assignment was current, or the lead closed (converted / lost) by then;
- breached (`sla_breached_at` = at): otherwise. The lead gets an `sla_breached` event, a
  `lead.sla_breached` notification goes out (webhooks; e-mail to the rep and the team's
  manager), and when the rule's `sla_action` is `reroute` an open lead goes back to routing
  without that rep (the assignment ends with `sla_breached`, which is not a misroute).
An assignment that ended before it was due (reassigned, released, claimed from the pool) is
never settled, so it never breaches.

Safe at any time, twice, from two machines at once: lead rows are locked first (SKIP LOCKED,
the order every writer uses), then the assignment is read again, so a second pass finds it
settled and does nothing; the partial index `assignment_sla_open_idx` holds only unsettled
current assignments with an SLA, so a pass reads the due ones, not the whole table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from leadops.models import Lead, LeadEvent, LeadEventType, LeadStatus
from notifications.models import Event
from notifications.services.outbox import Notice, notifications_add
from routing.models import Assignment, SlaAction
from routing.services.assignments import leads_send_back

BATCH = 5000
CLOSED = (LeadStatus.CONVERTED, LeadStatus.LOST)
OPEN = (LeadStatus.ASSIGNED, LeadStatus.POOLED)


@dataclass
class SlaWatchResult:
    breached: int = 0
    met: int = 0
    rerouted: int = 0

    def summary(self) -> str:
        return f"{self.breached} breached ({self.rerouted} sent back to routing), {self.met} met"

    def as_dict(self) -> dict:
        return {"breached": self.breached, "met": self.met, "rerouted": self.rerouted}


def _unsettled():
    return Assignment.objects.filter(
        sla_due_at__isnull=False, ended_at__isnull=True, sla_met_at__isnull=True, sla_breached_at__isnull=True
    )


def sla_watch(*, at: dt.datetime | None = None, batch_size: int = BATCH) -> SlaWatchResult:
    """One pass as of `at` (default now): settle every current assignment due before it."""
    at = at or timezone.now()
    result = SlaWatchResult()
    after = Q()
    while True:
        # In due-time order, so the partial index is read in its own order and no further than a
        # batch; keyset on (due, id) because a lead another pass holds leaves its row unsettled.
        candidates = list(
            _unsettled()
            .filter(after, sla_due_at__lt=at)
            .order_by("sla_due_at", "id")
            .values_list("id", "lead_id", "sla_due_at")[:batch_size]
        )
        if not candidates:
            return result
        last_id, _, last_due = candidates[-1]
        after = Q(sla_due_at__gt=last_due) | Q(sla_due_at=last_due, id__gt=last_id)
        _settle([(i, lead_id) for i, lead_id, _ in candidates], at, result)
        if len(candidates) < batch_size:
            return result


def _among(ids):
    """The value of an `__in` filter over a batch's ids: on Postgres one array parameter (Django
    and the driver spend longer building a list of thousands of parameters than Postgres spends
    on the query)."""
    ids = list(ids)
    return RawSQL("SELECT unnest(%s::bigint[])", (ids,)) if connection.vendor == "postgresql" else ids


def _first_contacts(rows) -> dict[int, dt.datetime]:
    """{assignment id: the first `contacted` event of its lead from its start to its due time}:
    one read of the leads' contacts by the (lead, type, at) index, matched here."""
    contacts: dict[int, list] = {}
    for lead_id, when in LeadEvent.objects.filter(
        lead_id__in=_among({row[1] for row in rows}), type=LeadEventType.CONTACTED
    ).values_list("lead_id", "at"):
        contacts.setdefault(lead_id, []).append(when)
    first = {}
    for assignment_id, lead_id, created, due in rows:
        times = [t for t in contacts.get(lead_id, ()) if created <= t <= due]
        if times:
            first[assignment_id] = min(times)
    return first


def sla_met_at(*, due: dt.datetime, contact: dt.datetime | None, closed: dt.datetime | None) -> dt.datetime | None:
    """When a current assignment met its SLA: the lead's first contact since it was made, by the due
    time, else the lead's close by then. None: breached. (The demo's history settles with it too.)"""
    return contact or (closed if closed is not None and closed <= due else None)


def sla_breach_note(*, due: dt.datetime, rule_name: str) -> str:
    return f"Not contacted by {due:%Y-%m-%d %H:%M %Z} (rule “{rule_name}”)."


@transaction.atomic
def _settle(candidates: list[tuple[int, int]], at: dt.datetime, result: SlaWatchResult) -> None:
    lead_ids = sorted({lead_id for _, lead_id in candidates})
    # Leads first (every writer's order); a lead another pass or a writer holds is left to it.
    locked = dict(
        Lead.objects.select_for_update(skip_locked=True).filter(id__in=_among(lead_ids)).values_list("id", "status")
    )
    if not locked:
        return
    rows = list(
        _unsettled()
        .filter(id__in=_among(i for i, lead_id in candidates if lead_id in locked))
        .annotate(
            closed=F("lead__closed_at"),
            team_id=F("rep__team_id"),
            pool_team_id=F("rule__pool_team_id"),
            action=F("rule__sla_action"),
        )
        .order_by()
        .values_list(
            "id",
            "lead_id",
            "rep_id",
            "rule_name",
            "created_at",
            "sla_due_at",
            "closed",
            "team_id",
            "pool_team_id",
            "action",
        )
    )
    contacts = _first_contacts([(row[0], row[1], row[4], row[5]) for row in rows])
    rows = [(*row[:6], contacts.get(row[0]), *row[6:]) for row in rows]  # the column order below
    met, breached = [], []
    for row in rows:
        met_at = sla_met_at(due=row[5], contact=row[6], closed=row[7])
        (met if met_at else breached).append((row, met_at))
    _mark_met([(row[0], met_at) for row, met_at in met])
    result.met += len(met)
    if not breached:
        return
    Assignment.objects.filter(id__in=_among(row[0] for row, _ in breached)).update(sla_breached_at=at)
    LeadEvent.objects.bulk_create(
        [
            LeadEvent(
                lead_id=row[1],
                type=LeadEventType.SLA_BREACHED,
                rep_id=row[2],
                at=at,
                note=sla_breach_note(due=row[5], rule_name=row[3]),
            )
            for row, _ in breached
        ]
    )
    notifications_add(
        notices=[
            Notice(
                event=Event.SLA_BREACHED,
                lead_id=row[1],
                rep_id=row[2],
                team_id=row[8] if row[2] else row[9],
                rule_name=row[3],
                decided_at=row[4],
                sla_due_at=row[5],
            )
            for row, _ in breached
        ],
        at=at,
    )
    reroute = [row[1] for row, _ in breached if row[10] == SlaAction.REROUTE and locked[row[1]] in OPEN]
    leads_send_back(lead_ids=reroute, at=at, reason=Assignment.EndReason.SLA_BREACHED)
    result.breached += len(breached)
    result.rerouted += len(reroute)


def _mark_met(met: list[tuple[int, dt.datetime]]) -> None:
    """Each assignment's own met time: one UPDATE … FROM unnest on Postgres (contacts rarely share
    a time, so a statement per time would be a statement per assignment); grouped elsewhere."""
    if not met:
        return
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Assignment._meta.db_table)
        ids, times = (list(column) for column in zip(*met, strict=True))
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS a SET sla_met_at = v.met_at "
                f"FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, met_at) WHERE a.id = v.id",
                [ids, times],
            )
        return
    by_time: dict = {}
    for assignment_id, met_at in met:
        by_time.setdefault(met_at, []).append(assignment_id)
    for met_at, ids in by_time.items():
        Assignment.objects.filter(id__in=ids).update(sla_met_at=met_at)
