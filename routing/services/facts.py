"""The report facts on Assignment filled in from the events, for rows written without the services.

The services keep the facts at write time (`assignments_end`, `assignment_facts_record_event`
called by `lead_event_record`). This fills them for rows written before the facts existed (the
migration routing 0004) or in bulk around the services (the demo's generated history). Same
definitions, one set-based statement per id range, each range its own short transaction.
"""

from __future__ import annotations

from django.db import connection, transaction

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


def assignment_facts_fill(*, batch: int = 50_000) -> int:
    """Fill in the facts of assignments written without them, from the events, in id ranges of
    `batch` rows, each its own short transaction (no long lock). Returns the rows given facts.

    Raw SQL on the table only, so the migration can call it whatever the model grows later."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(id), MAX(id) FROM routing_assignment WHERE outcome = 'assigned'")
        lo, hi = cursor.fetchone()
    if lo is None:
        return 0
    sql = _FILL_POSTGRES if connection.vendor == "postgresql" else _FILL_PORTABLE
    updated = 0
    for start in range(lo, hi + 1, batch):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, {"lo": start, "hi": start + batch})
            updated += cursor.rowcount
    return updated
