"""The report facts on Assignment filled in from the events and the lead's other assignments, for rows
written without the services.

The services keep the facts at write time (`assignments_end`, `assignment_facts_record_event`
called by `lead_event_record`, `assignments_mark_reassigned`, the writers' `first_decision` and
`lead_created_at`). This fills them for rows written before the facts existed (migrations routing 0004,
0007, 0008, 0012) or in
bulk around the services (the demo's generated history). Same definitions, one set-based statement
per id range, each range its own short transaction.
"""

from __future__ import annotations

from django.db import connection, transaction

ASSIGNED_IDS = "SELECT MIN(id), MAX(id) FROM routing_assignment WHERE outcome = 'assigned'"
LEAD_IDS = "SELECT MIN(lead_id), MAX(lead_id) FROM routing_assignment"
ALL_IDS = "SELECT MIN(id), MAX(id) FROM routing_assignment"


def _in_ranges(sql: str, *, span: str, batch: int, params: dict | None = None) -> int:
    """Run `sql` (with %(lo)s and %(hi)s) over the id range `span` selects, `batch` ids at a time, each
    range its own short transaction (no long lock). Returns the rows it wrote."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Fresh statistics first: rows written in bulk just before (the demo's history, in one transaction in
            # the tests) are otherwise planned as an empty table, and the first-decision fill's EXISTS probe became
            # a nested loop over the whole table: 21 s for the demo's 5,667 assignments, against 0.1 s.
            cursor.execute("ANALYZE routing_assignment, leadops_lead, leadops_leadevent")
        cursor.execute(span)
        lo, hi = cursor.fetchone()
    if lo is None:
        return 0
    updated = 0
    for start in range(lo, hi + 1, batch):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, {**(params or {}), "lo": start, "hi": start + batch})
            updated += cursor.rowcount
    return updated


_FILL_POSTGRES = """
WITH b AS (SELECT id, lead_id, rep_id, created_at, ended_at FROM routing_assignment
           WHERE id >= %(lo)s AND id < %(hi)s AND outcome = 'assigned'),
ev AS (SELECT b.id, MIN(e.at) FILTER (WHERE e.type = 'contacted') AS contacted,
              MIN(e.at) FILTER (WHERE e.type = 'misrouted') AS misrouted
       FROM b JOIN leadops_leadevent e ON e.lead_id = b.lead_id AND e.rep_id = b.rep_id
        AND e.type IN ('contacted', 'misrouted') AND e.at >= b.created_at AND (b.ended_at IS NULL OR e.at <= b.ended_at)
       GROUP BY b.id),
cv AS (SELECT b.id, COALESCE(l.closed_at, l.updated_at) AS at FROM b
       JOIN leadops_lead l ON l.id = b.lead_id AND l.status = 'converted' AND l.owner_id = b.rep_id),
f AS (SELECT COALESCE(ev.id, cv.id) AS id, ev.contacted, ev.misrouted, cv.at AS converted
      FROM ev FULL JOIN cv ON cv.id = ev.id)
UPDATE routing_assignment a SET first_contacted_at = f.contacted, misrouted_at = f.misrouted, converted_at = f.converted
FROM f WHERE a.id = f.id
"""
_FILL_PORTABLE = """
UPDATE routing_assignment SET
 first_contacted_at = (SELECT MIN(e.at) FROM leadops_leadevent e WHERE e.lead_id = routing_assignment.lead_id
   AND e.rep_id = routing_assignment.rep_id AND e.type = 'contacted' AND e.at >= routing_assignment.created_at
   AND (routing_assignment.ended_at IS NULL OR e.at <= routing_assignment.ended_at)),
 misrouted_at = (SELECT MIN(e.at) FROM leadops_leadevent e WHERE e.lead_id = routing_assignment.lead_id
   AND e.rep_id = routing_assignment.rep_id AND e.type = 'misrouted' AND e.at >= routing_assignment.created_at
   AND (routing_assignment.ended_at IS NULL OR e.at <= routing_assignment.ended_at)),
 converted_at = (SELECT COALESCE(l.closed_at, l.updated_at) FROM leadops_lead l WHERE l.id = routing_assignment.lead_id
   AND l.status = 'converted' AND l.owner_id = routing_assignment.rep_id)
WHERE id >= %(lo)s AND id < %(hi)s AND outcome = 'assigned'
"""


_REASSIGNED = """
UPDATE routing_assignment SET reassigned_at = (
  SELECT MIN(b.created_at) FROM routing_assignment b WHERE b.lead_id = routing_assignment.lead_id
   AND b.outcome = 'assigned' AND b.rep_id <> routing_assignment.rep_id
   AND b.created_at <= routing_assignment.created_at + %(window)s
   AND (b.created_at > routing_assignment.created_at
        OR (b.created_at = routing_assignment.created_at AND b.id > routing_assignment.id)))
WHERE id >= %(lo)s AND id < %(hi)s AND outcome = 'assigned' AND ended_at IS NOT NULL AND end_reason <> 'sla_breached'
"""


def assignment_reassigned_fill(*, batch: int = 50_000) -> int:
    """Fill in `reassigned_at` (routing.services.assignments.assignments_mark_reassigned) for
    assignments written without it, from the later assignments of their lead; only ended ones can
    have it. Id ranges of `batch`, each its own short transaction. Returns the rows looked at."""
    from routing.models import REASSIGN_WINDOW

    sql, params = _REASSIGNED, {"window": REASSIGN_WINDOW}
    if connection.vendor != "postgresql":  # SQLite: datetimes are text; julianday arithmetic, as numbers
        sql = sql.replace(
            "b.created_at <= routing_assignment.created_at + %(window)s",
            "julianday(b.created_at) <= julianday(routing_assignment.created_at) + %(days)s",
        )
        # Only the parameters the statement names: with DEBUG on, Django quotes every one for its query log,
        # and SQLite cannot bind a timedelta (`make demo` stopped there).
        params = {"days": REASSIGN_WINDOW.days}
    return _in_ranges(sql, span=ASSIGNED_IDS, batch=batch, params=params)


_FIRST_DECISION = """
UPDATE routing_assignment SET first_decision = NOT first_decision
WHERE lead_id >= %(lo)s AND lead_id < %(hi)s AND first_decision = EXISTS (
  SELECT 1 FROM routing_assignment b WHERE b.lead_id = routing_assignment.lead_id
   AND (b.created_at < routing_assignment.created_at
        OR (b.created_at = routing_assignment.created_at AND b.id < routing_assignment.id)))
"""


def assignment_first_decision_fill(*, batch: int = 50_000) -> int:
    """Set `first_decision` on each lead's earliest Assignment (by time, then id) and clear it on the
    others, for rows written without the services, in lead id ranges of `batch`, each its own short
    transaction. Only rows whose flag is wrong are written: after migration routing 0008 added the column
    as true, the ~7 % of assignments that follow an earlier one (rewriting every row would double the
    table until a VACUUM FULL). Returns the rows changed."""
    return _in_ranges(_FIRST_DECISION, span=LEAD_IDS, batch=batch)


def assignment_facts_fill(*, batch: int = 50_000) -> int:
    """Fill in the facts of assignments written without them, from the events, in id ranges of
    `batch` rows, each its own short transaction (no long lock). Returns the rows given facts.

    Raw SQL on the table only, so the migration can call it whatever the model grows later."""
    sql = _FILL_POSTGRES if connection.vendor == "postgresql" else _FILL_PORTABLE
    return _in_ranges(sql, span=ASSIGNED_IDS, batch=batch)


_LEAD_CREATED_POSTGRES = """
UPDATE routing_assignment a SET lead_created_at = l.created_at FROM leadops_lead l
WHERE l.id = a.lead_id AND a.id >= %(lo)s AND a.id < %(hi)s AND a.lead_created_at IS NULL
"""
_LEAD_CREATED_PORTABLE = """
UPDATE routing_assignment
SET lead_created_at = (SELECT l.created_at FROM leadops_lead l WHERE l.id = routing_assignment.lead_id)
WHERE id >= %(lo)s AND id < %(hi)s AND lead_created_at IS NULL
"""


def assignment_lead_created_fill(*, batch: int = 50_000) -> int:
    """Copy each lead's `created_at` onto its assignments that lack it (`lead_created_at`), in id ranges of
    `batch`, each its own short transaction. Returns the rows written."""
    sql = _LEAD_CREATED_POSTGRES if connection.vendor == "postgresql" else _LEAD_CREATED_PORTABLE
    return _in_ranges(sql, span=ALL_IDS, batch=batch)
