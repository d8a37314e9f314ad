"""A manager's page for one rep (/reports/reps/<id>/): the rep's figures for the period and their leads.

The figures are the report's own (selectors.rep_report on the rep's assignments in the period), so
this page and the report table never disagree; the lead list is one query.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from reports import selectors
from reps.models import Rep
from routing.models import Assignment

LEADS_SHOWN = 500


@dataclass
class RepLeadRow:
    lead_id: int
    name: str
    company: str
    assigned_at: object
    status: str
    speed_seconds: float | None  # assignment → first contact, when the lead was contacted after it
    outcome: str


def _outcome(assignment: Assignment) -> str:
    if assignment.ended_at and assignment.end_reason:
        return assignment.get_end_reason_display()
    if assignment.lead.owner_id != assignment.rep_id:
        return "moved on"
    return assignment.lead.get_status_display()


def rep_page(
    *, rep: Rep, assignments: QuerySet[Assignment], due: QuerySet[Assignment]
) -> tuple[selectors.RepRow, list[RepLeadRow], int]:
    """(figures, the leads assigned to the rep in the period newest first, how many in all).
    `due`: the assignments whose SLA fell due in the period (the SLA figures)."""
    mine = assignments.filter(rep=rep, outcome=Assignment.Outcome.ASSIGNED)
    report = selectors.rep_report(assignments=mine, due=due.filter(rep=rep), reps=Rep.objects.filter(pk=rep.pk))
    figures = report.rows[0] if report.rows else report.total
    rows = []
    total = mine.count()
    for a in mine.select_related("lead").order_by("-created_at", "-id")[:LEADS_SHOWN]:
        lead = a.lead
        contacted = lead.first_contacted_at
        speed = (contacted - a.created_at).total_seconds() if contacted and contacted >= a.created_at else None
        name = " ".join(p for p in (lead.first_name, lead.last_name) if p) or lead.email or f"Lead {lead.pk}"
        rows.append(
            RepLeadRow(lead.pk, name, lead.company, a.created_at, lead.get_status_display(), speed, _outcome(a))
        )
    return figures, rows, total
